/// Jinja tests (`x is defined`, `x is divisibleby 3`), following jinja2/tests.py.
extension Interpreter {
    func applyTest(_ name: String, _ v: TemplateValue, args: [TemplateValue], offset: Int) throws -> Bool {
        let a = Arguments(args: args, kwargs: [], interpreter: self, offset: offset, function: "test '\(name)'")
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": if case .none = v { return true } else { return false }
        case "string": if case .string = v { return true } else { return false }
        case "number":
            switch v { case .int, .double, .bool: return true; default: return false }
        case "integer": if case .int = v { return true } else { return false }
        case "float": if case .double = v { return true } else { return false }
        case "boolean": if case .bool = v { return true } else { return false }
        case "true": if case .bool(true) = v { return true } else { return false }
        case "false": if case .bool(false) = v { return true } else { return false }
        case "mapping": if case .dict = v { return true } else { return false }
        case "iterable":
            switch v { case .string, .list, .tuple, .dict, .undefined, .namespace: return true; default: return false }
        case "sequence":  // has len() and __getitem__, which Jinja's Undefined also has
            switch v { case .string, .list, .tuple, .dict, .undefined: return true; default: return false }
        case "callable":
            switch v { case .macro, .function: return true; default: return false }
        case "odd", "even", "divisibleby":  // value % 2 == 1, value % 2 == 0, value % num == 0
            let divisor = name == "divisibleby" ? try a.required(0, "num") : .int(2)
            let r = try Operators.binary("%", v, divisor, budget: budget)
            return try Operators.equal(r, .int(name == "odd" ? 1 : 0), budget)
        case "lower", "upper":  // str(value).islower() / .isupper()
            var f = formatter
            let s = try f.str(v)
            guard s.unicodeScalars.contains(where: { $0.properties.isCased }) else { return false }
            return name == "lower" ? s == s.lowercased() : s == s.uppercased()
        case "escaped": return false
        case "sameas":
            let other = try a.required(0, "other")
            switch (v, other) {
            case (.none, .none), (.undefined, .undefined): return true
            case (.bool(let x), .bool(let y)): return x == y
            case (.namespace(let x), .namespace(let y)): return x === y
            default: return false
            }
        case "eq", "equalto", "==": return try Operators.compare("==", v, try a.required(0, "other"), budget: budget)
        case "ne", "!=": return try Operators.compare("!=", v, try a.required(0, "other"), budget: budget)
        case "lt", "lessthan", "<": return try Operators.compare("<", v, try a.required(0, "other"), budget: budget)
        case "le", "<=": return try Operators.compare("<=", v, try a.required(0, "other"), budget: budget)
        case "gt", "greaterthan", ">": return try Operators.compare(">", v, try a.required(0, "other"), budget: budget)
        case "ge", ">=": return try Operators.compare(">=", v, try a.required(0, "other"), budget: budget)
        case "in": return try Operators.compare("in", v, try a.required(0, "seq"), budget: budget)
        case "filter": return Filters.names.contains((try? a.required(0, "name")).flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "")
        case "test": return Interpreter.testNames.contains((try? a.required(0, "name")).flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "")
        default:
            throw error(offset, "no test named '\(name)'")
        }
    }

    static let testNames: Set<String> = [
        "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "true", "false", "mapping",
        "iterable", "sequence", "callable", "odd", "even", "divisibleby", "lower", "upper", "escaped", "sameas", "eq",
        "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in",
        "filter", "test",
    ]
}
