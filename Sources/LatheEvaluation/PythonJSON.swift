import Foundation
import LatheFormats
import LatheJinja

/// A JSON value written as Python's `json.dumps(…, ensure_ascii=False)` writes it, so that lm-eval's files and the
/// hashes it takes of JSON text (`doc_hash`) come out byte for byte: keys in insertion order, `", "` and `": "`
/// separators (`",\n"` plus indentation with `indent`), floats as `repr`.
indirect enum PythonJSON: Sendable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case list([PythonJSON])
    case dict([(String, PythonJSON)])

    /// `json.dumps(value, indent=indent, ensure_ascii=False)`.
    func dumps(indent: Int? = nil) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: Int?, level: Int) {
        func open(_ items: Int, _ bracket: String, _ close: String, _ body: (Int) -> Void) {
            guard items > 0 else { out += bracket + close; return }
            out += bracket
            for i in 0..<items {
                if let indent {
                    out += (i == 0 ? "" : ",") + "\n" + String(repeating: " ", count: indent * (level + 1))
                } else if i > 0 {
                    out += ", "
                }
                body(i)
            }
            if let indent { out += "\n" + String(repeating: " ", count: indent * level) }
            out += close
        }
        switch self {
        case .string(let s): LatheFormats.JSONValue.writeString(s, to: &out)
        case .int(let i): out += String(i)
        case .double(let d): out += Self.pythonFloat(d)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .list(let items):
            open(items.count, "[", "]") { items[$0].write(into: &out, indent: indent, level: level + 1) }
        case .dict(let entries):
            open(entries.count, "{", "}") { i in
                LatheFormats.JSONValue.writeString(entries[i].0, to: &out)
                out += ": "
                entries[i].1.write(into: &out, indent: indent, level: level + 1)
            }
        }
    }

    /// Python `repr(float)`: the shortest digits that round-trip (as Swift's), positional for 1e-4 ≤ |x| < 1e16 and
    /// with an exponent (`1e-05`, `1e+16`) outside; `NaN` and `Infinity` as `json` writes them.
    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Decompose Swift's shortest representation into sign, digits and decimal exponent.
        let text = "\(d.magnitude)"
        var mantissa = text, exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(text[..<e])
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts[0]), fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = whole + fraction
        var point = whole.count + exponent                 // value = 0.digits × 10^point
        while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); point -= 1 }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let sign = d < 0 ? "-" : ""
        let decimalExponent = point - 1
        if decimalExponent < -4 || decimalExponent >= 16 {
            let head = String(digits.prefix(1)), tail = String(digits.dropFirst())
            let e = (decimalExponent < 0 ? "-" : "+") + (abs(decimalExponent) < 10 ? "0" : "") + String(abs(decimalExponent))
            return sign + head + (tail.isEmpty ? "" : "." + tail) + "e" + e
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) + ".0" }
        return sign + String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
    }
}

extension PythonJSON {
    /// A document value as Python holds it after `datasets` loaded the JSON line (macros and functions, which a
    /// document cannot hold, as null).
    init(_ value: TemplateValue) {
        switch value {
        case .string(let s): self = .string(s)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .bool(let b): self = .bool(b)
        case .list(let l): self = .list(l.map(PythonJSON.init))
        case .dict(let d): self = .dict(d.entries.map { ($0.key, PythonJSON($0.value)) })
        default: self = .null
        }
    }
}
