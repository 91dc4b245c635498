import Foundation

/// The one Python literal form lm-eval `ast.literal_eval`s from a rendered `doc_to_choice`: a list of strings
/// (or numbers) such as `['red', "blue", 3]`.
enum PythonLiteral {
    /// The items of a list literal as strings, or nil when `text` is not one.
    static func stringList(_ text: String) -> [String]? {
        var chars = Array(text.trimmingCharacters(in: .whitespacesAndNewlines))
        guard chars.first == "[", chars.last == "]" else { return nil }
        chars = Array(chars.dropFirst().dropLast())
        var items = [String](), i = 0
        func skipSpace() { while i < chars.count, chars[i].isWhitespace { i += 1 } }
        while true {
            skipSpace()
            if i == chars.count { return items }
            if chars[i] == "'" || chars[i] == "\"" {
                let quote = chars[i]
                var item = ""
                i += 1
                while i < chars.count, chars[i] != quote {
                    if chars[i] == "\\", i + 1 < chars.count {
                        i += 1
                        switch chars[i] { case "n": item.append("\n"); case "t": item.append("\t"); default: item.append(chars[i]) }
                    } else { item.append(chars[i]) }
                    i += 1
                }
                guard i < chars.count else { return nil }
                i += 1
                items.append(item)
            } else {
                var item = ""
                while i < chars.count, chars[i] != "," { item.append(chars[i]); i += 1 }
                let trimmed = item.trimmingCharacters(in: .whitespaces)
                guard Double(trimmed) != nil else { return nil }
                items.append(trimmed)
            }
            skipSpace()
            if i == chars.count { return items }
            guard chars[i] == "," else { return nil }
            i += 1
        }
    }
}
