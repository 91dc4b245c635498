/// Expression grammar with Jinja's precedence (jinja2/parser.py): conditional < or < and < not < compare
/// < `+ -` < `~` < `* / // %` < `**` (left-associative, as in Jinja) < unary < postfix, filters and tests.
extension Parser {
    /// `a, b` without brackets is a tuple.
    mutating func parseTupleExpression(conditional: Bool) throws -> Expr {
        let start = offset
        let first = try parseExpression(conditional: conditional)
        guard isOp(",") else { return first }
        var items = [first]
        while skipOp(",") {
            if current.kind == .blockEnd || current.kind == .variableEnd { break }
            items.append(try parseExpression(conditional: conditional))
        }
        return .tuple(items, offset: start)
    }

    mutating func parseExpression(conditional: Bool) throws -> Expr {
        try enter(offset)
        defer { depth -= 1 }
        var expr = try parseOr()
        guard conditional else { return expr }
        var chain = 0
        defer { depth -= chain }
        while isName("if") {
            let start = offset
            try enter(start)
            chain += 1
            advance()
            let test = try parseOr()
            let otherwise: Expr? = skipName("else") ? try parseExpression(conditional: true) : nil
            expr = .conditional(expr, test: test, otherwise: otherwise, offset: start)
        }
        return expr
    }

    mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        var chain = 0
        defer { depth -= chain }
        while isName("or") {
            let o = offset
            try enter(o)
            chain += 1
            advance()
            left = .or(left, try parseAnd(), offset: o)
        }
        return left
    }

    mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        var chain = 0
        defer { depth -= chain }
        while isName("and") {
            let o = offset
            try enter(o)
            chain += 1
            advance()
            left = .and(left, try parseNot(), offset: o)
        }
        return left
    }

    mutating func parseNot() throws -> Expr {
        if isName("not") {
            let o = offset
            advance()
            try enter(o)
            defer { depth -= 1 }
            return .not(try parseNot(), offset: o)
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> Expr {
        let start = offset
        let left = try parseMath1()
        var ops: [(String, Expr)] = []
        while true {
            if case .op(let o) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(o) {
                advance()
                ops.append((o, try parseMath1()))
            } else if isName("in") {
                advance()
                ops.append(("in", try parseMath1()))
            } else if isName("not"), pos + 1 < tokens.count, tokens[pos + 1].kind == .name("in") {
                advance(); advance()
                ops.append(("notin", try parseMath1()))
            } else { break }
        }
        return ops.isEmpty ? left : .compare(left, ops, offset: start)
    }

    mutating func parseBinaryLevel(_ ops: [String], _ next: (inout Parser) throws -> Expr) throws -> Expr {
        var left = try next(&self)
        var chain = 0
        defer { depth -= chain }
        while case .op(let o) = current.kind, ops.contains(o) {
            let at = offset
            try enter(at)
            chain += 1
            advance()
            left = .binary(o, left, try next(&self), offset: at)
        }
        return left
    }

    mutating func parseMath1() throws -> Expr { try parseBinaryLevel(["+", "-"]) { try $0.parseConcat() } }
    mutating func parseConcat() throws -> Expr { try parseBinaryLevel(["~"]) { try $0.parseMath2() } }
    mutating func parseMath2() throws -> Expr { try parseBinaryLevel(["*", "/", "//", "%"]) { try $0.parsePow() } }
    mutating func parsePow() throws -> Expr { try parseBinaryLevel(["**"]) { try $0.parseUnary(withFilter: true) } }

    mutating func parseUnary(withFilter: Bool) throws -> Expr {
        let start = offset
        try enter(start)
        defer { depth -= 1 }
        var node: Expr
        if isOp("-") || isOp("+") {
            let op = isOp("-") ? "-" : "+"
            advance()
            node = .unary(op, try parseUnary(withFilter: false), offset: start)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        return withFilter ? try parseFilterExpression(node) : node
    }

    mutating func parsePrimary() throws -> Expr {
        let t = current
        switch t.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .literal(.bool(true), offset: t.offset)
            case "false", "False": return .literal(.bool(false), offset: t.offset)
            case "none", "None": return .literal(.none, offset: t.offset)
            default: return .name(n, offset: t.offset)
            }
        case .string(var s):
            advance()
            while case .string(let more) = current.kind { s += more; advance() }
            return .literal(.string(s), offset: t.offset)
        case .int(let i):
            advance()
            return .literal(.int(i), offset: t.offset)
        case .float(let d):
            advance()
            return .literal(.double(d), offset: t.offset)
        case .op("("):
            advance()
            if skipOp(")") { return .tuple([], offset: t.offset) }
            let e = try parseExpression(conditional: true)
            if isOp(",") {
                var items = [e]
                while skipOp(",") {
                    if isOp(")") { break }
                    items.append(try parseExpression(conditional: true))
                }
                try expectOp(")")
                return .tuple(items, offset: t.offset)
            }
            try expectOp(")")
            return e
        case .op("["):
            advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression(conditional: true))
            }
            try expectOp("]")
            return .list(items, offset: t.offset)
        case .op("{"):
            advance()
            var pairs: [(Expr, Expr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let k = try parseExpression(conditional: true)
                try expectOp(":")
                pairs.append((k, try parseExpression(conditional: true)))
            }
            try expectOp("}")
            return .dict(pairs, offset: t.offset)
        default:
            throw error(t.offset, "unexpected \(describe(t)) in an expression")
        }
    }

    mutating func parsePostfix(_ base: Expr) throws -> Expr {
        var node = base
        var chain = 0
        defer { depth -= chain }
        while true {
            let at = offset
            if isOp(".") || isOp("[") || isOp("(") {
                try enter(at)
                chain += 1
            }
            if skipOp(".") {
                switch current.kind {
                case .name(let n):
                    advance()
                    node = .attribute(node, n, offset: at)
                case .int(let i):
                    advance()
                    node = .item(node, .literal(.int(i), offset: at), offset: at)
                default: throw error(offset, "expected an attribute name after '.'")
                }
            } else if skipOp("[") {
                node = try parseSubscript(node, at)
            } else if isOp("(") {
                let (args, kwargs) = try parseCallArguments()
                node = .call(node, args: args, kwargs: kwargs, offset: node.offset)
            } else {
                return node
            }
        }
    }

    mutating func parseSubscript(_ base: Expr, _ at: Int) throws -> Expr {
        var parts: [Expr?] = []
        var isSlice = false
        var currentPart: Expr? = nil
        while true {
            if isOp("]") { parts.append(currentPart); break }
            if skipOp(":") {
                isSlice = true
                parts.append(currentPart)
                currentPart = nil
                continue
            }
            guard currentPart == nil else { throw error(offset, "expected ':' or ']' in a subscript") }
            currentPart = try parseExpression(conditional: true)
        }
        try expectOp("]")
        guard isSlice else {
            guard let index = parts[0] else { throw error(at, "empty subscript") }
            return .item(base, index, offset: at)
        }
        guard parts.count <= 3 else { throw error(at, "a slice takes at most three parts") }
        return .slice(base, start: parts[0], stop: parts.count > 1 ? parts[1] : nil,
                      step: parts.count > 2 ? parts[2] : nil, offset: at)
    }

    /// `(a, b, key=value)`; the cursor is on `(`.
    mutating func parseCallArguments() throws -> ([Expr], [(String, Expr)]) {
        try expectOp("(")
        var args: [Expr] = []
        var kwargs: [(String, Expr)] = []
        while !isOp(")") {
            if !args.isEmpty || !kwargs.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            if case .name(let n) = current.kind, pos + 1 < tokens.count, tokens[pos + 1].kind == .op("=") {
                advance(); advance()
                kwargs.append((n, try parseExpression(conditional: true)))
            } else {
                guard kwargs.isEmpty else { throw error(offset, "positional argument after a keyword argument") }
                args.append(try parseExpression(conditional: true))
            }
        }
        try expectOp(")")
        return (args, kwargs)
    }

    mutating func parseFilterExpression(_ base: Expr) throws -> Expr {
        var node = base
        var chain = 0
        defer { depth -= chain }
        while true {
            let at = offset
            if isOp("|") || isName("is") || isOp("(") {
                try enter(at)
                chain += 1
            }
            if skipOp("|") {
                let name = try expectName()
                var args: [Expr] = [], kwargs: [(String, Expr)] = []
                if isOp("(") { (args, kwargs) = try parseCallArguments() }
                node = .filter(node, name: name, args: args, kwargs: kwargs, offset: at)
            } else if isName("is") {
                advance()
                let negated = skipName("not")
                let name = try expectName()
                var args: [Expr] = []
                if isOp("(") {
                    (args, _) = try parseCallArguments()
                } else if startsTestArgument() {
                    args = [try parsePostfix(try parsePrimary())]
                }
                node = .test(node, name: name, args: args, negated: negated, offset: at)
            } else if isOp("(") {
                let (args, kwargs) = try parseCallArguments()
                node = .call(node, args: args, kwargs: kwargs, offset: at)
            } else {
                return node
            }
        }
    }

    /// Jinja accepts one bare argument after a test name (`x is divisibleby 3`) unless the next word ends the test.
    func startsTestArgument() -> Bool {
        switch current.kind {
        case .name(let n): return !["else", "or", "and", "if", "is", "in", "not"].contains(n)
        case .string, .int, .float, .op("["), .op("{"): return true
        default: return false
        }
    }
}
