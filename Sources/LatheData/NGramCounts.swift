/// Occurrence counts of 64-bit n-gram keys by open addressing (linear probing), for the Gopher repetition
/// rules: one allocation per use and no `Hasher`, where a `Set`/`Dictionary` of `UInt64` spent most of the
/// filter's time. Keys are n-gram hashes, so any value may occur; a slot's occupancy is its count, not a
/// reserved key. Each key also keeps the position it was first added at.
struct NGramCounts {
    private var keys: [UInt64]
    /// 0 for an empty slot.
    private var counts: [Int32]
    private var firsts: [Int32]
    private let mask: Int

    /// A table for up to `capacity` distinct keys (at most half full).
    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: 0, count: size)
        counts = [Int32](repeating: 0, count: size)
        firsts = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    /// Adds one occurrence of `key` (first seen at `position` when new); returns its count after adding.
    @inline(__always)
    mutating func add(_ key: UInt64, at position: Int) -> Int {
        var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while counts[i] != 0 {
            if keys[i] == key { counts[i] += 1; return Int(counts[i]) }
            i = (i + 1) & mask
        }
        keys[i] = key
        counts[i] = 1
        firsts[i] = Int32(truncatingIfNeeded: position)
        return 1
    }

    /// The most frequent key's count and first position; ties go to the key added first (0, 0 when empty).
    func mostFrequent() -> (count: Int, first: Int) {
        var best = (count: Int32(0), first: Int32.max)
        for i in counts.indices where counts[i] > best.count || (counts[i] == best.count && counts[i] > 0 && firsts[i] < best.first) {
            best = (counts[i], firsts[i])
        }
        return (Int(best.count), best.count == 0 ? 0 : Int(best.first))
    }
}
