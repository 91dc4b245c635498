import Testing
@testable import LatheTokenizers

/// Streaming decode yields complete characters only and concatenates to the full decode.
@Suite struct StreamingDecoderTests {
    @Test(arguments: ["smollm2", "sentencepiece", "sentencepiece_gguf"])
    func streamEqualsFullDecode(_ name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        for text in ["Hello world", "emoji 👍🏽 family 👨‍👩‍👧‍👦", "你好，世界！ 안녕하세요", "naïve café\n\ttabs"] {
            let ids = tokenizer.encode(text)
            var stream = StreamingDecoder(tokenizer: tokenizer)
            var pieces = [String]()
            for id in ids { pieces.append(stream.push(id)) }
            pieces.append(stream.finish())
            #expect(pieces.joined() == tokenizer.decode(ids), "\(name): \(text)")
            #expect(!pieces.contains { $0.unicodeScalars.contains("\u{FFFD}") })
        }
    }

    @Test func holdsBackIncompleteUTF8() throws {
        let tokenizer = try Fixtures.tokenizer("smollm2")
        let ids = tokenizer.encode("👍")  // byte-level: the 4 bytes split over several tokens
        #expect(ids.count > 1)
        var stream = StreamingDecoder(tokenizer: tokenizer)
        let outputs = ids.map { stream.push($0) }
        #expect(outputs.dropLast().allSatisfy { $0.isEmpty })
        #expect(outputs.last == "👍")
    }
}
