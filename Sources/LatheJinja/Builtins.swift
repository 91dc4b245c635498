import Foundation

/// Global functions: Jinja's `range`, `namespace`, `dict`, plus transformers' `raise_exception` and `strftime_now`
/// (chat_template_utils.py `_cached_compile_jinja_template`). Nothing here touches files, network or environment.
enum Builtins {
    static let globals: Set<String> = ["range", "namespace", "dict", "raise_exception", "strftime_now"]

    static func call(_ f: TemplateFunction, args: [TemplateValue], kwargs: [(String, TemplateValue)],
                     interpreter: Interpreter, offset: Int) throws -> TemplateValue {
        let a = Arguments(args: args, kwargs: kwargs, interpreter: interpreter, offset: offset, function: f.name)
        switch f.name {
        case "range": return try range(a)
        case "namespace", "dict":
            var d = TemplateDict()
            if let first = args.first {
                guard case .dict(let initial) = first else { throw a.fail("expected a mapping, got \(first.typeName)") }
                d = initial
            }
            for (k, v) in kwargs { d[k] = v }
            if f.name == "dict" { return .dict(d) }
            if let bad = d.keys.first(where: { $0.hasPrefix("_") }) {
                throw a.fail("namespace attributes cannot start with '_' ('\(bad)')")
            }
            return .namespace(TemplateNamespace(d))
        case "raise_exception":
            var fmt = interpreter.formatter
            let message = try fmt.str(try a.value(0, "message") ?? .string(""))
            let p = interpreter.budget.map.position(offset)
            throw TemplateError.raised(line: p.line, column: p.column, message: message)
        case "strftime_now":
            guard case .string(let format)? = try a.value(0, "format") else { throw a.fail("expected a format string") }
            return .string(strftime(format, interpreter.now))
        case "loop.cycle":
            guard case .int(let index)? = f.receiver?.value, !args.isEmpty else { throw a.fail("no items to cycle") }
            return args[index % args.count]
        default:
            throw a.fail("unknown function")
        }
    }

    /// Jinja's sandboxed `range`: refuses more than `maxRangeLength` items (`MAX_RANGE` = 100,000).
    static func range(_ a: Arguments) throws -> TemplateValue {
        let ints = try a.args.map { v -> Int in
            guard let i = Operators.intIndex(v) else { throw a.fail("'\(v.typeName)' object cannot be interpreted as an integer") }
            return i
        }
        let (start, stop, step): (Int, Int, Int)
        switch ints.count {
        case 1: (start, stop, step) = (0, ints[0], 1)
        case 2: (start, stop, step) = (ints[0], ints[1], 1)
        case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
        default: throw a.fail("expected 1 to 3 integer arguments, got \(ints.count)")
        }
        guard step != 0, step != Int.min else { throw a.fail("arg 3 must be a non-zero 64-bit integer") }
        let span = step > 0 ? stop.subtractingReportingOverflow(start) : start.subtractingReportingOverflow(stop)
        let stride = abs(step)
        let count = span.overflow ? Int.max
            : max(0, span.partialValue / stride + (span.partialValue % stride > 0 ? 1 : 0))
        let limit = a.interpreter.budget.limits.maxRangeLength
        guard count <= limit else {
            throw TemplateError.limitExceeded("range of \(count) items is larger than \(limit) (TemplateLimits.maxRangeLength; pass a larger value to raise it) (\(a.interpreter.budget.location))")
        }
        return .list((0..<count).map { .int(start + $0 * step) })
    }

    /// C `strftime` for the common directives, in the machine's local time zone (Python's `datetime.now()`).
    static func strftime(_ format: String, _ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone.current
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                      "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        func pad(_ v: Int?, _ width: Int = 2) -> String {
            let s = String(v ?? 0)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let month = months[((c.month ?? 1) - 1) % 12], day = days[((c.weekday ?? 1) - 1) % 7]
        let hour = c.hour ?? 0
        var out = ""
        var it = format.makeIterator()
        while let ch = it.next() {
            guard ch == "%", let d = it.next() else { out.append(ch); continue }
            switch d {
            case "Y": out += String(c.year ?? 0)
            case "y": out += pad((c.year ?? 0) % 100)
            case "m": out += pad(c.month)
            case "d": out += pad(c.day)
            case "H": out += pad(hour)
            case "I": out += pad(hour % 12 == 0 ? 12 : hour % 12)
            case "M": out += pad(c.minute)
            case "S": out += pad(c.second)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "B": out += month
            case "b", "h": out += String(month.prefix(3))
            case "A": out += day
            case "a": out += String(day.prefix(3))
            case "j": out += pad(calendar.ordinality(of: .day, in: .year, for: date), 3)
            case "%": out += "%"
            default: out += "%" + String(d)
            }
        }
        return out
    }
}
