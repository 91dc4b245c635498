import Foundation

/// Walks the statement tree and writes output. One instance renders once.
final class Interpreter {
    let budget: Budget
    /// Variable frames, innermost last. Frame 0 holds the context and top-level `set`s.
    var scopes: [[String: TemplateValue]]
    /// Output buffers; macros and `{% set %}` blocks render into a pushed buffer.
    var buffers: [String] = [""]
    /// UTF-8 byte ranges of `{% generation %}` bodies in the final output.
    var generationSpans: [Range<Int>] = []
    var callDepth = 0
    /// Current nesting of `eval`/`execute` calls, bounded by `maxFrameDepth`.
    var frameDepth = 0
    /// Evaluator recursion bound; about 5 KB of stack per level in debug builds, so 3000 levels fit the render thread.
    static let maxFrameDepth = 3000
    let now: Date

    enum Flow { case normal, breakLoop, continueLoop }

    init(context: [String: TemplateValue], budget: Budget, now: Date) {
        self.budget = budget
        self.scopes = [context]
        self.now = now
    }

    var formatter: Formatter { Formatter(budget: budget) }

    func error(_ offset: Int, _ message: String) -> TemplateError {
        let p = budget.map.position(offset)
        return .render(line: p.line, column: p.column, message: message)
    }

    func write(_ s: String) throws {
        buffers[buffers.count - 1] += s
        try budget.checkSize(buffers[buffers.count - 1])
    }

    func lookup(_ name: String) -> TemplateValue {
        for frame in scopes.reversed() {
            if let v = frame[name] { return v }
        }
        if Builtins.globals.contains(name) { return .function(TemplateFunction(name: name)) }
        return .undefined
    }

    func assign(_ target: AssignTarget, _ value: TemplateValue, offset: Int) throws {
        switch target {
        case .name(let n):
            scopes[scopes.count - 1][n] = value
        case .names(let names):
            let items = try iterate(value, offset: offset)
            guard items.count == names.count else {
                throw error(offset, "cannot unpack \(items.count) values into \(names.count) names")
            }
            for (n, v) in zip(names, items) { scopes[scopes.count - 1][n] = v }
        case .attribute(let ns, let attr):
            guard case .namespace(let object) = lookup(ns) else {
                throw error(offset, "cannot assign attribute on non-namespace object '\(ns)'")
            }
            if attr.hasPrefix("_") { throw error(offset, "namespace attributes cannot start with '_' ('\(attr)')") }
            object.attributes[attr] = value
        }
    }

