import Foundation
import LatheFormats
import LatheModels
import Testing

/// The issue-14 architectures against transformers (Scripts/goldens/models.py, architectures.py), each from its HF
/// directory and its GGUF: logits (1e-4 max abs, the bar), log-probs through the chunked scoring path, the
/// 8 greedy ids after a 4-token prompt through the KV-cache generator (identical), and the cache and prefix-scoring
/// paths against the batch forward (1e-4).
@Suite struct ArchitectureGoldenTests {
    static let variants: [(String, String)] = [
        ("tiny-qwen3", "hf"), ("tiny-qwen3", "gguf-F32"),
        ("tiny-llama32", "hf"), ("tiny-llama32", "gguf-F32"),
        ("tiny-mistral-sw", "hf"), ("tiny-mistral-sw", "gguf-F32"),
        ("tiny-gemma3", "hf"), ("tiny-gemma3", "gguf-F32"),
        ("tiny-phi3", "hf"), ("tiny-phi3", "gguf-F32"), ("tiny-phi3", "gguf-Q8_0"),
    ]
    static let models = Array(Set(variants.map(\.0))).sorted()

    static func model(_ name: String, _ variant: String) throws -> DecoderModel {
        let loaded = try ModelLoader.load(Golden.modelPath(name, variant: variant))
        return DecoderModel(weights: loaded.weights, rope: loaded.rope)
    }

    /// The golden's two rows of `input_ids` (2, T).
    static func rows(_ golden: SafetensorsFile) throws -> [[Int32]] {
        let ids = try Golden.integers(golden, "input_ids"), t = ids.count / 2
        return [Array(ids[0..<t]), Array(ids[t...])]
    }

    @Test(arguments: variants)
    func logitsEqualTransformers(model name: String, variant: String) throws {
        let golden = try SafetensorsFile(path: Golden.path("\(name)/golden.safetensors"))
        let rows = try Self.rows(golden)
        let model = try Self.model(name, variant)
        let logits = try model.logits(try DecoderModel.Batch(rows: rows))
        let difference = maxAbsDifference(logits.storage, try golden.floats("logits.\(variant)"))
        #expect(difference < 1e-4, "\(name) \(variant): max abs difference \(difference)")
    }

    /// Phi-3's LongRoPE uses its short factors while a pass stays within the original context (8 positions here).
    @Test(arguments: variants.filter { $0.0 == "tiny-phi3" })
    func shortContextLogitsEqualTransformers(model name: String, variant: String) throws {
        let golden = try SafetensorsFile(path: Golden.path("\(name)/golden.safetensors"))
        let rows = try Self.rows(golden).map { Array($0.prefix(8)) }
        let logits = try Self.model(name, variant).logits(try DecoderModel.Batch(rows: rows))
        let difference = maxAbsDifference(logits.storage, try golden.floats("short.logits.\(variant)"))
        #expect(difference < 1e-4, "\(name) \(variant): max abs difference \(difference)")
    }

    @Test(arguments: variants)
    func logProbsEqualTransformers(model name: String, variant: String) throws {
        let golden = try SafetensorsFile(path: Golden.path("\(name)/golden.safetensors"))
        let rows = try Self.rows(golden), t = rows[0].count
        let model = try Self.model(name, variant)
        let targets = rows.flatMap { row in row.indices.map { $0 + 1 < row.count ? row[$0 + 1] : -1 } }
        let scores = try model.tokenLogProbs(try DecoderModel.Batch(rows: rows), targets: targets, chunkRows: 3)
        let got = rows.indices.flatMap { r in (0..<(t - 1)).map { scores[r * t + $0] } }
        let difference = maxAbsDifference(got, try golden.floats("logprobs.\(variant)"))
        #expect(difference < 1e-4, "\(name) \(variant): max abs difference \(difference)")
    }

    @Test(arguments: variants)
    func greedyIdsEqualTransformers(model name: String, variant: String) throws {
        let golden = try SafetensorsFile(path: Golden.path("\(name)/golden.safetensors"))
        let prompt = try Golden.integers(golden, "greedy.prompt")
        let expected = try Golden.integers(golden, "greedy.\(variant)")
        let generator = Generator(model: try Self.model(name, variant), maxTokens: expected.count, stopTokens: [])
        let (tokens, _) = try generator.generate(prompt: prompt)
        #expect(tokens == expected, "\(name) \(variant): \(tokens) vs \(expected)")
    }

    /// The three attention sources of the one decoder layer agree: each KV-cache step with the last row of a batch
    /// forward over the same prefix (a full forward pass per token, as transformers' greedy check does — LongRoPE
    /// switches factors with the length), and prefix scoring of two continuations after a shared context with
    /// padded batches of the whole sequences.
    @Test(arguments: models)
    func cacheAndPrefixPathsEqualTheBatchForward(model name: String) throws {
        let golden = try SafetensorsFile(path: Golden.path("\(name)/golden.safetensors"))
        let ids = try Self.rows(golden)[0], length = ids.count
        let model = try Self.model(name, "hf")
        let vocab = model.config.vocabSize
        var cache = KVCache(config: model.config, capacity: length)
        var logits = try model.step(Array(ids[0..<3]), cache: &cache)
        for t in 3..<length {
            let batch = try model.logits(try DecoderModel.Batch(rows: [Array(ids[0..<t])])).storage
            #expect(maxAbsDifference(logits, Array(batch[((t - 1) * vocab)...])) < 1e-4, "\(name) position \(t - 1)")
            logits = try model.step([ids[t]], cache: &cache)
        }
        let context = Array(ids[0..<3]), continuations = [Array(ids[3..<length]), Array(ids[3..<5])]
        let shared = try model.scoreSharedContext(context, continuations: continuations)
        let separate = try model.scoreContinuations(continuations.map { (context, $0) }, maxLength: 64)
        for (a, b) in zip(shared, separate) {
            #expect(abs(a.logLikelihood - b.logLikelihood) < 1e-4, "\(name): \(a) vs \(b)")
            #expect(a.isGreedy == b.isGreedy)
        }
    }
}
