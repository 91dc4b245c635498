/// HF's BPE model (`"type": "BPE"`): initial symbols per character (or per byte after a ByteLevel pre-tokenizer),
/// merged by rank with a priority queue, with `byte_fallback`, `unk_token`/`fuse_unk`, `ignore_merges`,
/// `continuing_subword_prefix` and `end_of_word_suffix`.
public final class BPEModel: Sendable {
    /// Token strings by id (the model's vocabulary only).
    public let tokens: [String]
    /// Token UTF-8 → id.
    let byToken: ByteMap
    /// The key space `encode` looks symbols up in: raw bytes for byte-level models, else `byToken`.
    let byUnit: ByteMap
    /// (left id, right id) → (rank << 32 | merged id).
    let merges: PairMap
    let unkId: Int32?
    let fuseUnk: Bool, byteFallback: Bool, ignoreMerges: Bool
    let prefix: [UInt8], suffix: [UInt8]
    /// `continuing_subword_prefix` and `end_of_word_suffix` as written, for writing the model back.
    let prefixText: String?, suffixText: String?
    /// Pieces arrive as raw bytes standing for byte-level characters.
    let byteLevel: Bool
    /// byte → id of its single-byte symbol (byte-level, no prefix/suffix), or -1.
    let byteIds: [Int32]
    /// byte → id of `<0xXX>`, or -1.
    let fallbackIds: [Int32]

