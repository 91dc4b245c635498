/// Train/evaluation split settings.
public struct SplitConfig: Codable, Sendable, Equatable {
    /// Fraction of records that go to evaluation (0…1).
    public var evalFraction: Double
    /// Field whose value defines the strata (e.g. `category`); nil for no stratification.
    public var stratifyField: String?
    /// Seed mixed into the content hash (0). Change it to draw a different split.
    public var seed: UInt64

    /// Creates settings.
    public init(evalFraction: Double, stratifyField: String? = nil, seed: UInt64 = 0) {
        self.evalFraction = evalFraction; self.stratifyField = stratifyField; self.seed = seed
    }
    enum CodingKeys: String, CodingKey { case evalFraction = "eval_fraction", stratifyField = "stratify_field", seed }
}

/// Deterministic splitting by content hash.
///
/// Without strata a record goes to evaluation when its hash, read as a number in [0, 1), is below the
/// fraction: its side depends on its own text only, so adding records never moves existing ones. With strata,
/// each stratum sends its `round(fraction × size)` lowest-hash records to evaluation, so every stratum is
/// represented in proportion; adding records to a stratum can move at most the records at its boundary.
public enum Splitter {
    /// The hash position of a record in [0, 1).
    public static func position(_ hash: UInt64) -> Double { Double(hash >> 11) / Double(1 << 53) }

    /// For each record, true when it goes to evaluation. `strata[i]` is the record's stratum (nil: no strata).
    public static func assign(hashes: [UInt64], strata: [Int]?, fraction: Double) -> [Bool] {
        guard let strata else { return hashes.map { position($0) < fraction } }
        var ids: [Int: UInt32] = [:], sizes: [Int] = []
        var entries: [Stratified.Entry] = []
        for (i, s) in strata.enumerated() {
            let id = ids[s] ?? { ids[s] = UInt32(sizes.count); sizes.append(0); return UInt32(sizes.count - 1) }()
            sizes[Int(id)] += 1
            entries.append(Stratified.Entry(stratum: id, index: UInt32(i), hash: hashes[i]))
        }
        entries.sort()
        var isEval = [Bool](repeating: false, count: hashes.count)
        var iterator = entries.makeIterator()
        Stratified.select({ iterator.next() }, sizes: sizes, fraction: fraction) { isEval[$0] = true }
        return isEval
    }
}

/// The stratified split (`Splitter.assign` with strata) over records on disk: each stratum's
/// `round(fraction × size)` lowest-hash surviving records, found by sorting (stratum, hash, record).
enum Stratified {
    /// One surviving record of a stratum, ordered by stratum, hash, then record.
    struct Entry: Comparable, BitwiseCopyable {
        var stratum: UInt32
        var index: UInt32
        var hash: UInt64
        static func < (a: Entry, b: Entry) -> Bool { (a.stratum, a.hash, a.index) < (b.stratum, b.hash, b.index) }
    }

    /// The evaluation records in record order, or nil when the split is not stratified (then each record's
    /// side follows from its own hash). Survivors are live records that are their cluster's root.
    static func evaluationRecords(_ split: SplitConfig?, clusters: inout UnionFind?, live: BitSet, strata: Int,
                                  journal: RecordJournal, budget: SpillBudget,
                                  spill: SpillDirectory) throws(DataError) -> SortedStream<UInt64>? {
        guard let split, split.stratifyField != nil else { return nil }
        let entries = SpillSorter<Entry>("strata", budget: budget, directory: spill)
        var sizes = [Int](repeating: 0, count: max(strata, 1))
        let infos = try journal.indexEntries()
        var index = 0
        while let info = try infos.next() {
            defer { index += 1 }
            guard live[index], clusters?.find(index) ?? index == index else { continue }
            sizes[Int(info.stratum)] += 1
            try entries.append(Entry(stratum: info.stratum, index: UInt32(index), hash: info.splitHash))
        }
        let evaluation = SpillSorter<UInt64>("evaluation", budget: budget, directory: spill)
        let ordered = try entries.sorted()
        try select({ () throws(DataError) in try ordered.next() }, sizes: sizes, fraction: split.evalFraction) { i throws(DataError) in
            try evaluation.append(UInt64(i))
        }
        return try evaluation.sorted()
    }

    /// Calls `take` for each stratum's `round(fraction × size)` first entries of `next` (sorted by `Entry`).
    static func select<E: Error>(_ next: () throws(E) -> Entry?, sizes: [Int], fraction: Double,
                                 take: (Int) throws(E) -> Void) throws(E) {
        var stratum: UInt32?, taken = 0
        while let entry = try next() {
            if entry.stratum != stratum { stratum = entry.stratum; taken = 0 }
            if taken < Int((fraction * Double(sizes[Int(entry.stratum)])).rounded()) { try take(Int(entry.index)); taken += 1 }
        }
    }
}
