import Foundation
import LatheFormats
import LatheModels
import Testing

/// Logits of the tiny Llama, Llama-3 (llama3 RoPE, tied) and Qwen2 models, loaded from every format, against
/// transformers on the very same file. Tolerance: 1e-4 max abs (the bar for fp32).
@Suite struct ForwardGoldenTests {
    static let variants: [(String, String)] = [
        ("tiny-llama", "hf"), ("tiny-llama", "hf-bf16"), ("tiny-llama", "hf-sharded"),
        ("tiny-llama", "gguf-F32"), ("tiny-llama", "gguf-F16"), ("tiny-llama", "gguf-Q8_0"), ("tiny-llama", "gguf-Q4_0"),
        ("tiny-llama3", "hf"), ("tiny-llama3", "gguf-F32"), ("tiny-llama3", "gguf-Q4_0"),
        ("tiny-qwen2", "hf"), ("tiny-qwen2", "gguf-F32"), ("tiny-qwen2", "gguf-Q8_0"),
    ]

    @Test(arguments: variants)
    func logitsEqualTransformers(model: String, variant: String) throws {
        let golden = try SafetensorsFile(path: Golden.path("\(model)/golden.safetensors"))
        let ids = try Golden.integers(golden, "input_ids")
        let loaded = try ModelLoader.load(Golden.modelPath(model, variant: variant))
        let llama = DecoderModel(weights: loaded.weights, rope: loaded.rope)
        let rows = [Array(ids[0..<7]), Array(ids[7..<14])]
        let logits = try llama.logits(try DecoderModel.Batch(rows: rows))
        let expected = try golden.floats("logits.\(variant)")
        let difference = maxAbsDifference(logits.storage, expected)
        #expect(difference < 1e-4, "\(model) \(variant): max abs difference \(difference)")
    }

    @Test(arguments: variants)
    func scoringPathEqualsTransformersLogProbs(model: String, variant: String) throws {
        let golden = try SafetensorsFile(path: Golden.path("\(model)/golden.safetensors"))
        let ids = try Golden.integers(golden, "input_ids")
        let loaded = try ModelLoader.load(Golden.modelPath(model, variant: variant))
        let llama = DecoderModel(weights: loaded.weights, rope: loaded.rope)
        let rows = [Array(ids[0..<7]), Array(ids[7..<14])]
        // Target of position t is token t+1; the last position of each row has none.
        let targets = rows.flatMap { row in row.indices.map { $0 + 1 < row.count ? row[$0 + 1] : -1 } }
        let scores = try llama.tokenLogProbs(try DecoderModel.Batch(rows: rows), targets: targets, chunkRows: 3)
        let got = rows.indices.flatMap { r in (0..<6).map { scores[r * 7 + $0] } }
        let difference = maxAbsDifference(got, try golden.floats("logprobs.\(variant)"))
        #expect(difference < 1e-4, "\(model) \(variant): max abs difference \(difference)")
    }

    @Test func packedSequencesDoNotAttendAcrossSegments() throws {
        let golden = try SafetensorsFile(path: Golden.path("tiny-llama/golden.safetensors"))
        let ids = Array(try Golden.integers(golden, "input_ids")[0..<7])
        let positions = try Golden.integers(golden, "position_ids.packed")
        let segments = try Golden.integers(golden, "segments")
        let loaded = try ModelLoader.load(Golden.modelPath("tiny-llama", variant: "hf"))
        let llama = DecoderModel(weights: loaded.weights)
        let batch = DecoderModel.Batch(tokens: ids, positions: positions, segments: segments, batch: 1, length: 7)
        let difference = maxAbsDifference(try llama.logits(batch).storage, try golden.floats("logits.packed"))
        #expect(difference < 1e-4, "packed: max abs difference \(difference)")
    }

    @Test func cachedGenerationPathEqualsBatchLogits() throws {
        let golden = try SafetensorsFile(path: Golden.path("tiny-qwen2/golden.safetensors"))
        let ids = Array(try Golden.integers(golden, "input_ids")[0..<7])
        let loaded = try ModelLoader.load(Golden.modelPath("tiny-qwen2", variant: "hf"))
        let llama = DecoderModel(weights: loaded.weights)
        let expected = try golden.floats("logits.hf")
        var cache = KVCache(config: loaded.config, capacity: 7)
        // Prefill 4 tokens, then one token at a time: every step's logits equal the batch forward's row.
        var logits = try llama.step(Array(ids[0..<4]), cache: &cache)
        for t in 4..<7 {
            let row = Array(expected[((t - 1) * 320)..<(t * 320)])
            #expect(maxAbsDifference(logits, row) < 1e-4, "position \(t - 1)")
            logits = try llama.step([ids[t]], cache: &cache)
        }
        #expect(maxAbsDifference(logits, Array(expected[(6 * 320)..<(7 * 320)])) < 1e-4)
    }
}
