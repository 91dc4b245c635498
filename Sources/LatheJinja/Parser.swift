/// Builds the statement tree from tokens, following jinja2/parser.py for the supported tags.
struct Parser {
    let tokens: [Token]
    let map: SourceMap
    let maxNesting: Int
    var pos = 0
    var depth = 0

    init(tokens: [Token], map: SourceMap, maxNesting: Int) {
        self.tokens = tokens
        self.map = map
        self.maxNesting = maxNesting
    }

    var current: Token { tokens[pos] }
    var offset: Int { tokens[pos].offset }

    func error(_ offset: Int, _ message: String) -> TemplateError {
        let p = map.position(offset)
        return .syntax(line: p.line, column: p.column, message: message)
    }

    mutating func advance() { if pos < tokens.count - 1 { pos += 1 } }

    func isName(_ word: String) -> Bool {
        if case .name(let n) = current.kind, n == word { return true }
        return false
    }

    func isOp(_ op: String) -> Bool {
        if case .op(let o) = current.kind, o == op { return true }
        return false
    }

    mutating func skipName(_ word: String) -> Bool {
        if isName(word) { advance(); return true }
        return false
    }

    mutating func skipOp(_ op: String) -> Bool {
        if isOp(op) { advance(); return true }
        return false
    }

    mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw error(offset, "expected '\(op)', found \(describe(current))") }
    }

    mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else { throw error(offset, "expected a name, found \(describe(current))") }
        advance()
        return n
    }

    mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else { throw error(offset, "expected '%}', found \(describe(current))") }
        advance()
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .text: return "template text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string: return "a string"
        case .int, .float: return "a number"
        case .op(let o): return "'\(o)'"
        case .eof: return "the end of the template"
        }
    }

    mutating func enter(_ at: Int) throws {
        depth += 1
        guard depth <= maxNesting else {
            throw TemplateError.limitExceeded("nesting deeper than \(maxNesting) (TemplateLimits.maxNesting; pass a larger value to raise it) at \(map.position(at).line):\(map.position(at).column)")
        }
    }

    /// Parses the whole template.
    mutating func parseTemplate() throws -> [Node] {
        let (nodes, end) = try parseBody(until: [])
        if let end { throw error(offset, "unexpected '\(end)'") }
        return nodes
    }

    /// Parses nodes until a block tag whose keyword is in `until`; returns that keyword (already consumed) or nil at EOF.
    mutating func parseBody(until: Set<String>) throws -> ([Node], String?) {
        try enter(offset)
        defer { depth -= 1 }
        var nodes: [Node] = []
        while true {
            let t = current
            switch t.kind {
            case .eof:
                if !until.isEmpty {
                    throw error(t.offset, "unexpected end of template; expected one of: \(until.sorted().joined(separator: ", "))")
                }
                return (nodes, nil)
            case .text(let s):
                nodes.append(.text(s))
                advance()
            case .variableBegin:
                advance()
                let e = try parseTupleExpression(conditional: true)
                guard current.kind == .variableEnd else { throw error(offset, "expected '}}', found \(describe(current))") }
                advance()
                nodes.append(.output(e))
            case .blockBegin:
                advance()
                guard case .name(let keyword) = current.kind else {
                    throw error(offset, "expected a statement name after '{%', found \(describe(current))")
                }
                if until.contains(keyword) {
                    advance()
                    return (nodes, keyword)
                }
                nodes.append(try parseStatement(keyword))
            default:
                throw error(t.offset, "unexpected \(describe(t))")
            }
        }
    }

    mutating func parseStatement(_ keyword: String) throws -> Node {
        let start = offset
        advance()
        switch keyword {
        case "if": return try parseIf()
        case "for": return try parseFor(start)
        case "set": return try parseSet(start)
        case "macro": return try parseMacro()
        case "call": return try parseCallBlock(start)
        case "filter": return try parseFilterBlock(start)
        case "generation":
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endgeneration"])
            try expectBlockEnd()
            return .generation(body)
        case "break", "continue":
            try expectBlockEnd()
            return keyword == "break" ? .breakLoop(offset: start) : .continueLoop(offset: start)
        case "include", "extends", "import", "from", "block", "with", "autoescape", "endraw":
            throw error(start, "'{% \(keyword) %}' is not supported in Lathe's template sandbox")
        default:
            throw error(start, "unknown tag '\(keyword)'")
        }
    }

    mutating func parseIf() throws -> Node {
        var branches: [(Expr, [Node])] = []
        var condition = try parseExpression(conditional: false)
        while true {
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            switch end {
            case "elif":
                condition = try parseExpression(conditional: false)
            case "else":
                try expectBlockEnd()
                let (otherwise, _) = try parseBody(until: ["endif"])
                try expectBlockEnd()
                return .ifChain(branches, otherwise: otherwise)
            default:
                try expectBlockEnd()
                return .ifChain(branches, otherwise: [])
            }
        }
    }

    mutating func parseAssignTarget(allowAttribute: Bool) throws -> AssignTarget {
        let parenthesised = skipOp("(")
        let first = try expectName()
        if allowAttribute, !parenthesised, skipOp(".") {
            return .attribute(namespace: first, attribute: try expectName())
        }
        var names = [first]
        var sawComma = false
        while skipOp(",") {
            sawComma = true
            if case .name = current.kind, !isName("in") { names.append(try expectName()) } else { break }
        }
        if parenthesised { try expectOp(")") }
        return sawComma || parenthesised && names.count > 1 ? .names(names) : .name(first)
    }

    mutating func parseFor(_ start: Int) throws -> Node {
        let target = try parseAssignTarget(allowAttribute: false)
        guard skipName("in") else { throw error(offset, "expected 'in' in the for loop, found \(describe(current))") }
        let iterable = try parseExpression(conditional: false)
        var filter: Expr? = nil
        if skipName("if") { filter = try parseExpression(conditional: true) }
        if isName("recursive") { throw error(offset, "recursive for loops are not supported") }
        try expectBlockEnd()
        let (body, end) = try parseBody(until: ["endfor", "else"])
        var otherwise: [Node] = []
        if end == "else" {
            try expectBlockEnd()
            (otherwise, _) = try parseBody(until: ["endfor"])
        }
        try expectBlockEnd()
        return .forLoop(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, offset: start)
    }

    mutating func parseSet(_ start: Int) throws -> Node {
        let target = try parseAssignTarget(allowAttribute: true)
        if skipOp("=") {
            let value = try parseTupleExpression(conditional: true)
            try expectBlockEnd()
            return .set(target, value, offset: start)
        }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endset"])
        try expectBlockEnd()
        return .setBlock(target, body: body, offset: start)
    }

    mutating func parseMacro() throws -> Node {
        let name = try expectName()
        try expectOp("(")
        var parameters: [(name: String, defaultValue: Expr?)] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let p = try expectName()
            parameters.append((p, skipOp("=") ? try parseExpression(conditional: true) : nil))
        }
        try expectOp(")")
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endmacro"])
        if case .name = current.kind { advance() }  // `{% endmacro name %}`
        try expectBlockEnd()
        return .macro(TemplateMacro(name: name, parameters: parameters, body: body))
    }

    mutating func parseCallBlock(_ start: Int) throws -> Node {
        let call = try parseExpression(conditional: true)
        guard case .call = call else { throw error(start, "'{% call %}' expects a macro call") }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endcall"])
        try expectBlockEnd()
        return .callBlock(call, body: body, offset: start)
    }

    mutating func parseFilterBlock(_ start: Int) throws -> Node {
        let name = try expectName()
        var args: [Expr] = []
        if isOp("(") {
            let (a, _) = try parseCallArguments()
            args = a
        }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endfilter"])
        try expectBlockEnd()
        return .filterBlock(name: name, args: args, body: body, offset: start)
    }
}
