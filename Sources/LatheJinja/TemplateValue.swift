/// A value a template can see or compute: the JSON-like data model of Jinja as used by chat templates.
public enum TemplateValue: Sendable {
    /// A Python `str`.
    case string(String)
    /// A Python `int` (64-bit here; overflow is a render error rather than a big integer).
    case int(Int)
    /// A Python `float`.
    case double(Double)
    /// `True` / `False`.
    case bool(Bool)
    /// `None`.
    case none
    /// A list.
    case list([TemplateValue])
    /// A tuple: `(a, b)`, `dict.items()` pairs. Prints as `(a, b)` and never equals a list, as in Python.
    case tuple([TemplateValue])
    /// A dictionary that keeps insertion order, like a Python `dict`.
    case dict(TemplateDict)
    /// Jinja's default `Undefined`: prints as empty, is falsy, iterates as empty.
    case undefined
    /// A `namespace()` object: mutable through `{% set ns.x = ... %}`, shared by reference.
    case namespace(TemplateNamespace)
    /// A macro defined with `{% macro %}`.
    case macro(TemplateMacro)
    /// A built-in global function (`range`, `namespace`, `raise_exception`, …) or a bound method.
    case function(TemplateFunction)

    /// Python truthiness.
    public var isTruthy: Bool {
        switch self {
        case .string(let s): return !s.isEmpty
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .bool(let b): return b
        case .none, .undefined: return false
        case .list(let l), .tuple(let l): return !l.isEmpty
        case .dict(let d): return !d.isEmpty
        case .namespace, .macro, .function: return true
        }
    }

    /// The items of a list or tuple.
    var sequenceItems: [TemplateValue]? {
        switch self {
        case .list(let l), .tuple(let l): return l
        default: return nil
        }
    }

    /// True for `.undefined`.
    public var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// The Python type name, for error messages.
    var typeName: String {
        switch self {
        case .string: return "str"
        case .int: return "int"
        case .double: return "float"
        case .bool: return "bool"
        case .none: return "NoneType"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .undefined: return "Undefined"
        case .namespace: return "Namespace"
        case .macro: return "Macro"
        case .function: return "function"
        }
    }
}

/// An insertion-ordered dictionary with string keys (JSON objects, `dict(...)`, `{...}` literals).
/// Small dictionaries (the common case: messages, `loop`) are searched linearly; larger ones keep a hash index.
public struct TemplateDict: Sendable {
    /// Keys and values in insertion order.
    public private(set) var entries: [(key: String, value: TemplateValue)] = []
    private var index: [String: Int]? = nil
    private static let indexThreshold = 16

    /// An empty dictionary.
    public init() {}

    /// A dictionary from ordered pairs; a repeated key keeps its first position and its last value, as in Python.
    public init(_ pairs: [(String, TemplateValue)]) {
        entries.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    /// A dictionary from pairs the caller knows to have distinct keys (no duplicate search).
    init(uniqueKeys pairs: [(key: String, value: TemplateValue)]) {
        entries = pairs
        if entries.count > TemplateDict.indexThreshold { rebuildIndex() }
    }

    /// Number of keys.
    public var count: Int { entries.count }
    /// True when there are no keys.
    public var isEmpty: Bool { entries.isEmpty }
    /// Keys in insertion order.
    public var keys: [String] { entries.map(\.key) }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return entries.firstIndex { $0.key == key }
    }

    /// The value for `key`, or nil; setting appends a new key or replaces the value in place.
    public subscript(key: String) -> TemplateValue? {
        get { position(of: key).map { entries[$0].value } }
        set {
            if let i = position(of: key) {
                if let v = newValue { entries[i].value = v } else { remove(at: i) }
            } else if let v = newValue {
                index?[key] = entries.count
                entries.append((key, v))
                if index == nil, entries.count > TemplateDict.indexThreshold { rebuildIndex() }
            }
        }
    }

    private mutating func remove(at i: Int) {
        entries.remove(at: i)
        index = nil
        if entries.count > TemplateDict.indexThreshold { rebuildIndex() }
    }

    private mutating func rebuildIndex() {
        var map: [String: Int] = [:]
        for (j, e) in entries.enumerated() { map[e.key] = j }
        index = map
    }
}

/// The mutable object behind `namespace(...)`; a class so that `{% set ns.x %}` inside a loop is seen outside it.
public final class TemplateNamespace: @unchecked Sendable {
    /// The attributes, in the order they were first set.
    public var attributes: TemplateDict
    /// A namespace with the given attributes.
    public init(_ attributes: TemplateDict = TemplateDict()) { self.attributes = attributes }
}

/// A macro: its parameters with optional defaults, and its body.
public final class TemplateMacro: @unchecked Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: Expr?)]
    let body: [Node]
    init(name: String, parameters: [(name: String, defaultValue: Expr?)], body: [Node]) {
        self.name = name
        self.parameters = parameters
        self.body = body
    }
}

/// A callable the template did not define: a global such as `range`, or a method bound to a value (`s.strip`).
public struct TemplateFunction: Sendable {
    /// The global's name or the method name.
    public let name: String
    /// The value a method is bound to; nil for globals.
    let receiver: Box?

    init(name: String, receiver: TemplateValue? = nil) {
        self.name = name
        self.receiver = receiver.map(Box.init)
    }

    /// Indirection so that the enum can hold a value inside a function.
    final class Box: @unchecked Sendable {
        let value: TemplateValue
        init(_ value: TemplateValue) { self.value = value }
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// A float literal.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A list literal.
    public init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    /// A dictionary literal, order kept.
    public init(dictionaryLiteral elements: (String, TemplateValue)...) { self = .dict(TemplateDict(elements)) }
    /// `nil` is `None`.
    public init(nilLiteral: ()) { self = .none }
}
