/// A `Decoder` over a `RecipeNode` tree: strict about types, rejects unknown keys with a did-you-mean,
/// and reports every problem as a `RecipeError` naming the file, line and key path.
struct RecipeDecoder: Decoder {
    let node: RecipeNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ node: RecipeNode, path: [any CodingKey] = []) {
        self.node = node
        codingPath = path
    }

    func fail(_ message: String, at node: RecipeNode? = nil, path: [any CodingKey]? = nil, line: Int? = nil) -> RecipeError {
        let where_ = node ?? self.node
        return RecipeError.invalid(file: where_.source, line: line ?? where_.line, key: keyPath(path ?? codingPath), message: message)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let entries) = node.kind else {
            throw fail("expected a mapping of keys, found \(node.kindName)")
        }
        if let known = Key.self as? any CaseIterable.Type {
            let names = knownKeys(known)
            for entry in entries where !names.contains(entry.key) {
                let path = codingPath + [NamedKey(entry.key)]
                throw fail("unknown key \"\(entry.key)\"; \(suggestion(for: entry.key, among: names))",
                           at: entry.value, path: path, line: entry.keyLine)
            }
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, entries: entries))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let items) = node.kind else { throw fail("expected a list, found \(node.kindName)") }
        return UnkeyedContainer(decoder: self, items: items)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(decoder: self) }

    /// Decodes `T` from this node: scalars by hand (strict), enums with their allowed values, the rest via `init(from:)`.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let choice = T.self as? any RecipeEnum.Type { return try decodeEnum(choice) as! T }
        if T.self == String.self { return try string() as! T }
        if T.self == Bool.self { return try bool() as! T }
        if T.self == Double.self { return try number("a finite number", finite(Double.self)) as! T }
        if T.self == Float.self { return try number("a finite number", finite(Float.self)) as! T }
        if T.self == Int.self { return try number("an integer", { Int($0) }) as! T }
        return try T(from: self)
    }

    private func decodeEnum<E: RecipeEnum>(_ type: E.Type) throws -> E {
        let raw = try string()
        guard let value = E(rawValue: raw) else {
            throw fail("\"\(raw)\" is not allowed; \(suggestion(for: raw, among: E.allCases.map(\.rawValue)))")
        }
        return value
    }

    func scalar(_ expected: String) throws -> (String, Bool) {
        guard case .scalar(let s, let plain) = node.kind, !node.isNull else {
            throw fail("expected \(expected), found \(node.kindName)")
        }
        return (s, plain)
    }

    func string() throws -> String { try scalar("a string").0 }

    func bool() throws -> Bool {
        let (s, plain) = try scalar("true or false")
        if plain, ["true", "True", "TRUE"].contains(s) { return true }
        if plain, ["false", "False", "FALSE"].contains(s) { return false }
        throw fail("expected true or false, found \"\(s)\"")
    }

    func number<N>(_ expected: String, _ parse: (String) -> N?) throws -> N {
        let (s, plain) = try scalar(expected)
        guard plain, let value = parse(s.replacingOccurrences(of: "_", with: "")) else {
            throw fail("expected \(expected), found \(plain ? "" : "the quoted string ")\"\(s)\"")
        }
        return value
    }
}

/// A parser of `F` that refuses what Swift's `Double("inf")`, `Double("nan")` and `Double("1e999")` would let
/// through: a recipe's rates, scales and thresholds are finite (an infinite LoRA alpha trapped `lathe validate`).
private func finite<F: BinaryFloatingPoint & LosslessStringConvertible>(_ type: F.Type) -> (String) -> F? {
    { text in F(text).flatMap { $0.isFinite ? $0 : nil } }
}

private func knownKeys<T: CaseIterable>(_ type: T.Type) -> [String] {
    T.allCases.compactMap { ($0 as? any CodingKey)?.stringValue }
}

/// "train.lora.targets[2]" from a coding path.
func keyPath(_ path: [any CodingKey]) -> String {
    var out = ""
    for key in path {
        if let i = key.intValue, key.stringValue == "Index \(i)" || key.stringValue == "\(i)" {
            out += "[\(i)]"
        } else {
            out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return out.isEmpty ? "(top level)" : out
}

/// A coding key for a mapping key or a list index.
struct NamedKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ name: String) { stringValue = name }
    init(index: Int) { stringValue = "\(index)"; intValue = index }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.init(index: intValue) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: RecipeDecoder
    let entries: [RecipeNode.Entry]
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { entries.contains { $0.key == key.stringValue } }

    private func child(_ key: Key) throws -> RecipeDecoder {
        guard let entry = entries.first(where: { $0.key == key.stringValue }) else {
            throw decoder.fail("missing required key \"\(key.stringValue)\"", path: codingPath + [key])
        }
        return RecipeDecoder(entry.value, path: codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool { try child(key).node.isNull }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(T.self) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        let c = try child(key)
        return c.node.isNull ? nil : try c.decode(T.self)
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).decode(Bool.self) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).decode(String.self) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).decode(Double.self) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).decode(Float.self) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).decode(Int.self) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try narrow(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try narrow(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try narrow(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try narrow(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try narrow(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try narrow(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try narrow(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try narrow(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try narrow(key) }

    private func narrow<N: FixedWidthInteger>(_ key: Key) throws -> N {
        try child(key).number("an integer in range", { N($0) })
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: RecipeDecoder
    let items: [RecipeNode]
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(decoder: RecipeDecoder, items: [RecipeNode]) {
        self.decoder = decoder
        self.items = items
    }

    private mutating func next() throws -> RecipeDecoder {
        guard !isAtEnd else { throw decoder.fail("the list has too few elements") }
        defer { currentIndex += 1 }
        return RecipeDecoder(items[currentIndex], path: codingPath + [NamedKey(index: currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(T.self) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decode(Bool.self) }
    mutating func decode(_ type: String.Type) throws -> String { try next().decode(String.self) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().decode(Double.self) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().decode(Float.self) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().decode(Int.self) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().number("an integer in range", { Int8($0) }) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().number("an integer in range", { Int16($0) }) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().number("an integer in range", { Int32($0) }) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().number("an integer in range", { Int64($0) }) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().number("an integer in range", { UInt($0) }) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().number("an integer in range", { UInt8($0) }) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().number("an integer in range", { UInt16($0) }) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().number("an integer in range", { UInt32($0) }) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().number("an integer in range", { UInt64($0) }) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let decoder: RecipeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.node.isNull }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(T.self) }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.bool() }
    func decode(_ type: String.Type) throws -> String { try decoder.string() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.number("a finite number", finite(Double.self)) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.number("a finite number", finite(Float.self)) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.number("an integer", { Int($0) }) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.number("an integer in range", { Int8($0) }) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.number("an integer in range", { Int16($0) }) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.number("an integer in range", { Int32($0) }) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.number("an integer in range", { Int64($0) }) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.number("an integer in range", { UInt($0) }) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.number("an integer in range", { UInt8($0) }) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.number("an integer in range", { UInt16($0) }) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.number("an integer in range", { UInt32($0) }) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.number("an integer in range", { UInt64($0) }) }
}
