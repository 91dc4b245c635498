import Foundation
import LatheFormats
import LatheJinja
import Yams

/// Task and suite YAML to Swift values without the traps of `Yams.load`: nesting is bounded first
/// (`YAMLNesting`), and a mapping key that is not a scalar (`? [a]: b`) is refused, where Yams' constructor
/// force-unwraps it as a string, and so is a YAML 1.1 base-60 integer (`1:30`) too large for `Int`, where Yams'
/// constructor traps on the overflow (both found by fuzzing task YAML).
enum TaskYAML {
    /// The value of `text`, or nil for an empty document; throws `message` with the line for input it refuses.
    static func load(_ text: String) throws -> Any? {
        if let deep = YAMLNesting.firstLineTooDeep(text) {
            throw Refusal(message: "line \(deep.line): nesting \(deep.depth) levels deep, over the limit of "
                + "\(YAMLNesting.maxDepth) (YAMLNesting.maxDepth, a fixed bound that keeps the YAML parser's "
                + "recursion off the stack limit); flatten the file")
        }
        guard let node = try Yams.compose(yaml: text) else { return nil }
        try refuseUnconstructible(node)
        return Constructor.default.any(from: node)
    }

    /// Throws for what `Constructor.default` would trap on: a mapping key that is not a scalar, or a base-60 integer
    /// out of `Int`'s range.
    private static func refuseUnconstructible(_ node: Node) throws {
        guard let (bad, problem) = firstUnconstructible(node) else { return }
        let line = (bad.mark?.line).map(String.init) ?? "?"
        switch problem {
        case .complexKey:
            throw Refusal(message: "line \(line): a mapping key must be a plain string, not a list or mapping; write "
                + "the key as text")
        case .sexagesimalOverflow:
            throw Refusal(message: "line \(line): the base-60 integer '\(bad.string ?? "")' is out of range for a "
                + "64-bit integer; quote it to keep it as a string")
        }
    }

    /// Why a document was refused before construction.
    struct Refusal: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// What `Constructor.default` would trap on.
    private enum Unconstructible { case complexKey, sexagesimalOverflow }

    /// The first node, in document order, that `Constructor.default` would trap on: a mapping key that is not a
    /// scalar, or a scalar (keys included) that resolves to a base-60 integer too large for `Int`. One walk
    /// (recursion bounded by `YAMLNesting`).
    private static func firstUnconstructible(_ node: Node) -> (Node, Unconstructible)? {
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                if key.scalar == nil { return (key, .complexKey) }
                if let bad = firstUnconstructible(key) ?? firstUnconstructible(value) { return bad }
            }
        case .sequence(let sequence):
            for item in sequence { if let bad = firstUnconstructible(item) { return bad } }
        case .scalar(let scalar):
            if node.tag.description == Tag.Name.int.rawValue, scalar.style == .plain || scalar.style == .any,
               sexagesimalOverflows(scalar.string) {
                return (node, .sexagesimalOverflow)
            }
        }
        return nil
    }

    /// Whether Yams' `Int` constructor, given `text`, takes its base-60 path and overflows there: it drops `_`,
    /// reads other radixes for a leading `0`, then folds the `:`-separated decimal components (unparsable ones
    /// skipped) from the right with `value += digit * base; base *= 60`, the last `base *= 60` included.
    static func sexagesimalOverflows(_ text: String) -> Bool {
        let withSign = text.replacingOccurrences(of: "_", with: "")
        let negative = withSign.hasPrefix("-")
        let unsigned = negative || withSign.hasPrefix("+") ? String(withSign.dropFirst()) : withSign
        guard withSign != "0", !unsigned.hasPrefix("0"), unsigned.contains(":") else { return false }
        var base = 1, value = 0
        for digit in unsigned.components(separatedBy: ":").compactMap({ Int($0, radix: 10) }).reversed() {
            let term = digit.multipliedReportingOverflow(by: base)
            let sum = value.addingReportingOverflow(term.partialValue)
            let next = base.multipliedReportingOverflow(by: 60)
            if term.overflow || sum.overflow || next.overflow { return true }
            (value, base) = (sum.partialValue, next.partialValue)
        }
        return negative && value == .min
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
              (try? refuseUnconstructible(node)) != nil, case .dict(let entries) = json(node) else { return nil }
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
