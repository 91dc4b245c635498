/// Expression evaluation with Jinja's attribute/item lookup rules and Python operator semantics.
extension Interpreter {
    func eval(_ e: Expr) throws -> TemplateValue {
        if case .literal(let v, _) = e { return v }
        try enterFrame()
        defer { frameDepth -= 1 }
        return try evalNode(e)
    }

    private func evalNode(_ e: Expr) throws -> TemplateValue {
        switch e {
        case .literal(let v, _): return v
        case .name(let n, _): return lookup(n)
        case .list(let items, _): return .list(try items.map { try eval($0) })
        case .tuple(let items, _): return .tuple(try items.map { try eval($0) })
        case .dict(let pairs, let o):
            var d = TemplateDict()
            for (k, v) in pairs {
                guard case .string(let key) = try eval(k) else { throw error(o, "dictionary keys must be strings here") }
                d[key] = try eval(v)
            }
            return .dict(d)
        case .attribute(let base, let name, let o):
            return try attribute(try eval(base), name, offset: o, baseExpr: base)
        case .item(let base, let index, let o):
            return try item(try eval(base), try eval(index), offset: o, baseExpr: base)
        case .slice(let base, let start, let stop, let step, let o):
            return try slice(try eval(base), start.map(eval), stop.map(eval), step.map(eval), offset: o)
        case .call(let callee, let args, let kwargs, let o):
            let argValues = try args.map { try eval($0) }
            let kwValues = try kwargs.map { ($0.0, try eval($0.1)) }
            budget.offset = o
            return try callValue(try eval(callee), args: argValues, kwargs: kwValues, caller: nil, offset: o,
                                 calleeExpr: callee)
        case .filter(let base, let name, let args, let kwargs, let o):
            let v = try eval(base)
            let argValues = try args.map { try eval($0) }
            let kwValues = try kwargs.map { ($0.0, try eval($0.1)) }
            budget.offset = o
            return try applyFilter(name, v, args: argValues, kwargs: kwValues, offset: o)
        case .test(let base, let name, let args, let negated, let o):
            let v = try eval(base)
            let argValues = try args.map { try eval($0) }
            budget.offset = o
            return .bool(try applyTest(name, v, args: argValues, offset: o) != negated)
        case .unary(let op, let operand, let o):
            let v = try eval(operand)
            budget.offset = o
            switch (op, v) {
            case ("-", .int(let i)):
                guard i != Int.min else { throw error(o, "integer overflow") }
                return .int(-i)
            case ("-", .double(let d)): return .double(-d)
            case ("-", .bool(let b)): return .int(b ? -1 : 0)
            case ("+", .int), ("+", .double): return v
            case ("+", .bool(let b)): return .int(b ? 1 : 0)
            default: throw undefinedOrType(v, "bad operand type for unary \(op): '\(v.typeName)'", o, operand)
            }
        case .binary(let op, let l, let r, let o):
            let lv = try eval(l), rv = try eval(r)
            budget.offset = o
            if op == "~" {
                var f = formatter
                let s = try f.str(lv) + f.str(rv)
                try budget.checkSize(s)
                return .string(s)
            }
            if op == "%", case .string(let format) = lv, !rv.isUndefined {
                // Python's `str % args`: a tuple (a list here) gives the arguments, a dict the named fields.
                var args: [TemplateValue] = [rv], named: [(String, TemplateValue)] = []
                if case .tuple(let items) = rv { args = items }
                if case .dict(let d) = rv { args = []; named = d.entries.map { ($0.key, $0.value) } }
                let a = Arguments(args: args, kwargs: named, interpreter: self, offset: o, function: "'%' formatting")
                return .string(try printfFormat(format, args: args, a))
            }
            if lv.isUndefined { throw undefinedError(l, o) }
            if rv.isUndefined { throw undefinedError(r, o) }
            return try Operators.binary(op, lv, rv, budget: budget)
        case .compare(let first, let rest, let o):
            var left = try eval(first)
            for (op, rexpr) in rest {
                let right = try eval(rexpr)
                budget.offset = o
                guard try Operators.compare(op, left, right, budget: budget) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .and(let l, let r, _):
            let lv = try eval(l)
            return lv.isTruthy ? try eval(r) : lv
        case .or(let l, let r, _):
            let lv = try eval(l)
            return lv.isTruthy ? lv : try eval(r)
        case .not(let operand, _):
            return .bool(!(try eval(operand).isTruthy))
        case .conditional(let then, let test, let otherwise, _):
            if try eval(test).isTruthy { return try eval(then) }
            return try otherwise.map { try eval($0) } ?? .undefined
        }
    }

    /// A description of the expression for "is undefined" messages: `'messages'`, `'message.content'`.
    func describe(_ e: Expr) -> String {
        switch e {
        case .name(let n, _): return n
        case .attribute(let b, let n, _): return describe(b) + "." + n
        case .item(let b, .literal(.string(let k), _), _): return describe(b) + "['" + k + "']"
        case .item(let b, .literal(.int(let i), _), _): return describe(b) + "[\(i)]"
        default: return "value"
        }
    }

    func undefinedError(_ e: Expr, _ offset: Int) -> TemplateError {
        error(offset, "'\(describe(e))' is undefined")
    }

    func undefinedOrType(_ v: TemplateValue, _ message: String, _ offset: Int, _ e: Expr) -> TemplateError {
        v.isUndefined ? undefinedError(e, offset) : error(offset, message)
    }

    /// `x.name`: Python attribute first (methods), then the item, as `Environment.getattr` does.
    func attribute(_ v: TemplateValue, _ name: String, offset: Int, baseExpr: Expr? = nil) throws -> TemplateValue {
        if Methods.has(v, name) { return .function(TemplateFunction(name: name, receiver: v)) }
        switch v {
        case .dict(let d): return d[name] ?? .undefined
        case .namespace(let ns): return ns.attributes[name] ?? .undefined
        case .undefined:
            throw error(offset, "'\(baseExpr.map(describe) ?? "value")' is undefined (reading its attribute '\(name)')")
        default: return .undefined
        }
    }

    /// `x[key]`: the item first, then a string key as an attribute, as `Environment.getitem` does.
    func item(_ v: TemplateValue, _ key: TemplateValue, offset: Int, baseExpr: Expr? = nil) throws -> TemplateValue {
        switch (v, key) {
        case (.dict(let d), .string(let k)):
            if let found = d[k] { return found }
            return Methods.has(v, k) ? try attribute(v, k, offset: offset) : .undefined
        case (.list(let l), _), (.tuple(let l), _):
            guard let i = Operators.intIndex(key) else { break }
            let j = i < 0 ? i + l.count : i
            return j >= 0 && j < l.count ? l[j] : .undefined
        case (.string(let s), _):
            guard let i = Operators.intIndex(key) else { break }
            let scalars = Array(s.unicodeScalars)
            let j = i < 0 ? i + scalars.count : i
            return j >= 0 && j < scalars.count ? .string(String(scalars[j])) : .undefined
        case (.undefined, _):
            throw error(offset, "'\(baseExpr.map(describe) ?? "value")' is undefined (reading an item of it)")
        default: break
        }
        if case .string(let k) = key { return try attribute(v, k, offset: offset) }
        return .undefined
    }

    /// Python slicing `[start:stop:step]` on lists and strings.
    func slice(_ v: TemplateValue, _ start: TemplateValue?, _ stop: TemplateValue?, _ step: TemplateValue?,
               offset: Int) throws -> TemplateValue {
        func bound(_ b: TemplateValue?) throws -> Int? {
            guard let b, !(b == .none) else { return nil }
            guard let i = Operators.intIndex(b) else { throw error(offset, "slice indices must be integers or None") }
            return i
        }
        let stepValue = try bound(step) ?? 1
        guard stepValue != 0 else { throw error(offset, "slice step cannot be zero") }
        func indices(_ n: Int) throws -> [Int] {
            var lo = try bound(start), hi = try bound(stop)
            if let l = lo, l < 0 { lo = max(l + n, stepValue < 0 ? -1 : 0) }
            if let h = hi, h < 0 { hi = max(h + n, stepValue < 0 ? -1 : 0) }
            var out: [Int] = []
            if stepValue > 0 {
                var i = min(lo ?? 0, n)
                let end = min(hi ?? n, n)
                while i < end {
                    out.append(i)
                    let (next, overflow) = i.addingReportingOverflow(stepValue)
                    if overflow { break }
                    i = next
                }
            } else {
                var i = min(lo ?? n - 1, n - 1)
                let end = hi ?? -1
                while i > end {
                    out.append(i)
                    let (next, overflow) = i.addingReportingOverflow(stepValue)
                    if overflow { break }
                    i = next
                }
            }
            try budget.tick(out.count / 64)
            return out
        }
        switch v {
        case .list(let l): return .list(try indices(l.count).map { l[$0] })
        case .tuple(let l): return .tuple(try indices(l.count).map { l[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        case .undefined: throw error(offset, "cannot slice an undefined value")
        case .dict: throw error(offset, "unhashable type: 'slice'")
        default: throw error(offset, "'\(v.typeName)' object is not subscriptable")  // Jinja slices with Python's []
        }
    }

    func callValue(_ f: TemplateValue, args: [TemplateValue], kwargs: [(String, TemplateValue)], caller: TemplateMacro?,
                   offset: Int, calleeExpr: Expr? = nil) throws -> TemplateValue {
        switch f {
        case .macro(let m):
            return try callMacro(m, args: args, kwargs: kwargs, caller: caller, offset: offset)
        case .function(let fn):
            if let receiver = fn.receiver?.value, fn.name != "loop.cycle" {
                return try Methods.call(receiver, fn.name, args: args, kwargs: kwargs, interpreter: self, offset: offset)
            }
            return try Builtins.call(fn, args: args, kwargs: kwargs, interpreter: self, offset: offset)
        case .undefined:
            throw error(offset, "'\(calleeExpr.map(describe) ?? "value")' is undefined (called as a function)")
        default:
            throw error(offset, "'\(f.typeName)' object is not callable")
        }
    }
}
