import ArgumentParser
import Dispatch
import Foundation
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

    @OptionGroup var options: BenchOptions
    @Option(help: "Model file or directory.") var model = "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "Rows per micro-batch (B).") var batch = 4
    @Option(help: "Tokens per row (T).") var length = 512
    @Option(help: "Timed optimizer steps (after one warm-up step).") var steps = 3
    @Option(help: "LoRA rank.") var rank = 16
    @Option(help: "LoRA alpha.") var alpha = 32.0
    @Flag(help: "Skip the Python peer.") var noPeer = false

    func run() throws {
        try options.configure()
        let rate = SgemmRate.measure()
        let loaded = try ModelLoader.load(model)
        let llama = LlamaModel(weights: loaded.weights, rope: loaded.rope)
        let c = loaded.config
        let lora = LoRAConfig(rank: rank, alpha: alpha, targets: LoRAConfig.Module.allCases)
        var adapter = try LoRAAdapter(config: lora, model: c, seed: 0)
        var random = SplitMix64(seed: 0)
        let tokens = (0..<(batch * length)).map { _ in Int32(random.next() % UInt64(c.vocabSize)) }
        let rows = (0..<batch).map { Array(tokens[($0 * length)..<(($0 + 1) * length)]) }
        let micro = try LlamaModel.Batch(rows: rows)
        let targets = rows.flatMap { row in row.indices.map { $0 + 1 < row.count ? row[$0 + 1] : -1 } }
        let workspace = TrainingWorkspace(config: c, lora: adapter.layout, rows: batch * length)
        var optimizer = AdamW(count: adapter.layout.totalCount, hyper: .init())
        var gradients = [Float](repeating: 0, count: adapter.layout.totalCount)
        func step() throws -> Double {
            for i in gradients.indices { gradients[i] = 0 }
            let count = targets.filter { $0 >= 0 }.count
            let loss = try llama.trainingStep(micro, targets: targets, adapter: adapter, gradients: &gradients,
                                              lossScale: 1 / Float(count), dropoutKey: 0, workspace: workspace)
            optimizer.update(&adapter.parameters, gradients: gradients, lr: 1e-4)
            return loss.lossSum / Double(loss.targetCount)
        }
        let firstLoss = try step()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { _ = try step() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let tokensPerSecond = Double(batch * length * steps) / seconds
        let flops = Self.flopsPerToken(c, length: length)
        let mfu = tokensPerSecond * flops / (rate * 1e9)
        print("model \(model)  B=\(batch) T=\(length) LoRA r=\(rank) α=\(format(alpha, decimals: 0)) on 7 projections  threads \(Parallel.threads)")
        print("sgemm \(format(rate)) GFLOP/s; useful work \(format(flops / 1e9, decimals: 3)) GFLOP per token")
        print("lathe    \(format(tokensPerSecond)) tokens/s  peak RSS \(megabytes(peakResidentBytes()))  MFU \(format(100 * mfu))%  first loss \(format(firstLoss, decimals: 4))  workspace \(megabytes(workspace.byteCount))")
        guard !noPeer else { return }
        let peer = Peer.run(script: "Scripts/bench/train_peer.py", arguments: [
            model, "--threads", "\(Parallel.threads)", "--batch", "\(batch)", "--length", "\(length)",
            "--steps", "\(steps)", "--rank", "\(rank)", "--alpha", "\(alpha)"])
        guard let result = peer.result, let peerRate = result["tokens_per_s"] as? Double else {
            print("pytorch  not measured: \(peer.failure ?? "unknown")")
            return
        }
        let peerRSS = result["peak_rss_bytes"] as? Int
        print("pytorch  \(format(peerRate)) tokens/s  peak RSS \(megabytes(peerRSS))  MFU \(format(100 * peerRate * flops / (rate * 1e9)))%  first loss \(format(result["loss_first"] as? Double ?? .nan, decimals: 4))  (torch \(result["torch"] ?? "?"), peft \(result["peft"] ?? "?"))")
        let rssRatio = peerRSS.flatMap { p in peakResidentBytes().map { Double($0) / Double(p) } }
        print("ratio    \(format(tokensPerSecond / peerRate, decimals: 2))× tokens/s, \(rssRatio.map { format(100 * $0) + "%" } ?? "n/a") of PyTorch's peak RSS")
    }

    /// Useful FLOPs per trained token with the base frozen: forward (2 per weight) plus the input-gradient
    /// GEMMs of the backward (2 per weight) over every projection and the LM head; causal attention's
    /// QKᵀ and PV (half the T×T scores) once forward and twice backward. LoRA's own work is left out.
    static func flopsPerToken(_ c: ModelConfig, length: Int) -> Double {
        let (cw, f, q, kv) = (Double(c.hiddenSize), Double(c.intermediateSize), Double(c.headCount * c.headDim),
                              Double(c.keyValueHeadCount * c.headDim))
        let projections = Double(c.layerCount) * (cw * q * 2 + cw * kv * 2 + 3 * cw * f)
        let head = Double(c.vocabSize) * cw
        let attention = Double(c.layerCount) * 2 * 2 * Double(length) / 2 * q
        return 4 * (projections + head) + 3 * attention
    }
}
