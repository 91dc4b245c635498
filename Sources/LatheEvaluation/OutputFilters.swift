import Foundation

/// What a filter pipeline leaves of one request's responses: a list (one per repeat) or, after `take_first`, one
/// text. lm-eval logs either as `filtered_resps`.
enum FilteredValue: Equatable {
    case texts([String])
    case text(String)

    /// The items a list filter iterates over; a single text is iterated character by character, as Python does
    /// when a filter follows `take_first`.
    var items: [String] {
        switch self {
        case .texts(let l): return l
        case .text(let s): return s.map(String.init)
        }
    }

    /// As a logged response.
    var response: Response {
        switch self {
        case .texts(let l): return Response(texts: l)
        case .text(let s): return Response(text: s)
        }
    }
}

/// lm-eval's generation filters (`lm_eval/filters/`: extraction.py, selection.py, transformation.py) on the
/// responses of one request.
enum OutputFilters {
    /// Runs the pipeline over the responses of one request (one per repeat).
    static func apply(_ steps: [FilterStep], to responses: [String]) -> FilteredValue {
        var value = FilteredValue.texts(responses)
        for step in steps {
            switch step {
            case .takeFirst:
                value = .text(value.items.first ?? "")
            case .takeFirstK(let k):
                value = .texts(Array(value.items.prefix(k)))
            case .removeWhitespace:
                value = .texts(value.items.map { $0.pythonStripped() })
            case .lowercase:
                value = .texts(value.items.map { $0.lowercased() })
            case .uppercase:
                value = .texts(value.items.map { $0.uppercased() })
            case .majorityVote:
                value = .texts(value.items.isEmpty ? [] : [majority(value.items)])
            case .regex(let pattern, let group, let fallback):
                value = .texts(value.items.map { regexFilter($0, pattern: pattern, groupSelect: group, fallback: fallback) })
            }
        }
        return value
    }

    /// `Counter(responses).most_common(1)[0][0]`: the highest count, the first seen among equal counts. Responses
    /// are counted by their bytes, as Python compares strings by code points.
    static func majority(_ items: [String]) -> String {
        var counts = [[UInt8]: Int](), order = [[UInt8]]()
        for item in items {
            let key = Array(item.utf8)
            if counts[key] == nil { order.append(key) }
            counts[key, default: 0] += 1
        }
        var best = order[0]
        for key in order where counts[key]! > counts[best]! { best = key }
        return String(decoding: best, as: UTF8.self)
    }

    /// `RegexFilter`: `re.findall(pattern, text)[group_select]`; with several groups, the first non-empty one (else
    /// the fallback); the match stripped. No match, or a group_select outside the matches, gives the fallback.
    static func regexFilter(_ text: String, pattern: String, groupSelect: Int, fallback: String) -> String {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return fallback }
        let ns = text as NSString
        let matches = regex.matches(in: text, range: NSRange(location: 0, length: ns.length))
        guard !matches.isEmpty else { return fallback }
        let index = groupSelect < 0 ? matches.count + groupSelect : groupSelect
        guard index >= 0, index < matches.count else { return fallback }
        let match = matches[index]
        func group(_ g: Int) -> String {
            let r = match.range(at: g)
            return r.location == NSNotFound ? "" : ns.substring(with: r)
        }
        let found: String
        switch regex.numberOfCaptureGroups {
        case 0: found = ns.substring(with: match.range)
        case 1: found = group(1)
        default: found = (1...regex.numberOfCaptureGroups).map(group).first { !$0.isEmpty } ?? fallback
        }
        return found.pythonStripped()
    }
}

extension String {
    /// Python `str.strip()` with no argument: leading and trailing Unicode whitespace removed.
    func pythonStripped() -> String {
        var scalars = Substring(pythonRstripped()).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace || (0x1C...0x1F).contains(first.value) {
            scalars.removeFirst()
        }
        return String(scalars)
    }
}
