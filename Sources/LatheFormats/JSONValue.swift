/// A JSON document as parsed by `JSONParser`: objects keep their keys in file order and never hold a key twice,
/// numbers keep their source text (so a record is written back byte for byte), strings compare by bytes.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number literal, kept as written.
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// An integer number.
    public static func integer(_ i: Int) -> JSONValue { .number(JSONNumber(i)) }
    /// A floating-point number; NaN and infinities, which JSON cannot hold, become `null`.
    public static func double(_ d: Double) -> JSONValue { JSONNumber(d).map(JSONValue.number) ?? .null }

    /// The string, when this is a string.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    /// The integer, when this is an integer literal (no fraction or exponent) that fits in `Int`.
    public var intValue: Int? { if case .number(let n) = self { return n.intValue }; return nil }
    /// The number as a Double, for any number literal.
    public var doubleValue: Double? { if case .number(let n) = self { return n.doubleValue }; return nil }
    /// The boolean, when this is `true` or `false`.
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    /// The object, when this is an object.
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    /// True for `null`.
    public var isNull: Bool { if case .null = self { return true }; return false }

    /// The member `key` when this is an object that has it.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// A short name of the kind, for error messages ("a JSON array").
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "a JSON array"
        case .object: return "a JSON object"
        }
    }

    /// A scalar rendered as text (numbers as written); nil for arrays and objects.
    public var scalarText: String? {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.text
        case .string(let s): return s
        case .array, .object: return nil
        }
    }

    /// Structural equality; strings and keys compare by their UTF-8 bytes, numbers by their literal text.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return sameBytes(x, y)
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        default: return false
        }
    }
}

/// A JSON number literal as written in the source (RFC 8259 grammar), converted on access.
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible {
    /// The literal, e.g. `-2.5e3`.
    public let text: String

    /// A literal the parser has checked against the JSON grammar.
    init(literal: String) { text = literal }

    /// The integer `i`.
    public init(_ i: Int) { text = String(i) }

    /// The shortest literal that reads back as `d`; nil for NaN and infinities.
    public init?(_ d: Double) {
        guard d.isFinite else { return nil }
        text = "\(d)"
    }

    /// True when the literal has no fraction and no exponent.
    public var isInteger: Bool {
        !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }

    /// The value of an integer literal that fits in `Int`; nil otherwise.
    public var intValue: Int? { isInteger ? Int(text) : nil }

    /// The value as a Double (±infinity for literals beyond its range, as in Python's `json`).
    public var doubleValue: Double { Double(text) ?? .nan }

    /// The literal.
    public var description: String { text }
}

/// True when `a` and `b` have the same UTF-8 bytes (Swift's `==` on String is canonical equivalence, so "é" and
/// "e\u{301}" would be equal; JSON keys and token strings are distinct byte sequences).
@inline(__always)
func sameBytes(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { x in b.withUTF8 { y in x.count == y.count && (x.count == 0 || x.elementsEqual(y)) } }
}

/// A string hashed and compared by its UTF-8 bytes.
struct ByteKey: Hashable {
    let string: String
    static func == (a: ByteKey, b: ByteKey) -> Bool { sameBytes(a.string, b.string) }
    func hash(into hasher: inout Hasher) {
        var s = string
        s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// A JSON object: members in file order, looked up by the bytes of their key.
///
/// Objects of up to `indexThreshold` members (JSONL records, configs) are searched linearly, so parsing one
/// allocates no hash table; larger ones (vocabularies, tensor maps) get an index.
public struct JSONObject: Sendable, Equatable {
    /// Keys in file order.
    public private(set) var keys: [String] = []
    /// Values, parallel to `keys`.
    public private(set) var values: [JSONValue] = []
    private var index: [ByteKey: Int] = [:]
    private static let indexThreshold = 12

    /// An empty object.
    public init() {}

    /// Builds an object from ordered pairs; a repeated key replaces the earlier value in place.
    public init(_ pairs: [(String, JSONValue)]) {
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    /// Number of members.
    public var count: Int { keys.count }
    /// True when there are no members.
    public var isEmpty: Bool { keys.isEmpty }

    /// Members in file order.
    public var members: [(key: String, value: JSONValue)] { zip(keys, values).map { (key: $0.0, value: $0.1) } }

    /// Position of `key`, compared by bytes.
    public func position(of key: String) -> Int? {
        if keys.count > Self.indexThreshold { return index[ByteKey(string: key)] }
        for i in keys.indices where sameBytes(keys[i], key) { return i }
        return nil
    }

    /// Looks up or sets a member; setting an existing key keeps its position, setting nil removes it.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { values[$0] } }
        set {
            if let i = position(of: key) {
                if let newValue { values[i] = newValue } else { remove(at: i) }
            } else if let newValue {
                _ = insertNew(key, newValue)
            }
        }
    }

    /// Adds a member unless its key is present; returns false (and changes nothing) for a duplicate.
    mutating func insertNew(_ key: String, _ value: JSONValue) -> Bool {
        if keys.count >= Self.indexThreshold {
            if index.isEmpty { for (i, k) in keys.enumerated() { index[ByteKey(string: k)] = i } }
            guard index[ByteKey(string: key)] == nil else { return false }
            index[ByteKey(string: key)] = keys.count
        } else if position(of: key) != nil {
            return false
        }
        keys.append(key)
        values.append(value)
        return true
    }

    private mutating func remove(at i: Int) {
        keys.remove(at: i)
        values.remove(at: i)
        index = [:]
        if keys.count > Self.indexThreshold { for (j, key) in keys.enumerated() { index[ByteKey(string: key)] = j } }
    }

    /// Same keys (by bytes) in the same order with equal values.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.count == b.count && zip(a.keys, b.keys).allSatisfy { sameBytes($0, $1) } && a.values == b.values
    }
}

/// A JSON syntax error with its byte offset, 1-based line and column.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem, for callers that report some kinds differently.
    public enum Kind: Sendable, Equatable {
        /// The text is not JSON.
        case syntax
        /// Bytes that are not UTF-8 (`offset` is the first bad byte).
        case invalidUTF8
        /// An object holds a key twice (`duplicateKey` names it; `offset` is its second occurrence).
        case duplicateKey
        /// Nesting deeper than `JSONParser.maxDepth`.
        case tooDeep
        /// More bytes than the caller allows.
        case tooLarge
    }
    /// What kind of problem.
    public var kind: Kind = .syntax
    /// Byte offset of the problem in the text.
    public let offset: Int
    /// 1-based line.
    public let line: Int
    /// 1-based column, in bytes.
    public let column: Int
    /// What is wrong.
    public let message: String
    /// The key, when the problem is a key that occurs twice in one object.
    public var duplicateKey: String? = nil
    /// True when the text ended before the value was complete (a truncated file or line).
    public var endOfInput = false

    /// `line L, column C (byte O): message`
    public var description: String { "line \(line), column \(column) (byte \(offset)): \(message)" }
}
