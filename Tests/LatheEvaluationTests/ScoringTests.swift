import Foundation
import LatheModels
import Testing

/// Shared-context scoring against padded-batch scoring on the tiny Llama of the model tests (no real model needed).
@Suite struct ScoringTests {
    static func tinyModel(_ name: String) throws -> DecoderModel {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let loaded = try ModelLoader.load(root.appendingPathComponent("LatheModelsTests/Fixtures/\(name)/hf").path)
        return DecoderModel(weights: loaded.weights, rope: loaded.rope)
    }

    @Test(arguments: ["tiny-llama", "tiny-qwen2"]) func sharedContextEqualsPaddedBatches(name: String) throws {
        let model = try Self.tinyModel(name)
        let vocab = Int32(model.config.vocabSize)
        var state: UInt64 = 42
        func token() -> Int32 { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int32((state >> 33) % UInt64(vocab)) }
        let context = (0..<9).map { _ in token() }
        let continuations = [1, 3, 2, 5].map { n in (0..<n).map { _ in token() } }
        let shared = try model.scoreSharedContext(context, continuations: continuations)
        let padded = try model.scoreContinuations(continuations.map { (context, $0) }, maxLength: 64)
        for (a, b) in zip(shared, padded) {
            #expect(abs(a.logLikelihood - b.logLikelihood) < 1e-4)
            #expect(a.isGreedy == b.isGreedy && a.tokenCount == b.tokenCount)
        }
        // A continuation made of the greedy tokens is greedy.
        var cache = KVCache(config: model.config, capacity: 16)
        let logits = try model.step(context, cache: &cache)
        let best = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
        #expect(try model.scoreSharedContext(context, continuations: [[best]])[0].isGreedy)
    }

    @Test func truncationKeepsTheLastTokens() throws {
        let model = try Self.tinyModel("tiny-llama")
        let long = try model.scoreContinuations([(Array(repeating: 5, count: 20), [7, 8])], maxLength: 6)
        let short = try model.scoreContinuations([(Array(repeating: 5, count: 5), [7, 8])], maxLength: 6)
        #expect(abs(long[0].logLikelihood - short[0].logLikelihood) < 1e-5)
    }
}
