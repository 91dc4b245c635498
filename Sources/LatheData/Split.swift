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
        var groups: [Int: [Int]] = [:]
        for (i, s) in strata.enumerated() { groups[s, default: []].append(i) }
        var isEval = [Bool](repeating: false, count: hashes.count)
        for (_, members) in groups {
            let k = Int((fraction * Double(members.count)).rounded())
            let ordered = members.sorted { (hashes[$0], $0) < (hashes[$1], $1) }
            for i in ordered.prefix(k) { isEval[i] = true }
        }
        return isEval
    }
}
