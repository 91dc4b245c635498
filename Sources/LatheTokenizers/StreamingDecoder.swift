/// Decodes ids one at a time during generation, holding back text until it is complete UTF-8: a token that ends
/// inside a multi-byte character yields nothing until the token that completes it arrives.
/// Decodes a window of recent ids and emits only the new suffix, so decoders that look at neighbours
/// (Metaspace, Strip) give the same text as decoding everything at once.
public struct StreamingDecoder {
    private let tokenizer: Tokenizer
    private let skipSpecialTokens: Bool
    private var ids: [Int32] = []
    private var prefixOffset = 0   // start of the window decoded for context
    private var readOffset = 0     // ids before this have been emitted

    /// A decoder over `tokenizer`, dropping special tokens when `skipSpecialTokens`.
    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id; returns the text it completes (possibly empty).
    public mutating func push(_ id: Int32) -> String {
        ids.append(id)
        let prefix = tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let full = tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        guard full.unicodeScalars.count > prefix.unicodeScalars.count, full.unicodeScalars.last != "\u{FFFD}" else { return "" }
        let text = String(String.UnicodeScalarView(full.unicodeScalars.dropFirst(prefix.unicodeScalars.count)))
        prefixOffset = readOffset
        readOffset = ids.count
        return text
    }

    /// The held-back remainder (with U+FFFD for any incomplete character) once generation ends.
    public mutating func finish() -> String {
        let prefix = tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let full = tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        prefixOffset = ids.count; readOffset = ids.count
        guard full.unicodeScalars.count > prefix.unicodeScalars.count else { return "" }
        return String(String.UnicodeScalarView(full.unicodeScalars.dropFirst(prefix.unicodeScalars.count)))
    }
}
