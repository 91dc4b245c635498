/// A JSON document as parsed by `JSONParser`: objects keep their keys in file order and never hold a key twice.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// An integer literal (no fraction or exponent) that fits in `Int`.
    case integer(Int)
    /// Any other number.
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string, when this is a string.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    /// The integer, when this is an integer literal.
    public var intValue: Int? { if case .integer(let i) = self { return i }; return nil }
    /// The number as a Double, for integer and other number literals.
    public var doubleValue: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: return nil
        }
    }
    /// The boolean, when this is `true` or `false`.
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    /// The object, when this is an object.
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    /// True for `null`.
    public var isNull: Bool { self == .null }

    /// The member `key` when this is an object that has it.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// Parses a complete JSON text (RFC 8259, strict); see `JSONParser`.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) -> JSONValue in try JSONParser.parse(raw) }
        }
        return try result.get()
    }

    /// Parses a complete JSON text given as a string.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}

/// A JSON object: members in file order, with O(1) lookup by key.
public struct JSONObject: Sendable, Equatable {
    /// Keys in file order.
    public private(set) var keys: [String] = []
    /// Values, parallel to `keys`.
    public private(set) var values: [JSONValue] = []
    private var index: [String: Int] = [:]

    /// An empty object.
    public init() {}

    /// Builds an object from ordered pairs; a repeated key replaces the earlier value in place.
    public init(_ pairs: [(String, JSONValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// Number of members.
    public var count: Int { keys.count }

    /// Members in file order.
    public var members: [(key: String, value: JSONValue)] { Array(zip(keys, values)).map { (key: $0.0, value: $0.1) } }

    /// Looks up or sets a member; setting an existing key keeps its position.
    public subscript(key: String) -> JSONValue? {
        get { index[key].map { values[$0] } }
        set {
            if let i = index[key] {
                if let newValue { values[i] = newValue } else { remove(at: i) }
            } else if let newValue {
                index[key] = keys.count
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    /// Adds a member unless the key exists; returns false for a duplicate.
    mutating func insertNew(_ key: String, _ value: JSONValue) -> Bool {
        guard index[key] == nil else { return false }
        index[key] = keys.count
        keys.append(key)
        values.append(value)
        return true
    }

    private mutating func remove(at i: Int) {
        keys.remove(at: i)
        values.remove(at: i)
        index = [:]
        for (j, key) in keys.enumerated() { index[key] = j }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool { a.keys == b.keys && a.values == b.values }
}

/// A JSON syntax error with its byte offset, 1-based line and column.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
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

    /// `line L, column C: message`
    public var description: String { "line \(line), column \(column): \(message)" }
}

extension JSONValue {
    /// Compact JSON text with keys in stored order; non-finite numbers, which JSON cannot hold, are written as null.
    public func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .number(let d): out += d.isFinite ? "\(d)" : "null"
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for i in 0 ..< object.count {
                if i > 0 { out += "," }
                JSONValue.writeString(object.keys[i], to: &out)
                out += ":"
                object.values[i].write(to: &out)
            }
            out += "}"
        }
    }

    /// `s` as a JSON string literal: quotes, backslashes and control characters escaped, the rest raw UTF-8.
    public static func quoted(_ s: String) -> String {
        var out = ""
        writeString(s, to: &out)
        return out
    }

    /// Appends `s` as a JSON string literal: quotes, backslashes and control characters escaped, the rest raw
    /// UTF-8 — or, with `asciiOnly` (Python's `json.dumps(ensure_ascii=True)`), every character outside printable
    /// ASCII as `\uXXXX` (a UTF-16 surrogate pair above U+FFFF).
    public static func writeString(_ s: String, asciiOnly: Bool = false, to out: inout String) {
        func escape(_ unit: UInt32) {
            let hex = String(unit, radix: 16)
            out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    escape(scalar.value)
                } else if asciiOnly, scalar.value > 0x7E {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        escape(0xD800 + (v >> 10))
                        escape(0xDC00 + (v & 0x3FF))
                    } else {
                        escape(scalar.value)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
