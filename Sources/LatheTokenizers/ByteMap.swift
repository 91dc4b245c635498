/// An open-addressing hash table from byte strings to `Int64`, looked up straight from a buffer without allocating.
/// Byte keys (not `String`) keep canonically-equivalent but different spellings apart, as HF's Rust maps do.
struct ByteMap: Sendable {
    private var arena: [UInt8] = []          // all keys, back to back
    private var slots: [Int32]               // index into `entries`, or -1 when empty
    private var entries: [(start: Int32, count: Int32, hash: UInt64, value: Int64)] = []

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
    }

    var count: Int { entries.count }
    var arenaBytes: Int { arena.count }

    @inline(__always) static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a, then a final mix
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h ^= h >> 29; h = h &* 0xbf58_476d_1ce4_e5b9; h ^= h >> 32
        return h
    }

    /// The value stored for `key`, if any.
    @inline(__always) func get(_ key: UnsafeBufferPointer<UInt8>) -> Int64? {
        let h = ByteMap.hash(key)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        return arena.withUnsafeBufferPointer { a in
            while true {
                let e = slots[i]
                if e < 0 { return nil }
                let entry = entries[Int(e)]
                if entry.hash == h && Int(entry.count) == key.count {
                    let start = Int(entry.start)
                    var same = true
                    for k in 0..<key.count where a[start + k] != key[k] { same = false; break }
                    if same { return entry.value }
                }
                i = (i + 1) & mask
            }
        }
    }

    func get(_ key: [UInt8]) -> Int64? { key.withUnsafeBufferPointer { get($0) } }

    /// Inserts or replaces the value for `key`.
    mutating func set(_ key: UnsafeBufferPointer<UInt8>, _ value: Int64) {
        if (entries.count + 1) * 2 > slots.count { grow() }
        let h = ByteMap.hash(key)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] >= 0 {
            let entry = entries[Int(slots[i])]
            if entry.hash == h && Int(entry.count) == key.count
                && arena[Int(entry.start)..<Int(entry.start) + key.count].elementsEqual(key) {
                entries[Int(slots[i])].value = value
                return
            }
            i = (i + 1) & mask
        }
        slots[i] = Int32(entries.count)
        entries.append((Int32(arena.count), Int32(key.count), h, value))
        arena.append(contentsOf: key)
    }

    mutating func set(_ key: [UInt8], _ value: Int64) { key.withUnsafeBufferPointer { set($0, value) } }

    /// Removes every entry, keeping the allocated capacity.
    mutating func removeAll() {
        arena.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = -1 }
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (n, entry) in entries.enumerated() {
            var i = Int(truncatingIfNeeded: entry.hash) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(n)
        }
    }
}
