/// Compact JSON text: keys in stored order, numbers as written, strings escaped as Python's `json.dumps` does
/// (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other control characters as `\u00XX`, the rest raw UTF-8).
extension JSONValue {
    /// How strings are escaped beyond what RFC 8259 requires.
    public struct WriteOptions: Sendable {
        /// Every character outside printable ASCII as `\uXXXX` (Python's `ensure_ascii=True`).
        public var asciiOnly = false
        /// U+2028 and U+2029 as `\u2028`/`\u2029`, which break JavaScript line readers (JSONL outputs).
        public var escapeLineSeparators = false

        /// Options; the defaults escape only what RFC 8259 requires (and `\b`, `\f`, as Python does).
        public init(asciiOnly: Bool = false, escapeLineSeparators: Bool = false) {
            self.asciiOnly = asciiOnly
            self.escapeLineSeparators = escapeLineSeparators
        }
    }

    /// Compact JSON text with keys in stored order.
    public func serialized(_ options: WriteOptions = WriteOptions()) -> String {
        var out: [UInt8] = []
        write(into: &out, options)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact JSON text as UTF-8.
    public func write(into out: inout [UInt8], _ options: WriteOptions = WriteOptions()) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.text.utf8)
        case .string(let s): JSONValue.writeString(s, into: &out, options)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out, options)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for i in 0 ..< object.count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(object.keys[i], into: &out, options)
                out.append(UInt8(ascii: ":"))
                object.values[i].write(into: &out, options)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `s` as a JSON string literal.
    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        writeString(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` as a JSON string literal to a String (see `writeString(_:into:_:)`).
    public static func writeString(_ s: String, asciiOnly: Bool = false, to out: inout String) {
        var bytes: [UInt8] = []
        writeString(s, into: &bytes, WriteOptions(asciiOnly: asciiOnly))
        out += String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `s` as a JSON string literal in UTF-8; with `asciiOnly` every character outside printable ASCII
    /// is `\uXXXX` (a UTF-16 surrogate pair above U+FFFF).
    public static func writeString(_ s: String, into out: inout [UInt8], _ options: WriteOptions = WriteOptions()) {
        let hex: StaticString = "0123456789abcdef"
        func escape(_ unit: UInt32) {
            out.append(contentsOf: [0x5C, UInt8(ascii: "u")])
            for shift in stride(from: 12, through: 0, by: -4) { out.append(hex.utf8Start[Int(unit >> UInt32(shift) & 15)]) }
        }
        out.append(0x22)
        var s = s
        s.withUTF8 { bytes in
            var i = 0
            while i < bytes.count {
                let b = bytes[i]
                switch b {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                case 0 ..< 0x20: escape(UInt32(b))
                case 0x20 ..< 0x7F: out.append(b)
                default:
                    if b == 0x7F {
                        if options.asciiOnly { escape(0x7F) } else { out.append(b) }
                        i += 1
                        continue
                    }
                    // A multi-byte scalar (the String is valid UTF-8).
                    let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
                    let end = min(i + length, bytes.count)
                    var scalar = UInt32(b) & (length == 4 ? 0x07 : length == 3 ? 0x0F : 0x1F)
                    for k in i + 1 ..< end { scalar = scalar << 6 | UInt32(bytes[k] & 0x3F) }
                    if options.asciiOnly {
                        if scalar > 0xFFFF {
                            let v = scalar - 0x10000
                            escape(0xD800 + (v >> 10))
                            escape(0xDC00 + (v & 0x3FF))
                        } else {
                            escape(scalar)
                        }
                    } else if options.escapeLineSeparators, scalar == 0x2028 || scalar == 0x2029 {
                        escape(scalar)
                    } else {
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i ..< end]))
                    }
                    i = end
                    continue
                }
                i += 1
            }
        }
        out.append(0x22)
    }
}
