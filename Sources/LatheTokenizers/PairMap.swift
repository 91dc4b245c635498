/// An open-addressing hash table from a token pair (left id << 32 | right id) to (rank << 32 | merged id):
/// the BPE merge table, probed without hashing through `Hasher`.
struct PairMap: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: PairMap.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always) private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The value for the pair `left`, `right`, if any.
    @inline(__always) func get(_ left: Int32, _ right: Int32) -> UInt64? {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        var i = PairMap.slot(key, mask)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == PairMap.empty { return nil }
            i = (i + 1) & mask
        }
    }

    /// Stores `value` for the pair unless the pair is already present (the first, best-ranked merge wins).
    mutating func insertIfAbsent(_ left: Int32, _ right: Int32, _ value: UInt64) {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        var i = PairMap.slot(key, mask)
        while keys[i] != PairMap.empty {
            if keys[i] == key { return }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = value
    }

    /// Every stored pair with its value (rank << 32 | merged id), in table order.
    var entries: [(left: Int32, right: Int32, value: UInt64)] {
        var out = [(left: Int32, right: Int32, value: UInt64)]()
        for (i, key) in keys.enumerated() where key != PairMap.empty {
            out.append((Int32(bitPattern: UInt32(key >> 32)), Int32(bitPattern: UInt32(truncatingIfNeeded: key)), values[i]))
        }
        return out
    }
}
