/// A bound on YAML nesting, checked before the text reaches Yams: libyaml and Yams' composer recurse once per
/// level, so a few thousand nested `[`, `{` or `- ` overflow the stack or take super-linear time (found by
/// fuzzing recipe and task YAML). The scan over-estimates depth (it counts every indentation step and every compact
/// `- ` as a level), never under-estimates it, and reads each byte once.
public enum YAMLNesting {
    /// Deepest nesting accepted by the readers of recipe and task YAML.
    public static let maxDepth = 100

    /// The first line (1-based) whose nesting exceeds `limit`, with the depth estimated there; nil when within it.
    public static func firstLineTooDeep(_ text: String, limit: Int = maxDepth) -> (line: Int, depth: Int)? {
        var indents: [Int] = []  // indentation of the open block levels
        var flow = 0             // open `[` / `{` (flow collections span lines)
        var line = 0
        for slice in lines(Array(text.utf8)) {
            line += 1
            let bytes = Array(slice)
            var i = 0
            while i < bytes.count, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") { i += 1 }
            if i == bytes.count || bytes[i] == UInt8(ascii: "#") { continue }
            var block = 0
            if flow == 0 {
                while let top = indents.last, top > i { indents.removeLast() }
                if indents.last != i { indents.append(i) }
                block = indents.count
                // Compact sequences (`- - - x`) open one level per dash on the same line.
                while i + 1 < bytes.count, bytes[i] == UInt8(ascii: "-"), bytes[i + 1] == UInt8(ascii: " ") {
                    block += 1
                    i += 2
                    while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
                }
            }
            let deepest = scanFlow(bytes, from: i, flow: &flow) + block
            if deepest > limit { return (line, deepest) }
        }
        return nil
    }

    /// The text's lines split at every break libyaml's scanner knows: LF, CR, CR LF (one break), and the Unicode
    /// NEL (C2 85), LS (E2 80 A8) and PS (E2 80 A9). Splitting at LF alone read `\r[[[…` as a blank line and let
    /// thousands of CR-separated `[` through to Yams, which overflowed the stack (task-yaml campaign, 2026-12-02).
    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0, i = 0
        while i < bytes.count {
            var breakLength = 0
            switch bytes[i] {
            case UInt8(ascii: "\n"): breakLength = 1
            case UInt8(ascii: "\r"): breakLength = i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n") ? 2 : 1
            case 0xC2 where i + 1 < bytes.count && bytes[i + 1] == 0x85: breakLength = 2
            case 0xE2 where i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
                breakLength = 3
            default: break
            }
            if breakLength == 0 { i += 1; continue }
            lines.append(bytes[start..<i])
            i += breakLength
            start = i
        }
        lines.append(bytes[start..<bytes.count])
        return lines
    }

    /// Updates the open flow-collection count over one line; returns the deepest count reached on it.
    /// Outside flow collections only a `[` or `{` that starts a value opens one (`a[0]` in a plain scalar does not).
    private static func scanFlow(_ bytes: [UInt8], from start: Int, flow: inout Int) -> Int {
        var deepest = flow
        var quote: UInt8? = nil
        var valueStart = true
        var i = start
        while i < bytes.count {
            let c = bytes[i]
            if let q = quote {
                if c == UInt8(ascii: "\\"), q == UInt8(ascii: "\"") { i += 1 } else if c == q { quote = nil }
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                if flow > 0 || valueStart { quote = c }
            } else if c == UInt8(ascii: "#"), i == 0 || bytes[i - 1] == UInt8(ascii: " ") {
                break
            } else if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                if flow > 0 || valueStart { flow += 1; deepest = max(deepest, flow) }
            } else if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                if flow > 0 { flow -= 1 }
            }
            let separator = c == UInt8(ascii: ":") || c == UInt8(ascii: "-") || c == UInt8(ascii: ",")
            valueStart = c == UInt8(ascii: " ") ? valueStart : (separator || (valueStart && (c == UInt8(ascii: "[") || c == UInt8(ascii: "{"))))
            i += 1
        }
        return deepest
    }
}
