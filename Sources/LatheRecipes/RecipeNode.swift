import LatheFormats
import Yams

/// A YAML value with where it came from (file and 1-based line, or a `--set` flag, or the built-in defaults).
struct RecipeNode: Sendable {
    /// One key of a mapping: the key's own line, for unknown-key errors.
    struct Entry: Sendable {
        var key: String
        var keyLine: Int
        var value: RecipeNode
    }

    enum Kind: Sendable {
        /// A scalar; `plain` is false for quoted scalars, which only decode as strings.
        case scalar(String, plain: Bool)
        case mapping([Entry])
        case sequence([RecipeNode])
    }

    var kind: Kind
    var source: String
    var line: Int

    /// True for a plain `~`, `null`, `Null`, `NULL` or empty scalar.
    var isNull: Bool {
        if case .scalar(let s, let plain) = kind { return plain && ["", "~", "null", "Null", "NULL"].contains(s) }
        return false
    }

    /// The YAML kind in words, for type errors.
    var kindName: String {
        switch kind {
        case .scalar(let s, _): return isNull ? "null" : "\"\(s)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// Parses YAML text into a tree; `source` names it in errors. Syntax errors name the line.
    static func parse(yaml: String, source: String) throws -> RecipeNode {
        if let deep = YAMLNesting.firstLineTooDeep(yaml) {
            throw RecipeError.invalid(file: source, line: deep.line, key: "(syntax)", message: "nesting \(deep.depth) levels deep, over the limit of \(YAMLNesting.maxDepth) (YAMLNesting.maxDepth, a fixed bound that keeps the YAML parser's recursion off the stack limit); flatten the file")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: yaml) } catch let error as YamlError {
            throw RecipeError.invalid(file: source, line: Self.line(of: error), key: "(syntax)", message: "\(error)")
        }
        guard let node else { return RecipeNode(kind: .mapping([]), source: source, line: 1) }
        return try convert(node, source: source, path: "")
    }

    private static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return 0
        }
    }

    private static func convert(_ node: Node, source: String, path: String) throws -> RecipeNode {
        let line = node.mark?.line ?? 0
        switch node {
        case .scalar(let scalar):
            return RecipeNode(kind: .scalar(scalar.string, plain: scalar.style == .plain || scalar.style == .any),
                              source: source, line: line)
        case .sequence(let sequence):
            var items: [RecipeNode] = []
            for (i, item) in sequence.enumerated() { items.append(try convert(item, source: source, path: "\(path)[\(i)]")) }
            return RecipeNode(kind: .sequence(items), source: source, line: line)
        case .mapping(let mapping):
            var entries: [Entry] = []
            for (keyNode, value) in mapping {
                let keyLine = keyNode.mark?.line ?? line
                guard case .scalar(let k) = keyNode else {
                    throw RecipeError.invalid(file: source, line: keyLine, key: path.isEmpty ? "(top level)" : path,
                                              message: "a key must be a plain word, not a list or mapping")
                }
                let full = path.isEmpty ? k.string : "\(path).\(k.string)"
                if entries.contains(where: { $0.key == k.string }) {
                    throw RecipeError.invalid(file: source, line: keyLine, key: full, message: "this key appears twice; keep one")
                }
                entries.append(Entry(key: k.string, keyLine: keyLine, value: try convert(value, source: source, path: full)))
            }
            return RecipeNode(kind: .mapping(entries), source: source, line: line)
        }
    }

    /// `overlay` on top of `self`: mappings merge key by key, anything else is replaced.
    func merged(with overlay: RecipeNode) -> RecipeNode {
        guard case .mapping(var base) = kind, case .mapping(let top) = overlay.kind else { return overlay }
        for entry in top {
            if let i = base.firstIndex(where: { $0.key == entry.key }) {
                base[i] = Entry(key: entry.key, keyLine: entry.keyLine, value: base[i].value.merged(with: entry.value))
            } else {
                base.append(entry)
            }
        }
        return RecipeNode(kind: .mapping(base), source: overlay.source, line: overlay.line)
    }

    /// Sets `value` at the dotted `path`, creating mappings on the way.
    func setting(_ path: ArraySlice<String>, to value: RecipeNode) -> RecipeNode {
        guard let head = path.first else { return value }
        var entries: [Entry] = []
        if case .mapping(let existing) = kind { entries = existing }
        let child = entries.first(where: { $0.key == head })?.value
            ?? RecipeNode(kind: .mapping([]), source: value.source, line: value.line)
        let updated = child.setting(path.dropFirst(), to: value)
        if let i = entries.firstIndex(where: { $0.key == head }) {
            entries[i].value = updated
        } else {
            entries.append(Entry(key: head, keyLine: value.line, value: updated))
        }
        return RecipeNode(kind: .mapping(entries), source: source, line: line)
    }

    /// The node at a dotted key path (`train.lora.rank`), if present.
    func node(at path: [String]) -> RecipeNode? {
        guard let head = path.first else { return self }
        guard case .mapping(let entries) = kind, let entry = entries.first(where: { $0.key == head }) else { return nil }
        return entry.value.node(at: Array(path.dropFirst()))
    }
}

/// Levenshtein distance, for did-you-mean suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.utf8), y = Array(b.utf8)
    if x.isEmpty { return y.count }
    var previous = Array(0 ... y.count)
    var current = previous
    for i in 1 ... x.count {
        current[0] = i
        for j in 1 ... max(1, y.count) where !y.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        if y.isEmpty { current[0] = i }
        swap(&previous, &current)
    }
    return previous[y.count]
}

/// "did you mean `x`?" when a candidate is within a third of the word's length (at least 2 edits), else the list.
func suggestion(for word: String, among candidates: [String]) -> String {
    let ranked = candidates.map { ($0, editDistance(word, $0)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    if let best = ranked.first, best.1 <= max(2, word.count / 3) { return "did you mean \"\(best.0)\"?" }
    return "expected one of: \(candidates.joined(separator: ", "))"
}