    /// Builds the model from vocabulary and merges (pairs of token strings, in rank order).
    init(tokens: [String], merges mergePairs: [(String, String)], unkToken: String?, fuseUnk: Bool, byteFallback: Bool,
         ignoreMerges: Bool, prefix: String?, suffix: String?, byteLevel: Bool, file: String) throws {
        self.tokens = tokens
        var byToken = ByteMap(capacity: tokens.count)
        for (id, t) in tokens.enumerated() { byToken.set(Array(t.utf8), Int64(id)) }
        self.byToken = byToken
        if byteLevel {
            var raw = ByteMap(capacity: tokens.count)
            for (id, t) in tokens.enumerated() {
                if let bytes = ByteLevelAlphabet.bytes(of: t), raw.get(bytes) == nil { raw.set(bytes, Int64(id)) }
            }
            byUnit = raw
        } else {
            byUnit = byToken
        }
        let prefixLength = prefix?.utf8.count ?? 0
        var merges = PairMap(capacity: mergePairs.count)
        for (rank, (a, b)) in mergePairs.enumerated() {
            func id(_ t: String) throws -> Int64 {
                guard let id = byToken.get(Array(t.utf8)) else {
                    throw TokenizerError.unknownToken(file: file, message:
                        "merge #\(rank) \"\(a) \(b)\" names \"\(t)\", which is not in the vocabulary; the merges do not belong to this vocabulary")
                }
                return id
            }
            let merged = a + String(decoding: Array(b.utf8).dropFirst(prefixLength), as: UTF8.self)
            let (ia, ib, im) = (try id(a), try id(b), try id(merged))
            merges.insertIfAbsent(Int32(ia), Int32(ib), UInt64(rank) << 32 | UInt64(im))
        }
        self.merges = merges
        if let unk = unkToken {
            guard let id = byToken.get(Array(unk.utf8)) else {
                throw TokenizerError.unknownToken(file: file, message: "unk_token \"\(unk)\" is not in the vocabulary")
            }
            unkId = Int32(id)
        } else {
            unkId = nil
        }
        self.fuseUnk = fuseUnk; self.byteFallback = byteFallback; self.ignoreMerges = ignoreMerges
        self.prefix = Array((byteLevel ? prefix.flatMap(ByteLevelAlphabet.bytes) : nil) ?? Array((prefix ?? "").utf8))
        self.suffix = Array((byteLevel ? suffix.flatMap(ByteLevelAlphabet.bytes) : nil) ?? Array((suffix ?? "").utf8))
        self.prefixText = prefix; self.suffixText = suffix
        self.byteLevel = byteLevel
        var byteIds = [Int32](repeating: -1, count: 256), fallbackIds = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if byteLevel, prefix == nil || prefix == "", suffix == nil || suffix == "", let id = byUnit.get([UInt8(b)]) {
                byteIds[b] = Int32(id)
            }
            let hex = String(b, radix: 16, uppercase: true)
            if let id = byUnit.get(Array("<0x\(hex.count == 1 ? "0" + hex : hex)>".utf8)) { fallbackIds[b] = Int32(id) }
        }
        self.byteIds = byteIds
        self.fallbackIds = fallbackIds
    }

    /// Appends the ids of one pre-token to `out`, through `scratch`'s cache.
    func encode(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ scratch: inout BPEScratch, into out: inout [Int32]) {
        let piece = UnsafeBufferPointer(rebasing: p[range])
        let cacheable = piece.count <= 256
        if cacheable, let hit = scratch.cache.get(piece) {
            let start = Int(hit >> 16), count = Int(hit & 0xFFFF)
            out.append(contentsOf: scratch.cacheIds[start..<start + count])
            return
        }
        let before = out.count
        if ignoreMerges, let id = byUnit.get(piece) {
            out.append(Int32(id))
        } else {
            initialSymbols(piece, &scratch)
            scratch.mergeAll(merges)
            scratch.emit(into: &out)
        }
        if cacheable { scratch.remember(piece, out[before...]) }
    }

    /// Fills `scratch.ids` with the symbols of `piece` before any merge (HF `BPE::merge_word`).
    private func initialSymbols(_ piece: UnsafeBufferPointer<UInt8>, _ scratch: inout BPEScratch) {
        scratch.ids.removeAll(keepingCapacity: true)
        if byteLevel && byteIds[Int(piece[0])] >= 0 && prefix.isEmpty && suffix.isEmpty {
            var all = true
            for b in piece { let id = byteIds[Int(b)]; if id < 0 { all = false; break }; scratch.ids.append(id) }
            if all { return }
            scratch.ids.removeAll(keepingCapacity: true)
        }
        var unk: Int32? = nil  // a pending (possibly fused) unknown
        var key = [UInt8]()
        var i = 0
        while i < piece.count {
            let n = byteLevel ? 1 : scalarLength(piece[i])
            let end = min(i + n, piece.count)
            key.removeAll(keepingCapacity: true)
            if i > 0 { key.append(contentsOf: prefix) }
            key.append(contentsOf: piece[i..<end])
            if end == piece.count { key.append(contentsOf: suffix) }
            if let id = key.withUnsafeBufferPointer({ byUnit.get($0) }) {
                if let u = unk { scratch.ids.append(u); unk = nil }
                scratch.ids.append(Int32(id))
            } else if byteFallback, key.allSatisfy({ fallbackIds[Int($0)] >= 0 }) {
                for b in key { scratch.ids.append(fallbackIds[Int(b)]) }  // HF leaves a pending unknown pending here
            } else if let unkId {
                if unk != nil && !fuseUnk { scratch.ids.append(unkId) }
                unk = unkId
            }
            i = end
        }
        if let u = unk { scratch.ids.append(u) }
    }
}

/// Per-call working memory for BPE (a struct passed `inout`, so no dynamic exclusivity checks): symbol lists, the merge queue, and the pre-token cache.
struct BPEScratch {
    var ids: [Int32] = []
    var prev: [Int32] = [], next: [Int32] = []
    var heap: [UInt64] = []          // rank << 32 | position; the smallest first
    var heapNew: [Int32] = []        // merged id of each heap entry
    var cache = ByteMap(capacity: 4096)
    var cacheIds: [Int32] = []

