import Foundation

/// A JSON value, as `JSONParser` reads it.
enum JSON {
    case null, bool(Bool), number(Double), string(String), array([JSON]), object([String: JSON])
}

/// A value of a parsed JSON document with the path that reached it, so every type error names the file and the key.
struct JSONNode {
    let value: JSON
    let path: String
    let file: String

    /// Parses `data` (the contents of `file`) into a root node.
    static func parse(_ data: Data, file: String) throws -> JSONNode {
        let value = try data.withUnsafeBytes { raw in
            try JSONParser.parse(raw.bindMemory(to: UInt8.self), file: file)
        }
        return JSONNode(value: value, path: "$", file: file)
    }

    func fail(_ message: String) -> TokenizerError {
        .malformed(file: file, path: path, message: message)
    }

    /// The member `key`, or nil when the object lacks it or it is null.
    func optional(_ key: String) throws -> JSONNode? {
        guard case .object(let object) = value else { throw fail("expected an object") }
        guard let member = object[key] else { return nil }
        if case .null = member { return nil }
        return JSONNode(value: member, path: "\(path).\(key)", file: file)
    }

    /// The member `key`; throws when it is missing.
    func required(_ key: String) throws -> JSONNode {
        guard let node = try optional(key) else { throw fail("missing key \"\(key)\"") }
        return node
    }

    /// The string, or nil when the value is not a string.
    var stringValue: String? { if case .string(let s) = value { return s } else { return nil } }

    func string() throws -> String {
        guard let s = stringValue else { throw fail("expected a string") }
        return s
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw fail("expected true or false") }
        return b
    }

    func int() throws -> Int {
        guard case .number(let d) = value, d.rounded() == d, abs(d) < 1e15 else { throw fail("expected an integer") }
        return Int(d)
    }

    func array() throws -> [JSONNode] {
        guard case .array(let a) = value else { throw fail("expected an array") }
        return a.enumerated().map { JSONNode(value: $1, path: "\(path)[\($0)]", file: file) }
    }

    /// The members in key order.
    func object() throws -> [(String, JSONNode)] {
        guard case .object(let o) = value else { throw fail("expected an object") }
        return o.keys.sorted().map { ($0, JSONNode(value: o[$0]!, path: "\(path).\($0)", file: file)) }
    }

    func optionalString(_ key: String) throws -> String? { try optional(key)?.string() }
    func optionalBool(_ key: String) throws -> Bool? { try optional(key)?.bool() }
    func optionalInt(_ key: String) throws -> Int? { try optional(key)?.int() }
}
