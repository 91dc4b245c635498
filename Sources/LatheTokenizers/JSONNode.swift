import Foundation

/// A value of a parsed JSON document with the path that reached it, so every type error names the file and the key.
struct JSONNode {
    let value: Any
    let path: String
    let file: String

    /// Parses `data` (the contents of `file`) into a root node.
    static func parse(_ data: Data, file: String) throws -> JSONNode {
        do {
            let value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return JSONNode(value: value, path: "$", file: file)
        } catch {
            throw TokenizerError.malformed(file: file, path: "$", message: "not valid JSON (\(error.localizedDescription))")
        }
    }

    var isNull: Bool { value is NSNull }

    func fail(_ message: String) -> TokenizerError {
        .malformed(file: file, path: path, message: message)
    }

    /// The member `key`, or nil when the object lacks it or it is null.
    func optional(_ key: String) throws -> JSONNode? {
        guard let object = value as? [String: Any] else { throw fail("expected an object") }
        guard let member = object[key], !(member is NSNull) else { return nil }
        return JSONNode(value: member, path: "\(path).\(key)", file: file)
    }

    /// The member `key`; throws when it is missing.
    func required(_ key: String) throws -> JSONNode {
        guard let node = try optional(key) else { throw fail("missing key \"\(key)\"") }
        return node
    }

    func string() throws -> String {
        guard let s = value as? String else { throw fail("expected a string") }
        return s
    }

    func bool() throws -> Bool {
        guard let b = value as? Bool else { throw fail("expected true or false") }
        return b
    }

    func int() throws -> Int {
        if let i = value as? Int { return i }
        if let d = value as? Double, d.rounded() == d, abs(d) < 1e15 { return Int(d) }
        throw fail("expected an integer")
    }

    func array() throws -> [JSONNode] {
        guard let a = value as? [Any] else { throw fail("expected an array") }
        return a.enumerated().map { JSONNode(value: $1, path: "\(path)[\($0)]", file: file) }
    }

    /// The members in key order (JSONSerialization does not keep file order).
    func object() throws -> [(String, JSONNode)] {
        guard let o = value as? [String: Any] else { throw fail("expected an object") }
        return o.keys.sorted().map { ($0, JSONNode(value: o[$0]!, path: "\(path).\($0)", file: file)) }
    }

    func optionalString(_ key: String) throws -> String? { try optional(key)?.string() }
    func optionalBool(_ key: String) throws -> Bool? { try optional(key)?.bool() }
    func optionalInt(_ key: String) throws -> Int? { try optional(key)?.int() }
}
