/// Plain substring search and replacement on Unicode scalars, without Foundation.
extension String {
    /// Replaces every occurrence of `target` (without Foundation).
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    /// The first range of `target` (plain scalar comparison, no Foundation).
    func range(of target: String) -> Range<Index>? {
        let t = Array(target.unicodeScalars)
        guard let first = t.first else { return nil }
        let scalars = unicodeScalars
        var i = scalars.startIndex
        while i != scalars.endIndex {
            if scalars[i] == first {
                var j = i, k = 0
                while k < t.count, j != scalars.endIndex, scalars[j] == t[k] { j = scalars.index(after: j); k += 1 }
                if k == t.count { return i..<j }
            }
            i = scalars.index(after: i)
        }
        return nil
    }
}
