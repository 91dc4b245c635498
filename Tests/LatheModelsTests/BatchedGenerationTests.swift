import Foundation
import LatheFormats
import LatheModels
import Testing

/// `Generator.generate(prompts:streams:)` (evaluation's `generate_until`): prompts decoded together, a finished
/// one replaced by the next, give each prompt the tokens and stop reason it gets alone, for any number of streams up
/// to `Generator.exactStreams`.
@Suite struct BatchedGenerationTests {
    /// Prompts of different lengths, so streams sit at different positions and finish at different steps.
    static func prompts(vocab: Int) -> [[Int32]] {
        (1...7).map { length in (0..<length).map { Int32(($0 * 53 + length * 11) % vocab) } }
    }

    static func expectSameAsAlone(_ generator: Generator, _ prompts: [[Int32]], decode: @escaping ([Int32]) -> String = { _ in "" }) throws {
        let alone = try prompts.map { try generator.generate(prompt: $0, decode: decode) }
        for streams in 1...Generator.exactStreams {
            var finished = [Int]()
            let together = try generator.generate(prompts: prompts, streams: streams, decode: decode) { finished.append($0) }
            #expect(together.count == prompts.count)
            #expect(finished.sorted() == Array(prompts.indices), "each prompt finishes once")
            for (i, (batched, single)) in zip(together, alone).enumerated() {
                #expect(batched.tokens == single.tokens && batched.reason == single.reason,
                        "prompt \(i), \(streams) streams: \(batched.tokens) (\(batched.reason)) alone \(single.tokens) (\(single.reason))")
            }
        }
    }

    @Test(arguments: [GGMLType.q4_1, .f32])
    func tinyModelStreamsMatchTheirSingleRuns(type: GGMLType) throws {
        let path = try TinyQuantizedGGUF.write(type, seed: 31)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try ModelLoader.load(path)
        let model = DecoderModel(weights: loaded.weights, rope: loaded.rope)
        let prompts = Self.prompts(vocab: TinyQuantizedGGUF.vocab)
        // Every prompt runs to max_tokens …
        var generator = Generator(model: model, maxTokens: 9, stopTokens: [])
        try Self.expectSameAsAlone(generator, prompts)
        // … then a stop token each prompt's own run reaches at a different step, so streams leave the batch early
        // and later prompts take their places.
        let firstRuns = try prompts.map { try generator.generate(prompt: $0).tokens }
        let stop = firstRuns.compactMap { $0.count > 3 ? $0[3] : nil }.first!
        generator.stopTokens = [stop]
        let stopped = try prompts.map { try generator.generate(prompt: $0) }
        #expect(stopped.contains { $0.reason == .endOfSequence } && stopped.contains { $0.reason == .maxTokens },
                "the stop token should end some prompts early and not others")
        try Self.expectSameAsAlone(generator, prompts)
        // A stop string, checked on the decoded text of each stream.
        generator.stopTokens = []
        generator.stopStrings = ["<\(firstRuns[2][4])>"]
        try Self.expectSameAsAlone(generator, prompts, decode: { $0.map { "<\($0)>" }.joined() })
        // No tokens at all.
        generator.maxTokens = 0
        #expect(try generator.generate(prompts: prompts, streams: 3).allSatisfy { $0.tokens.isEmpty && $0.reason == .maxTokens })
        #expect(throws: ModelError.self) { try generator.generate(prompts: [[1], []], streams: 2) }
    }

    @Test(.enabled(if: SmolLM2.isPresent, "run `make model` to fetch SmolLM2-135M-Instruct"))
    func smolLM2StreamsMatchTheirSingleRuns() throws {
        let url = Golden.fixtures.appendingPathComponent("smollm2/generation.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let golden = (json["prompt_ids"] as! [Int]).map(Int32.init)
        let prompts = [golden, Array(golden.prefix(9)), Array(golden.dropFirst(4)), [1, 504, 2365, 282]]
        try Self.expectSameAsAlone(Generator(model: try SmolLM2.model(), maxTokens: 12), prompts)
    }
}
