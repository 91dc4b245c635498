import ArgumentParser
import Dispatch
import Foundation
import LatheFormats
import LatheModels
import LatheSupport

/// `lathe bench generate`: single-stream greedy decode tokens/s beside llama.cpp in the same run (alternated pairs),
/// and batched decode of many streams (aggregate tokens/s) — the KV-step path over the base in its stored form.
struct BenchGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Single-stream decode tokens/s beside llama.cpp (via $PYTHON, alternated pairs), and batched decode of many streams."
    )

    @OptionGroup var threads: ThreadOptions
    @OptionGroup var base: BaseFormatOption
    @Option(help: "Model file or directory.") var model = "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "Prompt the streams decode after.") var prompt = "The history of the lighthouse"
    @Option(help: "Tokens decoded per stream (greedy, past end-of-sequence).") var tokens = 128
    @Option(help: "Single-stream measurements, each Lathe's then llama.cpp's.") var pairs = 2
    @Option(help: "Streams of the batched decode measurement (0 skips it).") var streams = 16
    @Option(name: .customLong("decode-activations"), parsing: .upToNextOption,
            help: ArgumentHelp("The activation modes measured (fp32, q8; default both).", valueName: "kind"))
    var activations: [DecodeActivations] = DecodeActivations.allCases
    @Flag(help: "Skip the llama.cpp peer.") var noPeer = false

    func validate() throws {
        guard tokens >= 2, pairs >= 1, streams >= 0, !activations.isEmpty else {
            throw ValidationError("--tokens must be at least 2, --pairs at least 1, --streams at least 0 and --decode-activations name a mode")
        }
    }

    func run() throws {
        threads.configure()
        let loaded = try ModelLoader.load(model, format: base.format)
        // The same base with fp32 activations (the default) and with 8-bit ones (`--decode-activations q8`).
        let decoders: [(DecodeActivations, DecoderModel)] = Array(Set(activations)).sorted { $0.rawValue < $1.rawValue }.map { mode in
            var weights = loaded.weights
            weights.decodeActivations = mode
            return (mode, DecoderModel(weights: weights, rope: loaded.rope))
        }
        let ids = try loaded.tokenizer().encode(prompt, addSpecialTokens: true)
        guard !ids.isEmpty else { throw ValidationError("--prompt encodes to no tokens") }
        let stored = loaded.weights.byteCount
        print("model \(model)  base held as \(loaded.weights.keepsMatricesQuantized ? "its stored quants" : "fp32") (\(megabytes(stored)))  threads \(Parallel.threads)")
        print("single-stream greedy decode of \(tokens) tokens after \(ids.count) prompt tokens, prefill excluded;")
        print("Lathe with \(decoders.map { "\($0.0)" }.joined(separator: " and ")) activations (fp32 the default; q8 rounds them to 8 bits, llama.cpp's numerics):")
        for (_, decoder) in decoders { _ = try singleStream(decoder, ids, count: 8) }   // warm-up
        var ours = [DecodeActivations: [Double]](), ratios = [DecodeActivations: [Double]](), peerRates = [Double]()
        for pair in 1...pairs {
            var line = "pair \(pair)"
            var runs = [(DecodeActivations, Double, [Int32])]()
            for (activations, decoder) in decoders {
                let (rate, generated) = try singleStream(decoder, ids, count: tokens)
                ours[activations, default: []].append(rate)
                runs.append((activations, rate, generated))
                line += "   Lathe \(activations) \(format(rate)) tokens/s (\(format(rate * Double(stored) / 1e9)) GB/s)"
            }
            if !noPeer {
                let peer = Peer.llamaCppDecode(model: model, promptIds: ids, tokens: tokens, threads: Parallel.threads)
                if let peer = peer.decode {
                    peerRates.append(peer.tokensPerSecond)
                    line += "   llama.cpp \(format(peer.tokensPerSecond)) tokens/s (llama-cpp-python \(peer.version))"
                    for (activations, rate, generated) in runs {
                        ratios[activations, default: []].append(rate / peer.tokensPerSecond)
                        let agree = zip(peer.firstTokens, generated).prefix { $0 == $1 }.count
                        line += "   \(activations) \(format(rate / peer.tokensPerSecond, decimals: 2))× (greedy tokens agree for \(agree)/\(min(peer.firstTokens.count, generated.count)))"
                    }
                } else {
                    line += "   llama.cpp not measured: \(peer.failure ?? "unknown")"
                }
            }
            print(line)
        }
        for (activations, _) in decoders {
            guard let values = ratios[activations] else { continue }
            print("single stream, \(activations) activations, vs llama.cpp  median \(format(median(values), decimals: 2))× over \(values.count) pairs")
        }
        if let fp32 = decoders.first(where: { $0.0 == .fp32 })?.1 {   // evaluation decodes with fp32 activations
            let prompts = (0..<16).map { ids + [Int32($0 * 97 + 13) % Int32(fp32.config.vocabSize)] }
            let generator = Generator(model: fp32, maxTokens: tokens, stopTokens: [])
            var line = "evaluation's generate_until (Generator.generate(prompts:streams:)), \(prompts.count) prompts × \(tokens) tokens:"
            for streams in [1, Generator.exactStreams] {
                let start = DispatchTime.now().uptimeNanoseconds
                let generated = try generator.generate(prompts: prompts, streams: streams)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                line += "  \(streams) at a time \(format(Double(generated.reduce(0) { $0 + $1.tokens.count }) / seconds)) tokens/s"
            }
            print(line + " (prefill included; the same tokens either way)")
        }
        guard streams > 0 else { return }
        for (activations, decoder) in decoders {
            let batched = try batchedDecode(decoder, ids, streams: streams, count: tokens)
            let single = median(ours[activations] ?? [])
            var line = "batched decode of \(streams) streams, \(activations) activations: \(format(batched)) tokens/s aggregate"
            line += " (\(format(batched / single, decimals: 2))× Lathe's single stream"
            if let fastest = peerRates.max() {
                line += ", \(format(batched / median(peerRates), decimals: 2))× llama.cpp's single-stream median"
                line += " and \(format(batched / fastest, decimals: 2))× its fastest pair"
            }
            print(line + ")")
        }
    }

    /// Tokens/s of one greedy stream from the first generated token to the `count`-th (`DecoderModel.step`, the
    /// path `lathe generate` runs), and the generated ids.
    private func singleStream(_ decoder: DecoderModel, _ ids: [Int32], count: Int) throws -> (Double, [Int32]) {
        var cache = KVCache(config: decoder.config, capacity: ids.count + count)
        var logits = try decoder.step(ids, cache: &cache)
        var generated = [Int32(argmaxIndex(logits))]
        let start = DispatchTime.now().uptimeNanoseconds
        while generated.count < count {
            logits = try decoder.step([generated.last!], cache: &cache)
            generated.append(Int32(argmaxIndex(logits)))
        }
        return (Double(count - 1) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9), generated)
    }

    /// Aggregate tokens/s of `streams` greedy streams decoded together (`DecoderModel.decodeStep`, the batched step
    /// `lathe serve` runs), each after the prompt with a different last token so the streams differ; prefill excluded.
    private func batchedDecode(_ decoder: DecoderModel, _ ids: [Int32], streams: Int, count: Int) throws -> Double {
        let vocab = Int32(decoder.config.vocabSize)
        let caches = (0..<streams).map { _ in SequenceCache(config: decoder.config, capacity: ids.count + count + 1) }
        var next = [Int32]()
        for (s, cache) in caches.enumerated() {
            let hidden = try decoder.prefill(ids + [Int32(s * 97 + 13) % vocab], cache: cache, adapter: nil)
            next.append(Int32(argmaxIndex(decoder.logits(hidden: hidden, first: ids.count, rows: 1))))
        }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 1..<count {
            let logits = try decoder.decodeStep(next, caches: caches, adapter: nil)   // (streams, V)
            let v = decoder.config.vocabSize
            next = (0..<streams).map { s in Int32(argmaxIndex(Array(logits[(s * v)..<((s + 1) * v)]))) }
        }
        return Double(streams * (count - 1)) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

}