    func execute(_ nodes: [Node]) throws -> Flow {
        for node in nodes {
            let flow = try execute(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    /// Counts one level of evaluator recursion; `Template` runs on a thread whose stack fits `maxFrameDepth` levels.
    func enterFrame() throws {
        frameDepth += 1
        if frameDepth > Interpreter.maxFrameDepth {
            throw TemplateError.limitExceeded("expressions, blocks and macro calls nested deeper than "
                + "\(Interpreter.maxFrameDepth) levels, the bound of the render thread's stack (\(budget.location)); simplify the template")
        }
    }

    func execute(_ node: Node) throws -> Flow {
        if case .text(let s) = node {
            try write(s)
            return .normal
        }
        try enterFrame()
        defer { frameDepth -= 1 }
        return try executeNode(node)
    }

    private func executeNode(_ node: Node) throws -> Flow {
        switch node {
        case .text(let s):
            try write(s)
        case .output(let e):
            let v = try eval(e)
            var f = formatter
            try write(try f.str(v))
        case .ifChain(let branches, let otherwise):
            for (condition, body) in branches where try eval(condition).isTruthy {
                return try execute(body)
            }
            return try execute(otherwise)
        case .forLoop(let target, let iterable, let filter, let body, let otherwise, let offset):
            return try executeFor(target, iterable, filter, body, otherwise, offset)
        case .set(let target, let e, let offset):
            try assign(target, try eval(e), offset: offset)
        case .setBlock(let target, let body, let offset):
            try assign(target, .string(try capture(body)), offset: offset)
        case .macro(let m):
            scopes[scopes.count - 1][m.name] = .macro(m)
        case .callBlock(let e, let body, let offset):
            guard case .call(let callee, let args, let kwargs, _) = e else { return .normal }
            let caller = TemplateMacro(name: "caller", parameters: [], body: body)
            budget.offset = offset
            let v = try callValue(try eval(callee), args: args.map(eval), kwargs: try kwargs.map { ($0.0, try eval($0.1)) },
                                  caller: caller, offset: offset)
            var f = formatter
            try write(try f.str(v))
        case .generation(let body):  // a CallBlock in transformers' AssistantTracker: its own frame
            let start = buffers.count == 1 ? buffers[0].utf8.count : nil
            scopes.append([:])
            defer { scopes.removeLast() }
            let flow = try execute(body)
            if let start { generationSpans.append(start..<buffers[0].utf8.count) }
            return flow
        case .filterBlock(let name, let args, let body, let offset):  // jinja2 renders the body in an inner frame
            scopes.append([:])
            let captured = Result { try capture(body) }
            scopes.removeLast()
            let text = try captured.get()
            budget.offset = offset
            let v = try applyFilter(name, .string(text), args: try args.map(eval), kwargs: [], offset: offset)
            var f = formatter
            try write(try f.str(v))
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    /// Renders `body` into a fresh buffer and returns the text.
    func capture(_ body: [Node]) throws -> String {
        buffers.append("")
        defer { buffers.removeLast() }
        _ = try execute(body)
        return buffers[buffers.count - 1]
    }

    func executeFor(_ target: AssignTarget, _ iterable: Expr, _ filter: Expr?, _ body: [Node], _ otherwise: [Node],
                    _ offset: Int) throws -> Flow {
        var items = try iterate(try eval(iterable), offset: iterable.offset)
        if let filter {
            var kept: [TemplateValue] = []
            scopes.append([:])
            defer { scopes.removeLast() }
            for item in items {
                try budget.tick(1)
                try assign(target, item, offset: offset)
                if try eval(filter).isTruthy { kept.append(item) }
            }
            items = kept
        }
        // Jinja clears its "no iteration" flag at the end of the body, so an iteration left by `continue` or
        // `break` does not count: the else block runs unless some iteration ran to its end.
        var completedAnIteration = false
        let n = items.count
        for (i, item) in items.enumerated() {
            budget.offset = offset
            try budget.tick(1)
            scopes.append([:])
            defer { scopes.removeLast() }
            try assign(target, item, offset: offset)
            let loop = TemplateDict(uniqueKeys: [
                ("index", .int(i + 1)), ("index0", .int(i)), ("revindex", .int(n - i)), ("revindex0", .int(n - i - 1)),
                ("first", .bool(i == 0)), ("last", .bool(i == n - 1)), ("length", .int(n)), ("depth", .int(1)),
                ("depth0", .int(0)), ("previtem", i > 0 ? items[i - 1] : .undefined),
                ("nextitem", i + 1 < n ? items[i + 1] : .undefined),
                ("cycle", .function(TemplateFunction(name: "loop.cycle", receiver: .int(i)))),
            ])
            scopes[scopes.count - 1]["loop"] = .dict(loop)
            let flow = try execute(body)
            if flow == .breakLoop { break }
            if flow == .normal { completedAnIteration = true }
        }
        return completedAnIteration ? .normal : try execute(otherwise)
    }

    /// Python iteration: lists, dict keys, string characters; undefined iterates as empty.
    func iterate(_ v: TemplateValue, offset: Int) throws -> [TemplateValue] {
        switch v {
        case .list(let l), .tuple(let l): return l
        case .dict(let d): return d.keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        case .namespace(let ns): return ns.attributes.keys.map { .string($0) }
        default: throw error(offset, "'\(v.typeName)' object is not iterable")
        }
    }

    /// Calls a macro with positional and keyword arguments; its output is its return value.
    func callMacro(_ m: TemplateMacro, args: [TemplateValue], kwargs: [(String, TemplateValue)],
                   caller: TemplateMacro?, offset: Int) throws -> TemplateValue {
        guard callDepth < budget.limits.maxCallDepth else {
            throw TemplateError.limitExceeded("macro calls nested deeper than \(budget.limits.maxCallDepth) (TemplateLimits.maxCallDepth; pass a larger value to raise it) (\(budget.location))")
        }
        guard args.count <= m.parameters.count else {
            throw error(offset, "macro '\(m.name)' takes \(m.parameters.count) arguments, got \(args.count)")
        }
        var frame: [String: TemplateValue] = [:]
        let saved = scopes
        scopes = [scopes[0], [:]]
        callDepth += 1
        defer {
            scopes = saved
            callDepth -= 1
        }
        for (i, p) in m.parameters.enumerated() {
            if i < args.count {
                frame[p.name] = args[i]
            } else if let kw = kwargs.last(where: { $0.0 == p.name }) {
                frame[p.name] = kw.1
            } else if let d = p.defaultValue {
                scopes[1] = frame
                frame[p.name] = try eval(d)
            } else {
                frame[p.name] = .undefined
            }
        }
        if let caller { frame["caller"] = .macro(caller) }
        scopes[1] = frame
        return .string(try capture(m.body))
    }
}
