/// The kinds of personal or secret data the redactor finds, with their placeholders. The names (raw values) are
/// what `lathe clean --pii` and a recipe's `clean.pii` list and what `clean_report.json` counts by.
public enum PIIType: String, Codable, Sendable, CaseIterable {
    case email, phone, ipAddress = "ip_address", creditCard = "credit_card", iban, ssn, secret

    /// The text that replaces a match.
    public var placeholder: String {
        switch self {
        case .email: return "<EMAIL>"
        case .phone: return "<PHONE>"
        case .creditCard: return "<CREDIT_CARD>"
        case .iban: return "<IBAN>"
        case .ssn: return "<SSN>"
        case .ipAddress: return "<IP>"
        case .secret: return "<SECRET>"
        }
    }
}

/// A match: bytes `start..<end` of the UTF-8 text are of `type`.
public struct PIISpan: Sendable, Equatable {
    /// First byte.
    public var start: Int
    /// One past the last byte.
    public var end: Int
    /// What was found.
    public var type: PIIType
}

/// Replaces personal data and secrets with typed placeholders. Every scanner is hand-written over UTF-8 bytes
/// (all patterns are ASCII) and validates what it finds: Luhn for cards, mod-97 for IBANs, the SSA's
/// area/group/serial rules for SSNs, octet ranges for IPv4. Names and street addresses are not detected.
public struct PIIRedactor: Sendable {
    /// Which types are redacted, and the secret-entropy rule.
    public struct Config: Codable, Sendable, Equatable {
        /// Types to redact (default: all).
        public var types: Set<PIIType> = Set(PIIType.allCases)
        /// Minimum length of a high-entropy token treated as a secret (32).
        public var minSecretLength = 32
        /// Minimum Shannon entropy, bits per character, of such a token (4.2; hex strings, capped at 4.0 by their
        /// 16-letter alphabet, are never flagged by this rule, so git hashes and checksums in prose stay).
        public var minSecretEntropy = 4.2
        /// Creates the defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case types, minSecretLength = "min_secret_length", minSecretEntropy = "min_secret_entropy"
        }
    }

    /// Settings.
    public var config: Config
    /// Creates a redactor.
    public init(_ config: Config = Config()) { self.config = config }

    /// All matches in `bytes`, non-overlapping, sorted by start. When matches overlap, the one found by the
    /// earlier scanner in the order secret, email, IBAN, card, SSN, phone, IP wins.
    public func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> [PIISpan] {
        var spans: [PIISpan] = []
        let t = config.types
        if t.contains(.secret) { spans += SecretScanner.scan(bytes, minLength: config.minSecretLength, minEntropy: config.minSecretEntropy) }
        if t.contains(.email) { spans += ContactScanner.emails(bytes) }
        if t.contains(.iban) { spans += NumberScanner.ibans(bytes) }
        if t.contains(.creditCard) { spans += NumberScanner.cards(bytes) }
        if t.contains(.ssn) { spans += NumberScanner.ssns(bytes) }
        if t.contains(.phone) { spans += ContactScanner.phones(bytes) }
        if t.contains(.ipAddress) { spans += NumberScanner.ips(bytes) }
        // Keep earlier-scanner spans; drop later ones that overlap any kept span.
        var kept: [PIISpan] = []
        for span in spans where !kept.contains(where: { $0.start < span.end && span.start < $0.end }) { kept.append(span) }
        return kept.sorted { $0.start < $1.start }
    }

    /// `text` with every match replaced, and the number of matches per type.
    public func redact(_ text: String) -> (text: String, counts: [PIIType: Int]) {
        if config.types.isEmpty { return (text, [:]) }
        var text = text
        return text.withUTF8 { buf -> (String, [PIIType: Int]) in
            let spans = scan(buf)
            if spans.isEmpty { return (String(decoding: buf, as: UTF8.self), [:]) }
            var out: [UInt8] = []
            out.reserveCapacity(buf.count)
            var counts: [PIIType: Int] = [:]
            var at = 0
            for span in spans {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[at..<span.start]))
                out.append(contentsOf: span.type.placeholder.utf8)
                counts[span.type, default: 0] += 1
                at = span.end
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[at..<buf.count]))
            return (String(decoding: out, as: UTF8.self), counts)
        }
    }
}

/// Byte classes shared by the scanners.
enum Bytes {
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    @inline(__always) static func isUpper(_ b: UInt8) -> Bool { b >= 65 && b <= 90 }
    @inline(__always) static func isLower(_ b: UInt8) -> Bool { b >= 97 && b <= 122 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { isUpper(b) || isLower(b) }
    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20 >= 97 && b | 0x20 <= 102) }
    /// A byte that may continue a word (letters, digits, `_`, any non-ASCII byte).
    @inline(__always) static func isWord(_ b: UInt8) -> Bool { isAlnum(b) || b == 95 || b >= 0x80 }

    /// True when `bytes[i]` is a word byte (false outside the buffer).
    @inline(__always) static func wordAt(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        i >= 0 && i < bytes.count && isWord(bytes[i])
    }
    /// True when `bytes[i]` is a digit (false outside the buffer).
    @inline(__always) static func digitAt(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        i >= 0 && i < bytes.count && isDigit(bytes[i])
    }
}
