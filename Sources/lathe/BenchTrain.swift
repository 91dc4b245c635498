import ArgumentParser
import Dispatch
import Foundation
import LatheFormats
import LatheModels
import LatheSupport
import LatheTensors
import LatheTraining

/// `lathe bench train`: LoRA training throughput, peak memory and model-FLOP utilisation, beside PyTorch + PEFT
/// on the identical configuration in the same run.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "LoRA training tokens/s, peak RSS and MFU, beside PyTorch + PEFT (via $PYTHON)."
    )

    @OptionGroup var threads: ThreadOptions
    @Option(help: "Model file or directory.") var model = "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "Rows per micro-batch (B).") var batch = 4
    @Option(help: "Tokens per row (T).") var length = 512
    @Option(help: "Timed optimizer steps (after one warm-up step).") var steps = 3
    @Option(help: "LoRA rank.") var rank = 16
    @Option(help: "LoRA alpha.") var alpha = 32.0
    @Option(help: "LoRA dropout on the adapters' inputs (the peer's lora_dropout).") var dropout = 0.0
    @Option(help: "Alternated measurements, each Lathe's (every --base-format) then the peer's; each pair's ratio is printed, then their median. With --no-peer, Lathe is measured once.")
    var pairs = 2
    @Flag(help: "Skip the Python peer.") var noPeer = false
    @Flag(help: "Recompute each layer's forward inside its backward (train.recompute: true); the peer turns on transformers' gradient checkpointing, its equivalent.")
    var recompute = false
    @Flag(help: "Print where the timed steps' wall time goes, per op class, with each class's rate.")
    var profile = false
    @Option(name: .customLong("base-format"),
            help: "How the base is held, repeatable: each is measured in turn (default: auto, then f32; the peer compares with the first).")
    var baseFormat: [BaseFormat] = [.auto, .f32]

    /// Trains `steps` timed steps with the base held as `format`, prints tokens/s and the peak RSS of this
    /// measurement alone (the kernel's high-water mark is reset first), and returns tokens/s, that peak, and the
    /// sgemm ceiling the MFU was taken against: the higher of `rate` (measured before) and a measurement right after
    /// the steps, so a stall during one measurement cannot lower the ceiling and inflate the MFU.
    private func measure(_ chosen: BaseFormat, rate before: Double, bandwidth: Double?) throws -> (Double, Int?, LoadedModel, Double) {
        resetPeakResident()
        let loaded = try ModelLoader.load(model, format: chosen)
        let llama = DecoderModel(weights: loaded.weights, rope: loaded.rope)
        let c = loaded.config
        let lora = LoRAConfig(rank: rank, alpha: alpha, dropout: dropout, targets: LoRAConfig.Module.allCases)
        let adapter = try LoRAAdapter(config: lora, model: c, seed: 0)
        var random = SplitMix64(seed: 0)
        let tokens = (0..<(batch * length)).map { _ in Int32(random.next() % UInt64(c.vocabSize)) }
        let rows = (0..<batch).map { Array(tokens[($0 * length)..<(($0 + 1) * length)]) }
        let micro = try DecoderModel.Batch(rows: rows)
        let targets = rows.flatMap { row in row.indices.map { $0 + 1 < row.count ? row[$0 + 1] : -1 } }
        // The shipped trainer's loop on one repeated micro-batch: step 1 warms up, steps 2… are timed.
        var config = TrainingConfig()
        config.learningRate = 1e-4
        config.schedule = .constant
        config.maxSteps = steps + 1
        config.microBatchSize = batch
        config.maxLength = length
        config.optimizer = AdamW.Hyperparameters()
        config.maxGradNorm = nil
        config.recompute = recompute
        var trainer = try Trainer(model: llama, adapter: adapter, batches: [MicroBatch(batch: micro, targets: targets)], config: config)
        var firstLoss = Double.nan
        var start = DispatchTime.now().uptimeNanoseconds
        let profiler = profile ? OpProfiler.start() : nil
        try trainer.run(progress: { progress in
            guard progress.step == 1 else { return }
            firstLoss = progress.loss
            profiler?.reset()
            start = DispatchTime.now().uptimeNanoseconds
        })
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        profiler?.stop()
        let peak = peakResidentBytes()
        let after = SgemmRate.measure()
        let rate = max(before, after)
        let sizes = DecoderWorkspace.trainingBytes(config: c, lora: adapter.layout, rows: batch * length, recompute: recompute)
        let workspace = sizes.activations + sizes.workspace   // counted, not built again (1.7 GB of page faults)
        let tokensPerSecond = Double(batch * length * steps) / seconds
        let flops = Self.flopsPerToken(c, length: length)
        let mfu = tokensPerSecond * flops / (rate * 1e9)
        let held = loaded.weights.keepsMatricesQuantized ? "kept \(chosen == .auto ? "in the file's form" : chosen.rawValue)" : "fp32"
        print("model \(model)  B=\(batch) T=\(length)\(recompute ? " recompute" : "") LoRA r=\(rank) α=\(format(alpha, decimals: 0))"
              + "\(dropout > 0 ? " dropout \(dropout)" : "") on 7 projections  threads \(Parallel.threads)")
        print("sgemm \(format(before)) GFLOP/s before the steps, \(format(after)) after (MFU against the higher), \(BLASCore.summary); useful work \(format(flops / 1e9, decimals: 3)) GFLOP per token")
        print("lathe    base \(held) (\(megabytes(loaded.weights.byteCount)))  \(format(tokensPerSecond)) tokens/s  peak RSS \(megabytes(peak))  MFU \(format(100 * mfu))%  first loss \(format(firstLoss, decimals: 4))  workspace \(megabytes(workspace))")
        // What the sgemm alone keeps up for about as long as one step: the best-run ceiling above is the bar's, this
        // says how much of the gap to it the machine itself leaves.
        let sustained = SgemmRate.sustained(seconds: min(10, max(3, Int((seconds / Double(steps)).rounded()))))
        let mean = sustained.reduce(0, +) / Double(sustained.count)
        print("sgemm    alone over \(sustained.count) s: mean \(format(mean)) GFLOP/s (each second \(sustained.map { format($0) }.joined(separator: ", "))); "
              + "the steps' useful \(format(tokensPerSecond * flops / 1e9)) GFLOP/s are \(format(100 * tokensPerSecond * flops / (mean * 1e9)))% of that mean")
        let plan = try TrainingPlan.forModel(model, format: chosen, lora: lora, batch: batch, length: length, accumulation: 1,
                                             steps: steps, recompute: recompute, gflops: rate)
        let error = peak.map { format(100 * (Double(plan.peakBytes) / Double($0) - 1)) + "%" } ?? "n/a"
        print("plan     peak \(TrainingPlan.gigabytes(plan.peakBytes)) predicted vs \(TrainingPlan.gigabytes(peak ?? 0)) measured (\(error)); "
              + "\(format(plan.secondsPerStep, decimals: 2)) s/step predicted vs \(format(seconds / Double(steps), decimals: 2)) measured; "
              + plan.terms.map { "\($0.name) \(TrainingPlan.gigabytes($0.bytes))" }.joined(separator: ", "))
        if let profiler, let bandwidth {
            print(profileTable(profiler, seconds: seconds, steps: steps, sgemm: rate, bandwidth: bandwidth))
        }
        return (tokensPerSecond, peak, loaded, rate)
    }

    func validate() throws {
        guard batch >= 1, length >= 2, steps >= 1, rank >= 1, pairs >= 1 else {
            throw ValidationError("--batch, --steps, --rank and --pairs must be ≥ 1, --length ≥ 2")
        }
    }

    /// What one pair measured: Lathe's first configuration beside the peer.
    private struct Pair {
        let ratio: Double
        let rssShare: Double?
        let mfu: Double
    }

    func run() throws {
        threads.configure()
        let bandwidth = profile ? MemoryBandwidth.measure() : nil
        let count = noPeer ? 1 : pairs
        var measured: [Pair] = []
        for pair in 1...count {
            if count > 1 { print("pair \(pair) of \(count)") }
            if let result = try measurePair(bandwidth: bandwidth) { measured.append(result) }
        }
        guard measured.count > 1 else { return }
        let ratios = measured.map(\.ratio), shares = measured.compactMap(\.rssShare), mfus = measured.map(\.mfu)
        print("median   \(format(median(ratios), decimals: 2))× tokens/s over \(measured.count) pairs (the lower middle of an even count) "
              + "(\(ratios.map { format($0, decimals: 2) + "×" }.joined(separator: " / "))); "
              + "peak RSS \(shares.map { format(100 * $0) + "%" }.joined(separator: " / ")) of PyTorch's; "
              + "MFU \(mfus.map { format(100 * $0) + "%" }.joined(separator: " / "))")
    }

    /// Lathe on every `baseFormat` (the sgemm ceiling measured afresh before them), then the peer on the first.
    /// Nil without the peer or when it could not be measured.
    private func measurePair(bandwidth: Double?) throws -> Pair? {
        let rate = SgemmRate.measure()
        var quantizedRate: Double?
        // the configuration the peer is compared with
        var first: (rate: Double, peak: Int?, ceiling: Double, config: ModelConfig)?
        for chosen in baseFormat {
            let (tokensPerSecond, peak, loaded, ceiling) = try measure(chosen, rate: rate, bandwidth: bandwidth)
            first = first ?? (tokensPerSecond, peak, ceiling, loaded.config)
            if loaded.weights.keepsMatricesQuantized { quantizedRate = tokensPerSecond }
            if !loaded.weights.keepsMatricesQuantized, let quantizedRate {
                print("ratio    base kept quantised: \(format(quantizedRate / tokensPerSecond, decimals: 2))× the tokens/s of the fp32 base")
            }
        }
        guard !noPeer, let (tokensPerSecond, peak, ceiling, config) = first else { return nil }
        let flops = Self.flopsPerToken(config, length: length)
        let peer = Peer.run(script: "train_peer.py", arguments: [
            model, "--threads", "\(Parallel.threads)", "--batch", "\(batch)", "--length", "\(length)",
            "--steps", "\(steps)", "--rank", "\(rank)", "--alpha", "\(alpha)", "--dropout", "\(dropout)"] + (recompute ? ["--recompute"] : []))
        guard let result = peer.result, let peerRate = result["tokens_per_s"]?.doubleValue else {
            print("pytorch  not measured: \(peer.failure ?? "unknown")")
            return nil
        }
        let peerRSS = result["peak_rss_bytes"]?.intValue
        print("pytorch  \(format(peerRate)) tokens/s  peak RSS \(megabytes(peerRSS))  MFU \(format(100 * peerRate * flops / (ceiling * 1e9)))%  first loss \(format(result["loss_first"]?.doubleValue ?? .nan, decimals: 4))  (torch \(result["torch"]?.scalarText ?? "?"), peft \(result["peft"]?.scalarText ?? "?"))")
        let rssRatio = peerRSS.flatMap { p in peak.map { Double($0) / Double(p) } }
        print("ratio    \(format(tokensPerSecond / peerRate, decimals: 2))× tokens/s, \(rssRatio.map { format(100 * $0) + "%" } ?? "n/a") of PyTorch's peak RSS "
              + "(Lathe's first configuration, base \(baseFormat[0].rawValue))")
        return Pair(ratio: tokensPerSecond / peerRate, rssShare: rssRatio, mfu: tokensPerSecond * flops / (ceiling * 1e9))
    }

    static func flopsPerToken(_ c: ModelConfig, length: Int) -> Double { TrainingPlan.flopsPerToken(c, length: length) }
}
