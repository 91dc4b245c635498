import ArgumentParser
import Dispatch
import Foundation
import LatheFormats
import LatheModels
import LatheSupport
import LatheTensors

/// `lathe bench forward`: model load time, prefill and decode speed, beside transformers in the same run.
struct BenchForward: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Prefill (B=1) and decode tokens/s of a model, beside transformers on the same GGUF (via $PYTHON)."
    )

    @OptionGroup var threads: ThreadOptions
    @Option(help: "Model file or directory.") var model = "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "Prompt tokens for the prefill measurement.") var prefill = 512
    @Option(help: "Tokens generated one at a time for the decode measurement.") var decode = 64
    @Flag(help: "Skip the Python peer.") var noPeer = false

    func validate() throws {
        guard prefill >= 1, decode >= 1 else { throw ValidationError("--prefill and --decode must be ≥ 1") }
    }

    func run() throws {
        threads.configure()
        let rate = SgemmRate.measure()
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let loaded = try ModelLoader.load(model)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        let rssAfterLoad = peakResidentBytes()
        let llama = DecoderModel(weights: loaded.weights)
        let vocab = Int32(loaded.config.vocabSize)
        var random = SplitMix64(seed: 0)
        let prompt = (0..<prefill).map { _ in Int32(random.next() % UInt64(vocab)) }

        var bestPrefill = Double.infinity, bestDecode = Double.infinity
        for _ in 0..<3 {
            var cache = KVCache(config: loaded.config, capacity: prefill + decode)
            var start = DispatchTime.now().uptimeNanoseconds
            var logits = try llama.step(prompt, cache: &cache)
            bestPrefill = min(bestPrefill, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<decode {
                logits = try llama.step([Int32(argmaxIndex(logits))], cache: &cache)
            }
            bestDecode = min(bestDecode, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        // Useful FLOPs per prefill token: 2 × (non-embedding parameters) for the projections (LM head only for the last token).
        let c = loaded.config
        let perToken = Double(2 * (c.parameterCount - c.vocabSize * c.hiddenSize * (c.tieWordEmbeddings ? 1 : 2)))
        let prefillRate = Double(prefill) / bestPrefill
        print("model \(model)  threads \(Parallel.threads)  sgemm \(format(rate)) GFLOP/s, \(BLASCore.summary)")
        print("lathe        load \(format(loadSeconds, decimals: 2)) s  RSS after load \(megabytes(rssAfterLoad))  prefill \(format(prefillRate)) tok/s (\(format(100 * prefillRate * perToken / 1e9 / rate))% of sgemm)  decode \(format(Double(decode) / bestDecode)) tok/s")
        guard !noPeer else { return }
        let peer = Peer.run(script: "forward_peer.py",
                            arguments: [model, "--threads", "\(Parallel.threads)", "--prefill", "\(prefill)", "--decode", "\(decode)"])
        if let result = peer.result, let p = result["prefill_tokens_per_s"]?.doubleValue, let d = result["decode_tokens_per_s"]?.doubleValue {
            let load = result["load_s"]?.doubleValue ?? .nan
            print("transformers load \(format(load, decimals: 2)) s  prefill \(format(p)) tok/s  decode \(format(d)) tok/s  (torch \(result["torch"]?.scalarText ?? "?"))")
            print("ratio        prefill \(format(prefillRate / p, decimals: 2))×  decode \(format(Double(decode) / bestDecode / d, decimals: 2))×")
        } else {
            print("transformers not measured: \(peer.failure ?? "unknown")")
        }
    }
}

func argmaxIndex(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}

func megabytes(_ bytes: Int?) -> String {
    bytes.map { "\(format(Double($0) / 1_048_576, decimals: 0)) MB" } ?? "n/a"
}