    /// Merges the symbols in `ids` by rank, lowest rank and then leftmost first (HF `Word::merge_all`):
    /// a doubly linked list over the symbols and a binary min-heap of candidate pairs, O(n log n).
    mutating func mergeAll(_ merges: PairMap) {
        let n = ids.count
        guard n > 1 else { return }
        if prev.count < n { prev = [Int32](repeating: 0, count: n); next = prev }
        if heap.count < 3 * n { heap = [UInt64](repeating: 0, count: 3 * n); heapNew = [Int32](repeating: 0, count: 3 * n) }
        ids.withUnsafeMutableBufferPointer { ids in
        prev.withUnsafeMutableBufferPointer { prev in
        next.withUnsafeMutableBufferPointer { next in
        heap.withUnsafeMutableBufferPointer { keys in
        heapNew.withUnsafeMutableBufferPointer { news in
            var count = 0  // heap entries: key = rank << 32 | position, with the merged id beside it
            func push(_ key: UInt64, _ newId: Int32) {
                var i = count
                count += 1
                while i > 0 {
                    let parent = (i - 1) >> 1
                    guard keys[parent] > key else { break }
                    keys[i] = keys[parent]; news[i] = news[parent]
                    i = parent
                }
                keys[i] = key; news[i] = newId
            }
            func pop() -> (UInt64, Int32) {
                let top = (keys[0], news[0])
                count -= 1
                let key = keys[count], newId = news[count]
                var i = 0
                while true {
                    let l = 2 * i + 1
                    guard l < count else { break }
                    let c = l + 1 < count && keys[l + 1] < keys[l] ? l + 1 : l
                    guard keys[c] < key else { break }
                    keys[i] = keys[c]; news[i] = news[c]
                    i = c
                }
                keys[i] = key; news[i] = newId
                return top
            }
            for i in 0..<n { prev[i] = Int32(i - 1); next[i] = i + 1 < n ? Int32(i + 1) : -1 }
            for i in 0..<(n - 1) {
                if let m = merges.get(ids[i], ids[i + 1]) { push(m & 0xFFFF_FFFF_0000_0000 | UInt64(i), Int32(truncatingIfNeeded: m)) }
            }
            while count > 0 {
                let (key, newId) = pop()
                let pos = Int(key & 0xFFFF_FFFF)
                guard ids[pos] >= 0, next[pos] >= 0 else { continue }  // merged away, or now last
                let right = Int(next[pos])
                // Skip a stale entry: the pair at `pos` changed since it was queued.
                guard let m = merges.get(ids[pos], ids[right]), Int32(truncatingIfNeeded: m) == newId else { continue }
                ids[pos] = newId
                ids[right] = -1
                next[pos] = next[right]
                if next[pos] >= 0 { prev[Int(next[pos])] = Int32(pos) }
                if prev[pos] >= 0, let m = merges.get(ids[Int(prev[pos])], newId) {
                    push(m & 0xFFFF_FFFF_0000_0000 | UInt64(prev[pos]), Int32(truncatingIfNeeded: m))
                }
                if next[pos] >= 0, let m = merges.get(newId, ids[Int(next[pos])]) {
                    push(m & 0xFFFF_FFFF_0000_0000 | UInt64(pos), Int32(truncatingIfNeeded: m))
                }
            }
        }}}}}
    }

    /// Appends the surviving symbols to `out`.
    func emit(into out: inout [Int32]) {
        for id in ids where id >= 0 { out.append(id) }
    }

    /// Caches the ids of `piece`; the cache starts over when it grows past a few megabytes.
    mutating func remember(_ piece: UnsafeBufferPointer<UInt8>, _ result: ArraySlice<Int32>) {
        if cache.count >= 200_000 || cacheIds.count >= 4_000_000 {
            cache.removeAll(); cacheIds.removeAll(keepingCapacity: true)
        }
        cache.set(piece, Int64(cacheIds.count) << 16 | Int64(result.count))
        cacheIds.append(contentsOf: result)
    }
}
