import Foundation

/// The cleaner's text normalisation (Unicode form, control characters, whitespace), applied to every text field
/// before anything else looks at it. Not a tokenizer normaliser: those (tokenizer.json's `normalizer`) are
/// LatheTokenizers' `Normalizer` and run inside tokenisation.
public struct TextNormalizer: Sendable {
    /// Unicode normal form: the values of `lathe clean --unicode` and of a recipe's `clean.normalize`, which both
    /// set `Config.form` and nothing else (`none` keeps code points as they are; whitespace is still collapsed).
    public enum Form: String, Codable, Sendable, CaseIterable {
        /// Canonical composition: changes no meaning (é as one code point).
        case nfc
        /// Compatibility composition: also folds ligatures, full-width forms, superscripts (ﬁ → fi).
        case nfkc
        /// Leave code points as they are.
        case none
    }

    /// Settings, with defaults.
    public struct Config: Codable, Sendable, Equatable {
        /// Unicode normal form (default NFC).
        public var form: Form = .nfc
        /// Strip control characters (Unicode Cc) except newline and tab; CR/CRLF become LF (default true).
        public var stripControl = true
        /// Collapse runs of spaces/tabs/Unicode spaces to one space and 3+ newlines to one blank line (default true).
        public var collapseWhitespace = true
        /// Keep each line's leading whitespace as is (code indentation) when collapsing (default false).
        public var keepIndentation = false
        /// Creates the defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case form, stripControl = "strip_control", collapseWhitespace = "collapse_whitespace"
            case keepIndentation = "keep_indentation"
        }
    }

    /// The settings.
    public var config: Config
    /// Creates a normaliser.
    public init(_ config: Config = Config()) { self.config = config }

    /// The normalised text. Trailing spaces of each line and leading/trailing blank space of the text are trimmed.
    public func normalize(_ text: String) -> String {
        var s = text
        let ascii = s.utf8.allSatisfy { $0 < 0x80 }
        if !ascii {
            switch config.form {
            case .nfc: s = s.precomposedStringWithCanonicalMapping
            case .nfkc: s = s.precomposedStringWithCompatibilityMapping
            case .none: break
            }
        }
        var writer = Writer(config: config)
        writer.out.reserveCapacity(s.utf8.count)
        s.withUTF8 { writer.write($0) }
        return String(decoding: writer.out, as: UTF8.self)
    }

    /// The normalising pass over UTF-8 bytes, its state in stored properties (no captured variables, so the loop
    /// runs without dynamic exclusivity checks).
    private struct Writer {
        let config: Config
        var out: [UInt8] = []
        var pendingSpace = false     // a collapsed run of horizontal space waiting to be written
        var newlines = 0             // newlines seen since the last visible character
        var atLineStart = true
        var indentation: [UInt8] = []

        init(config: Config) { self.config = config }

        mutating func emitVisible(_ bytes: UnsafeBufferPointer<UInt8>) {
            if newlines > 0 {
                if !out.isEmpty {
                    let n = config.collapseWhitespace ? min(newlines, 2) : newlines
                    out.append(contentsOf: repeatElement(0x0A, count: n))
                }
                newlines = 0
                atLineStart = true
            }
            if atLineStart {
                if config.keepIndentation || !config.collapseWhitespace { out.append(contentsOf: indentation) }
                pendingSpace = false
            } else if pendingSpace {
                out.append(0x20)
            }
            pendingSpace = false
            indentation.removeAll(keepingCapacity: true)
            atLineStart = false
            out.append(contentsOf: bytes)
        }

        mutating func write(_ utf8: UnsafeBufferPointer<UInt8>) {
            var previousCR = false
            var at = 0
            while at < utf8.count {
                let (scalar, length) = Words.decode(utf8, at)
                let bytes = UnsafeBufferPointer(rebasing: utf8[at..<(at + length)])
                at += length
                let v = scalar.value
                defer { previousCR = v == 0x0D }
                if v == 0x0A || (v == 0x0D && config.stripControl) {
                    if v == 0x0A && previousCR && config.stripControl { continue }  // CRLF already counted
                    newlines += 1; pendingSpace = false; indentation.removeAll(keepingCapacity: true); atLineStart = true
                    continue
                }
                let isHorizontalSpace = v == 0x20 || v == 0x09 || v == 0xA0 || v == 0x1680 || (v >= 0x2000 && v <= 0x200A)
                    || v == 0x202F || v == 0x205F || v == 0x3000
                if isHorizontalSpace {
                    if atLineStart {
                        if config.keepIndentation || !config.collapseWhitespace { indentation.append(contentsOf: bytes) }
                    } else if config.collapseWhitespace {
                        pendingSpace = true
                    } else {
                        indentation.append(contentsOf: bytes)  // kept verbatim before the next visible char
                        pendingSpace = false
                    }
                    continue
                }
                if config.stripControl && (v < 0x20 || (v >= 0x7F && v <= 0x9F)) { continue }
                if !config.collapseWhitespace && !atLineStart && !indentation.isEmpty {
                    out.append(contentsOf: indentation); indentation.removeAll(keepingCapacity: true)
                }
                emitVisible(bytes)
            }
        }
    }
}
