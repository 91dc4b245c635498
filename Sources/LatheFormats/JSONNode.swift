/// A value of a parsed JSON document with the file and path that reached it (`$.model.vocab`), so every wrong
/// type or missing key is an error naming both, and callers read typed values without casts.
public struct JSONNode: Sendable {
    /// The value.
    public let value: JSONValue
    /// The JSON path of the value, `$` for the root.
    public let path: String
    /// The file it came from (for errors).
    public let file: String

    /// A node for `value` at `path` of `file`.
    public init(_ value: JSONValue, file: String, path: String = "$") {
        self.value = value
        self.file = file
        self.path = path
    }

    /// Largest JSON file `read` accepts by default (Gemma's tokenizer.json is 33 MB).
    public static let defaultMaxBytes = 256 << 20

    /// Reads and parses the JSON file at `path` (memory-mapped) with `JSONParser`; files over `maxBytes` are
    /// refused before they are read.
    public static func read(file path: String, maxBytes: Int = defaultMaxBytes) throws -> JSONNode {
        let mapped = try MappedBytes(path: path)
        guard mapped.buffer.count <= maxBytes else {
            throw JSONFileError(file: path, path: "$", message: "\(mapped.buffer.count) bytes is over the "
                + "\(maxBytes)-byte limit for this JSON file; check that it is the right file")
        }
        return try parse(mapped.buffer, file: path)
    }

    /// Parses `bytes`, the contents of `file`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws(JSONFileError) -> JSONNode {
        do {
            return JSONNode(try JSONParser.parse(bytes), file: file)
        } catch {
            throw JSONFileError(file: file, path: "$", message: "not valid JSON: \(error)", syntax: error)
        }
    }

    /// Parses a byte array, the contents of `file`.
    public static func parse(_ bytes: [UInt8], file: String) throws(JSONFileError) -> JSONNode {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONFileError) -> JSONNode in try parse(raw, file: file) }
        }
        return try result.get()
    }

    /// An error about this value.
    public func fail(_ message: String) -> JSONFileError { JSONFileError(file: file, path: path, message: message) }

    private func child(_ value: JSONValue, _ step: String) -> JSONNode { JSONNode(value, file: file, path: path + step) }

    /// The member `key`, or nil when the object lacks it or it is null; throws when this is not an object.
    public func optional(_ key: String) throws(JSONFileError) -> JSONNode? {
        guard case .object(let object) = value else { throw fail("expected an object, found \(value.kindName)") }
        guard let member = object[key], !member.isNull else { return nil }
        return child(member, "." + key)
    }

    /// The member `key`; throws when it is missing or null.
    public func required(_ key: String) throws(JSONFileError) -> JSONNode {
        guard let node = try optional(key) else { throw fail("missing key \"\(key)\"") }
        return node
    }

    /// The string, or nil when the value is not a string.
    public var stringValue: String? { value.stringValue }

    /// The string; throws for any other kind.
    public func string() throws(JSONFileError) -> String {
        guard let s = value.stringValue else { throw fail("expected a string, found \(value.kindName)") }
        return s
    }

    /// The boolean; throws for any other kind.
    public func bool() throws(JSONFileError) -> Bool {
        guard let b = value.boolValue else { throw fail("expected true or false, found \(value.kindName)") }
        return b
    }

    /// The integer: an integer literal that fits in `Int`, or a number with an integral value below 2^53
    /// (`8.0`, as some writers emit); throws otherwise.
    public func int() throws(JSONFileError) -> Int {
        guard case .number(let n) = value else { throw fail("expected an integer, found \(value.kindName)") }
        if let i = n.intValue { return i }
        let d = n.doubleValue
        guard d.rounded() == d, abs(d) < 9_007_199_254_740_992 else { throw fail("expected an integer, found \(n.text)") }
        return Int(d)
    }

    /// The number as a Double; throws for any other kind.
    public func double() throws(JSONFileError) -> Double {
        guard let d = value.doubleValue else { throw fail("expected a number, found \(value.kindName)") }
        return d
    }

    /// The elements, with their paths; throws when this is not an array.
    public func array() throws(JSONFileError) -> [JSONNode] {
        guard case .array(let items) = value else { throw fail("expected an array, found \(value.kindName)") }
        return items.enumerated().map { child($1, "[\($0)]") }
    }

    /// The members in file order, with their paths; throws when this is not an object.
    public func members() throws(JSONFileError) -> [(key: String, node: JSONNode)] {
        guard case .object(let object) = value else { throw fail("expected an object, found \(value.kindName)") }
        return zip(object.keys, object.values).map { (key: $0, node: child($1, "." + $0)) }
    }

    /// An array of strings, or a single string as a one-element array.
    public func strings() throws(JSONFileError) -> [String] {
        if let s = value.stringValue { return [s] }
        var out: [String] = []
        for item in try array() { out.append(try item.string()) }
        return out
    }

    /// The string member `key`, nil when missing or null.
    public func optionalString(_ key: String) throws(JSONFileError) -> String? { try optional(key)?.string() }
    /// The boolean member `key`, nil when missing or null.
    public func optionalBool(_ key: String) throws(JSONFileError) -> Bool? { try optional(key)?.bool() }
    /// The integer member `key`, nil when missing or null.
    public func optionalInt(_ key: String) throws(JSONFileError) -> Int? { try optional(key)?.int() }
    /// The number member `key`, nil when missing or null.
    public func optionalDouble(_ key: String) throws(JSONFileError) -> Double? { try optional(key)?.double() }
}

/// A JSON file that cannot be read: not valid JSON (with the byte offset, line and column), or a value of the
/// wrong type or a missing key (with the JSON path).
public struct JSONFileError: Error, Sendable, CustomStringConvertible {
    /// The file.
    public let file: String
    /// The JSON path of the value (`$` for the whole document).
    public let path: String
    /// What is wrong.
    public let message: String
    /// The syntax error, when the text is not valid JSON.
    public var syntax: JSONError? = nil

    /// An error about the value at `path` of `file`.
    public init(file: String, path: String, message: String, syntax: JSONError? = nil) {
        self.file = file
        self.path = path
        self.message = message
        self.syntax = syntax
    }

    /// `file: at $.path: message`
    public var description: String { syntax == nil ? "\(file): at \(path): \(message)" : "\(file): \(message)" }
}
