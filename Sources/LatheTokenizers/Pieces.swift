/// Text during pre-tokenization: UTF-8 bytes and the pieces cut from them so far (HF `PreTokenizedString`).
struct Pieces {
    /// One piece: a byte range of `bytes`, and whether it begins at offset 0 of the original text.
    struct Piece { var range: Range<Int>; var atOrigin: Bool }

    var bytes: [UInt8]
    var pieces: [Piece]

    init(bytes: [UInt8], atOrigin: Bool) {
        self.bytes = bytes
        pieces = bytes.isEmpty ? [] : [Piece(range: 0..<bytes.count, atOrigin: atOrigin)]
    }

    /// Replaces every piece with the pieces `cut` finds in it (given the piece's range, appending absolute ranges).
    mutating func split(_ cut: (UnsafeBufferPointer<UInt8>, Range<Int>, inout [Range<Int>]) -> Void) {
        var next = [Piece](); next.reserveCapacity(pieces.count * 2)
        var found = [Range<Int>]()
        bytes.withUnsafeBufferPointer { p in
            for piece in pieces {
                found.removeAll(keepingCapacity: true)
                cut(p, piece.range, &found)
                for r in found where !r.isEmpty {
                    next.append(Piece(range: r, atOrigin: piece.atOrigin && r.lowerBound == piece.range.lowerBound))
                }
            }
        }
        pieces = next
    }

    /// Rewrites every piece: `rewrite(piece bytes, atOrigin, output)` appends the new bytes of the piece.
    mutating func transform(_ rewrite: (ArraySlice<UInt8>, Bool, inout [UInt8]) -> Void) {
        var out = [UInt8](); out.reserveCapacity(bytes.count + pieces.count * 3)
        var next = [Piece](); next.reserveCapacity(pieces.count)
        for piece in pieces {
            let start = out.count
            rewrite(bytes[piece.range], piece.atOrigin, &out)
            if out.count > start { next.append(Piece(range: start..<out.count, atOrigin: piece.atOrigin)) }
        }
        bytes = out
        pieces = next
    }
}

/// Where a split's delimiter goes: HF `SplitDelimiterBehavior`, cases named as in `tokenizer.json`.
public enum SplitBehavior: String, Sendable {
    case Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous

    /// Cuts `range` given the `matches` found in it (ordered, non-overlapping), as HF `NormalizedString::split`.
    func apply(_ range: Range<Int>, matches: [Range<Int>], invert: Bool, into out: inout [Range<Int>]) {
        // Tile the range into (span, isMatch), as HF `Pattern::find_matches` does.
        var tiles = [(Range<Int>, Bool)](); tiles.reserveCapacity(matches.count * 2 + 1)
        var prev = range.lowerBound
        for m in matches {
            if m.lowerBound > prev { tiles.append((prev..<m.lowerBound, invert)) }
            tiles.append((m, !invert))
            prev = m.upperBound
        }
        if prev < range.upperBound { tiles.append((prev..<range.upperBound, invert)) }
        switch self {
        case .Isolated:
            for (r, _) in tiles { out.append(r) }
        case .Removed:
            for (r, isMatch) in tiles where !isMatch { out.append(r) }
        case .Contiguous:
            var previous = false, begun = out.count
            for (r, isMatch) in tiles {
                if isMatch == previous && out.count > begun { out[out.count - 1] = out[out.count - 1].lowerBound..<r.upperBound }
                else { out.append(r) }
                previous = isMatch
            }
        case .MergedWithPrevious:
            var previous = false, begun = out.count
            for (r, isMatch) in tiles {
                if isMatch && !previous && out.count > begun { out[out.count - 1] = out[out.count - 1].lowerBound..<r.upperBound }
                else { out.append(r) }
                previous = isMatch
            }
        case .MergedWithNext:
            var previous = false
            var merged = [Range<Int>]()
            for (r, isMatch) in tiles.reversed() {
                if isMatch && !previous && !merged.isEmpty { merged[merged.count - 1] = r.lowerBound..<merged[merged.count - 1].upperBound }
                else { merged.append(r) }
                previous = isMatch
            }
            out.append(contentsOf: merged.reversed())
        }
    }
}

/// Appends the ranges of single scalars matching `predicate` in `p[range]` to `out` (HF's `Fn(char) -> bool` pattern).
func scalarMatches(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Range<Int>],
                   _ predicate: (UInt32, CharClass) -> Bool) {
    var i = range.lowerBound
    while i < range.upperBound {
        let (v, n) = decodeScalar(p, i)
        if predicate(v, CharClass.of(v)) { out.append(i..<i + n) }
        i += n
    }
}

/// Appends the occurrences of `needle` in `p[range]` (leftmost, non-overlapping) to `out`.
func literalMatches(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ needle: [UInt8], into out: inout [Range<Int>]) {
    guard !needle.isEmpty else { return }
    var i = range.lowerBound
    let last = range.upperBound - needle.count
    while i <= last {
        var same = true
        for k in 0..<needle.count where p[i + k] != needle[k] { same = false; break }
        if same { out.append(i..<i + needle.count); i += needle.count } else { i += 1 }
    }
}
