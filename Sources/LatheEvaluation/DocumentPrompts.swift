import Foundation
import LatheJinja

/// What `doc_to_target` gives: an index into the choices, a list of indices, or text.
enum Target: Equatable {
    case index(Int)
    case indices([Int])
    case text(String)

    /// Python `str()` of the value lm-eval's `doc_to_target` returns.
    var pythonString: String {
        switch self {
        case .index(let i): return String(i)
        case .indices(let l): return "[" + l.map(String.init).joined(separator: ", ") + "]"
        case .text(let t): return t
        }
    }
}

/// Renders a task's `doc_to_*` settings for one document, the way lm-eval's `ConfigurableTask` does: a key of the
/// document is read directly, anything else is a Jinja template (undefined variables are errors, as lm-eval's
/// `StrictUndefined`), digit-only results become indices when the task has choices.
struct DocumentPrompts {
    let task: TaskConfig
    private var templates: [String: Template] = [:]

    init(task: TaskConfig) throws {
        self.task = task
        for (key, field) in [("doc_to_text", task.docToText), ("doc_to_target", task.docToTarget),
                             ("doc_to_choice", task.docToChoice), ("description", .template(task.description))] {
            guard case .template(let source)? = field else { continue }
            // lm-eval's Jinja environment keeps a trailing newline; LatheJinja drops one, so give it one to drop.
            do { templates[key] = try Template(source + "\n") } catch {
                throw EvaluationError.invalidTask(file: task.file, key: key, message: "invalid Jinja template: \(error)")
            }
        }
    }

    func text(_ doc: TemplateValue, index: Int) throws -> String {
        switch task.docToText {
        case .index(let i): return String(i)
        case .list(let l): return l.joined(separator: "\n")
        case .template(let source): return try render("doc_to_text", source, doc, index)
        }
    }

    /// lm-eval `resolve_field(doc, description)`: a field of the evaluated document, or a template rendered on it.
    func description(_ doc: TemplateValue, index: Int) throws -> String {
        task.description.isEmpty ? "" : try render("description", task.description, doc, index)
    }

    func target(_ doc: TemplateValue, index: Int) throws -> Target {
        switch task.docToTarget {
        case .index(let i): return .index(i)
        case .list(let l): return .text(l.first ?? "")
        case .template(let source):
            if case .dict(let d) = doc, let value = d[source] {
                switch value {
                case .int(let i): return .index(i)
                case .list(let l): return .indices(l.compactMap { if case .int(let i) = $0 { return i } else { return nil } })
                default: return .text(plain(value))
                }
            }
            let rendered = try render("doc_to_target", source, doc, index)
            if task.docToChoice != nil, !rendered.isEmpty, rendered.allSatisfy(\.isASCII), rendered.allSatisfy(\.isNumber) {
                return .index(Int(rendered) ?? -1)
            }
            return .text(rendered)
        }
    }

    func choices(_ doc: TemplateValue, index: Int) throws -> [String] {
        switch task.docToChoice {
        case nil: return []
        case .index(let i)?: return [String(i)]
        case .list(let l)?: return l
        case .template(let source)?:
            if case .dict(let d) = doc, let value = d[source] {
                guard case .list(let items) = value else {
                    throw EvaluationError.invalidDocument(task: task.name, index: index, field: source, message: "expected a list of choices")
                }
                return items.map(plain)
            }
            let rendered = try render("doc_to_choice", source, doc, index)
            guard let list = PythonLiteral.stringList(rendered) else {
                throw EvaluationError.invalidDocument(task: task.name, index: index, field: "doc_to_choice",
                                                      message: "the template gave \(rendered.prefix(80)), not a list literal")
            }
            return list
        }
    }

    /// The gold choice indices of a multiple-choice document, checked against the number of choices.
    func goldIndices(_ doc: TemplateValue, index: Int, choices: [String]) throws -> [Int] {
        let field = fieldName(task.docToTarget)
        let gold: [Int]
        switch try target(doc, index: index) {
        case .index(let i): gold = [i]
        case .indices(let l): gold = l
        case .text(let t):
            guard let i = choices.firstIndex(of: t) else {
                throw EvaluationError.invalidDocument(task: task.name, index: index, field: field,
                                                      message: "target '\(t)' is not one of the \(choices.count) choices")
            }
            gold = [i]
        }
        if let bad = gold.first(where: { $0 < 0 || $0 >= choices.count }) {
            throw EvaluationError.invalidDocument(task: task.name, index: index, field: field,
                                                  message: "target index \(bad) is out of range for \(choices.count) choices")
        }
        return gold
    }

    private func fieldName(_ field: DocumentField) -> String {
        if case .template(let source) = field, let name = Self.variables(in: source).first { return name }
        return "doc_to_target"
    }

    private func render(_ key: String, _ source: String, _ doc: TemplateValue, _ index: Int) throws -> String {
        guard case .dict(let d) = doc else { return "" }
        if let value = d[source] { return plain(value) }
        for name in Self.variables(in: source) where d[name] == nil {
            throw EvaluationError.invalidDocument(task: task.name, index: index, field: name,
                                                  message: "\(key) uses '\(name)', which this document does not have")
        }
        guard let template = templates[key] else { return source }
        var context = [String: TemplateValue]()
        for (k, v) in d.entries { context[k] = v }
        do { return try template.render(context) } catch {
            throw EvaluationError.invalidDocument(task: task.name, index: index, field: key, message: "\(error)")
        }
    }

    /// Top-level variable names read in `{{ … }}` and `{% … %}` (the first identifier of each expression that is
    /// not a keyword, literal or loop variable): enough to name a document's missing field before rendering.
    static func variables(in source: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: #"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)"#) else { return [] }
        let ns = source as NSString
        let reserved: Set<String> = ["true", "false", "none", "True", "False", "None", "loop", "range", "namespace", "not"]
        var bound = Set<String>()
        if let binder = try? NSRegularExpression(pattern: #"\{%-?\s*(?:for|set)\s+([A-Za-z_][A-Za-z0-9_]*)"#) {
            for match in binder.matches(in: source, range: NSRange(location: 0, length: ns.length)) {
                bound.insert(ns.substring(with: match.range(at: 1)))
            }
        }
        var names = [String]()
        for match in regex.matches(in: source, range: NSRange(location: 0, length: ns.length)) {
            let name = ns.substring(with: match.range(at: 1))
            if !reserved.contains(name) && !bound.contains(name) && !names.contains(name) { names.append(name) }
        }
        return names
    }
}

/// `str(value)` as Python prints a scalar; lists in Python repr.
func plain(_ value: TemplateValue) -> String {
    switch value {
    case .string(let s): return s
    case .int(let i): return String(i)
    case .double(let d): return String(d)
    case .bool(let b): return b ? "True" : "False"
    case .none: return "None"
    case .list(let l): return "[" + l.map { if case .string(let s) = $0 { return "'\(s)'" } else { return plain($0) } }.joined(separator: ", ") + "]"
    default: return ""
    }
}
