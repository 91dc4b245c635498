import Foundation
import LatheFormats
import LatheJinja
import Yams

/// Task and suite YAML to Swift values without the traps of `Yams.load`: nesting is bounded first
/// (`YAMLNesting`), and a mapping key that is not a scalar (`? [a]: b`) is refused, where Yams' constructor
/// force-unwraps it as a string (found by fuzzing task YAML).
enum TaskYAML {
    /// The value of `text`, or nil for an empty document; throws `message` with the line for input it refuses.
    static func load(_ text: String) throws -> Any? {
        if let deep = YAMLNesting.firstLineTooDeep(text) {
            throw Refusal(message: "line \(deep.line): nesting \(deep.depth) levels deep, over the limit of "
                + "\(YAMLNesting.maxDepth) (YAMLNesting.maxDepth, a fixed bound that keeps the YAML parser's "
                + "recursion off the stack limit); flatten the file")
        }
        guard let node = try Yams.compose(yaml: text) else { return nil }
        if let key = firstComplexKey(node) {
            throw Refusal(message: "line \((key.mark?.line).map(String.init) ?? "?"): a mapping key must be a plain "
                + "string, not a list or mapping; write the key as text")
        }
        return Constructor.default.any(from: node)
    }

    /// Why a document was refused before construction.
    struct Refusal: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// The first mapping key anywhere in `node` that is not a scalar (recursion bounded by `YAMLNesting`).
    private static func firstComplexKey(_ node: Node) -> Node? {
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                if key.scalar == nil { return key }
                if let bad = firstComplexKey(value) { return bad }
            }
        case .sequence(let sequence):
            for item in sequence { if let bad = firstComplexKey(item) { return bad } }
        default: break
        }
        return nil
    }
}

extension TemplateValue {
    /// A value Yams constructed (string, integer, float, bool, null, list, mapping); mappings get their keys sorted,
    /// as `[String: Any]` keeps no order.
    init(yaml value: Any) {
        switch value {
        case let s as String: self = .string(s)
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .int(i)
        case let d as Double: self = .double(d)
        case let list as [Any]: self = .list(list.map(TemplateValue.init(yaml:)))
        case let map as [String: Any]:
            self = .dict(TemplateDict(map.keys.sorted().map { ($0, TemplateValue(yaml: map[$0]!)) }))
        default: self = .none
        }
    }
}

extension TaskYAML {
    /// The document as JSON with mapping keys in file order (what lm-eval's config dump keeps, where
    /// `[String: Any]` would lose it); nil when the text is not a mapping.
    static func ordered(_ text: String) -> [(String, PythonJSON)]? {
        guard YAMLNesting.firstLineTooDeep(text) == nil, let node = try? Yams.compose(yaml: text),
              case .dict(let entries) = json(node) else { return nil }
        return entries
    }

    private static func json(_ node: Node) -> PythonJSON {
        switch node {
        case .mapping(let mapping): return .dict(mapping.map { ($0.key.string ?? "", json($0.value)) })
        case .sequence(let sequence): return .list(sequence.map(json))
        default:
            switch Constructor.default.any(from: node) {
            case let b as Bool: return .bool(b)
            case let i as Int: return .int(i)
            case let d as Double: return .double(d)
            case let s as String: return .string(s)
            default: return .null
            }
        }
    }
}
