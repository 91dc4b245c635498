/// One MinHash band key of one record, the unit the clustering sorts: ordered by band, key, then record, so a
/// sorted stream lists each band's key groups, each group's records in input order.
struct BandEntry: Comparable, BitwiseCopyable {
    var band: UInt32
    var index: UInt32
    var key: UInt64

    static func < (a: BandEntry, b: BandEntry) -> Bool {
        (a.band, a.key, a.index) < (b.band, b.key, b.index)
    }
}

/// LSH clustering with confirmed pairs (`NearDuplicates`), from band keys sorted on disk or in memory.
///
/// For each band, in band order, each record (in input order) that shares its band key with an earlier record
/// is checked against that key's representatives: its first record, then up to `representativesPerKey − 1`
/// records whose checks failed. A key group's first record is found by the sort; the records of the band are
/// then replayed in input order from a second sort of (record, first) pairs, so every union happens in the
/// order of a single in-memory pass and the clusters (earliest record kept) do not depend on the budget.
/// Memory: the union-find (4 bytes per record), the representatives of keys whose check failed in the
/// current band, and caches bounded by the budget.
struct Clustering {
    /// The clusters (root = earliest record).
    private(set) var sets: UnionFind
    private let verify: ((Int, Int) throws(DataError) -> Bool)?
    private let budget: SpillBudget
    private let directory: SpillDirectory?
    /// Pairs joined after a successful check (each is examined once: it stays joined).
    private var confirmed = 0
    /// Pairs whose check failed, possibly repeated (a pair can share keys in several bands); counted distinct.
    private let failed: SpillSorter<UInt64>
    /// Recently failed pairs, so a pair sharing keys in several bands is not checked again (results do not
    /// depend on it: a check is deterministic).
    private var failedCache: Set<UInt64> = []
    private let failedCacheLimit: Int

    init(count: Int, verify: ((Int, Int) throws(DataError) -> Bool)?, budget: SpillBudget, directory: SpillDirectory?) {
        sets = UnionFind(count: count)
        self.verify = verify
        self.budget = budget
        self.directory = directory
        failed = SpillSorter("failed-pairs", budget: budget, directory: directory)
        failedCacheLimit = max(64, min(1 << 20, budget.limit / 64))
    }

    /// Clusters the records of `entries` (band keys sorted by `BandEntry`) for which `isMember` holds.
    mutating func run(_ entries: SortedStream<BandEntry>, isMember: (Int) -> Bool) throws(DataError) {
        var band: UInt32?
        var key: UInt64 = 0
        var first: UInt32 = 0
        var pairs = SpillSorter<UInt64>("band-pairs", budget: budget, directory: directory)
        while let entry = try entries.next() {
            guard isMember(Int(entry.index)) else { continue }
            if entry.band != band {
                if band != nil {
                    try replay(try pairs.sorted())
                    pairs = SpillSorter("band-pairs", budget: budget, directory: directory)
                }
                band = entry.band
                key = entry.key; first = entry.index
                continue
            }
            if entry.key != key { key = entry.key; first = entry.index; continue }
            try pairs.append(UInt64(entry.index) << 32 | UInt64(first))
        }
        if band != nil { try replay(try pairs.sorted()) }
    }

    /// One band: `pairs` holds (record << 32 | first record of its key), in record order.
    private mutating func replay(_ pairs: SortedStream<UInt64>) throws(DataError) {
        // Further representatives of a key (by its first record), only for keys where a check failed.
        var more: [UInt32: [UInt32]] = [:]
        while let pair = try pairs.next() {
            let i = Int(pair >> 32), first = UInt32(truncatingIfNeeded: pair)
            if try join(Int(first), i) { continue }
            let others = more[first] ?? []
            var joined = false
            for other in others {
                if try join(Int(other), i) { joined = true; break }
            }
            if !joined, others.count + 1 < NearDuplicates.representativesPerKey { more[first, default: []].append(UInt32(i)) }
        }
    }

    /// True when `i` is (now) in `a`'s cluster: already, or by a newly confirmed pair (a < i).
    private mutating func join(_ a: Int, _ i: Int) throws(DataError) -> Bool {
        if sets.find(a) == sets.find(i) { return true }
        let pair = UInt64(a) << 32 | UInt64(i)
        if failedCache.contains(pair) { return false }
        if let verify, !(try verify(a, i)) {
            try failed.append(pair)
            if failedCache.count >= failedCacheLimit { failedCache.removeAll(keepingCapacity: true) }
            failedCache.insert(pair)
            return false
        }
        sets.union(a, i)
        confirmed += 1
        return true
    }

    /// Distinct candidate pairs examined, and those whose check failed. Call once, after `run`.
    func pairCounts() throws(DataError) -> (candidates: Int, rejected: Int) {
        let stream = try failed.sorted()
        var distinct = 0
        var last: UInt64?
        while let pair = try stream.next() {
            if pair != last { distinct += 1; last = pair }
        }
        return (confirmed + distinct, distinct)
    }
}

/// The report's near-duplicate section from the clusters, in bounded memory: member lists are sorted by
/// cluster on disk, and only the 1,000 largest clusters (largest first, then earliest) are listed.
enum ClusterSummary {
    static let listed = 1000

    /// Counts and examples (ids from the journal); also the largest cluster's survivor and first dropped member.
    static func summarize(_ sets: inout UnionFind, live: BitSet, budget: SpillBudget, spill: SpillDirectory,
                          journal: RecordJournal) throws(DataError) -> (CleanReport.NearDuplicates, (Int, Int)?) {
        var near = CleanReport.NearDuplicates()
        let members = SpillSorter<UInt64>("cluster-members", budget: budget, directory: spill)
        for i in 0..<live.count where live[i] {
            let root = sets.find(i)
            if root != i { try members.append(UInt64(root) << 32 | UInt64(i)) }
        }
        // (UInt32.max − size) << 32 | root: ascending is largest first, then earliest.
        let sizes = SpillSorter<UInt64>("cluster-sizes", budget: budget, directory: spill)
        let stream = try members.sorted()
        var root: UInt64?, size = 0
        func close() throws(DataError) {
            guard let root else { return }
            near.clusters += 1
            near.recordsDropped += size
            near.largestCluster = max(near.largestCluster, size + 1)
            try sizes.append((UInt64(UInt32.max) - UInt64(size)) << 32 | root)
        }
        while let pair = try stream.next() {
            if pair >> 32 != root { try close(); root = pair >> 32; size = 0 }
            size += 1
        }
        try close()
        let order = try sizes.sorted()
        var roots: [Int] = []
        while roots.count < listed, let entry = try order.next() { roots.append(Int(UInt32(truncatingIfNeeded: entry))) }
        guard !roots.isEmpty else { return (near, nil) }
        var dropped = [Int: [Int]](uniqueKeysWithValues: roots.map { ($0, []) })
        for i in 0..<live.count where live[i] {
            let r = sets.find(i)
            if r != i, dropped[r] != nil { dropped[r]!.append(i) }
        }
        func id(_ i: Int) throws(DataError) -> String { journal.source(try journal.info(i)).id }
        for r in roots {
            var ids: [String] = []
            for i in dropped[r]! { ids.append(try id(i)) }
            near.examples.append(CleanReport.Cluster(survivor: try id(r), dropped: ids))
        }
        return (near, (roots[0], dropped[roots[0]]![0]))
    }
}
