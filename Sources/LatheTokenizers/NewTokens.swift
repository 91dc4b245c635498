import Foundation
import LatheFormats

/// Why a list of tokens to add to a tokenizer was refused (`train.new_tokens`); `index` is the token's position in
/// the list.
public struct NewTokenError: Error, CustomStringConvertible, Equatable {
    /// Position of the offending token in the list.
    public let index: Int
    /// What is wrong and what to do.
    public let message: String

    /// The error for the token at `index`.
    public init(index: Int, message: String) {
        self.index = index
        self.message = message
    }

    public var description: String { "new token \(index): \(message)" }
}

extension Tokenizer {
    /// Checks tokens to add: none empty, none twice (compared byte for byte, as the vocabulary is) and, when
    /// `vocabulary` is given, none already a token of it. The first problem is thrown.
    public static func checkNewTokens(_ tokens: [String], against vocabulary: Tokenizer? = nil) throws {
        var seen: [[UInt8]: Int] = [:]
        for (index, token) in tokens.enumerated() {
            let bytes = Array(token.utf8)
            guard !bytes.isEmpty else {
                throw NewTokenError(index: index, message: "is the empty string; a token needs at least one character")
            }
            if let first = seen[bytes] {
                throw NewTokenError(index: index, message: "\(JSONValue.quoted(token)) is listed twice (also at \(first)); list it once")
            }
            seen[bytes] = index
            if let vocabulary, let id = vocabulary.id(ofBytes: bytes) {
                throw NewTokenError(index: index, message: "\(JSONValue.quoted(token)) is already in the model's vocabulary "
                                    + "(id \(id)); use it as it is and remove it from the list")
            }
        }
    }

    /// The id of a token spelled by `bytes`, compared byte for byte (added tokens, then the model's vocabulary).
    public func id(ofBytes bytes: [UInt8]) -> Int32? {
        if let added = addedTokens.first(where: { Array($0.content.utf8) == bytes }) { return added.id }
        return model.byToken.get(bytes).map { Int32($0) }
    }

    /// This tokenizer with `tokens` added as special added tokens with ids `firstId`, `firstId + 1`, … (after the
    /// model's vocabulary, as `tokenizer.add_special_tokens` + `resize_token_embeddings` give them in transformers).
    /// Like every added token they are matched whole before the normalizer and pre-tokenizer; unlike the base's
    /// special tokens they are matched in plain text too (`AddedToken.alwaysMatched`), since the data spells them.
    public func adding(newTokens tokens: [String], firstId: Int) throws -> Tokenizer {
        guard !tokens.isEmpty else { return self }
        try Self.checkNewTokens(tokens, against: self)
        let largest = Int(addedTokens.map(\.id).max() ?? -1)
        guard firstId >= model.tokens.count, firstId > largest else {
            throw NewTokenError(index: 0, message: "the new tokens would take ids from \(firstId), which the tokenizer "
                                + "already uses (its largest id is \(max(model.tokens.count - 1, largest))); the model's "
                                + "vocabulary is smaller than its tokenizer's")
        }
        let added = tokens.enumerated().map { offset, token in
            AddedToken(id: Int32(firstId + offset), content: token, special: true, alwaysMatched: true)
        }
        return Tokenizer(normalizer: normalizer, preTokenizer: preTokenizer, model: model, postProcessor: postProcessor,
                         decoder: decoder, addedTokens: addedTokens + added, config: config)
    }
}
