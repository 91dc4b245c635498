import LatheModels
import LatheTokenizers

/// The text of one choice as its tokens arrive: decoded incrementally, cut at the first stop string (which is
/// not part of the answer, as in OpenAI's API), and released in pieces that can never turn out to be the start
/// of a stop string — so a stream shows exactly the final text.
struct ChoiceText {
    private var decoder: StreamingDecoder
    private let stops: [[UInt8]]
    private var bytes: [UInt8] = []
    private var released = 0
    /// True once a stop string was found: the text is final.
    private(set) var hitStop = false
    /// Generated tokens (the end-of-sequence token included when it was scored).
    private(set) var tokens: [Int32] = []
    private(set) var scores: [TokenLogProb] = []

    init(tokenizer: Tokenizer, stops: [String]) {
        decoder = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: true)
        self.stops = stops.map { Array($0.utf8) }
    }

    /// Adds a token; returns the text that may now be shown.
    mutating func push(_ token: Int32, score: TokenLogProb?, isStop: Bool) -> String {
        guard !hitStop else { return "" }
        tokens.append(token)
        if let score { scores.append(score) }
        if isStop { return "" }
        bytes += Array(decoder.push(token).utf8)
        return release(final: false)
    }

    /// The rest of the text once generation has ended.
    mutating func finish() -> String {
        guard !hitStop else { return "" }
        bytes += Array(decoder.finish().utf8)
        return release(final: true)
    }

    /// All text so far (up to a stop string).
    var text: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func release(final: Bool) -> String {
        if let cut = firstStop() {
            bytes.removeSubrange(cut...)
            hitStop = true
            return take(upTo: cut)
        }
        let longest = stops.map(\.count).max() ?? 0
        var end = final ? bytes.count : max(released, bytes.count - max(0, longest - 1))
        // Never split a UTF-8 character: back up to the first byte of one.
        while end < bytes.count, end > released, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return take(upTo: end)
    }

    private mutating func take(upTo end: Int) -> String {
        guard end > released else { return "" }
        defer { released = end }
        return String(decoding: bytes[released..<end], as: UTF8.self)
    }

    /// Byte offset of the earliest stop string in the text.
    private func firstStop() -> Int? {
        var best: Int?
        for stop in stops where !stop.isEmpty && stop.count <= bytes.count {
            // Only the region that could hold a match not seen before needs scanning.
            let from = max(0, released - stop.count + 1)
            var i = from
            while i + stop.count <= bytes.count {
                if bytes[i] == stop[0] && bytes[i..<(i + stop.count)].elementsEqual(stop) {
                    best = min(best ?? i, i)
                    break
                }
                i += 1
            }
        }
        return best
    }
}
