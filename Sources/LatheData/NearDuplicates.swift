/// LSH clustering of MinHash band keys, as datatrove's stages 2–3: records sharing a band key are candidate
/// pairs; pairs (optionally verified) are joined by union-find; each cluster keeps its earliest record.
public enum NearDuplicates {
    /// The outcome of clustering.
    public struct Result: Sendable {
        /// For each record, the index of its cluster's survivor (itself when it survives).
        public var survivor: [Int]
        /// Candidate pairs found by LSH (before verification).
        public var candidatePairs: Int
        /// Candidate pairs rejected by the Jaccard check.
        public var rejectedPairs: Int
    }

    /// Clusters `count` records whose band keys are `keys[i * bands ..< (i + 1) * bands]`; records with
    /// `hasSignature[i] == false` (too few words) are never clustered. `verify(a, b)`, when given, must confirm
    /// a candidate pair (a < b) before it is joined.
    public static func cluster(count: Int, bands: Int, keys: [UInt64], hasSignature: [Bool],
                               verify: ((Int, Int) -> Bool)? = nil) -> Result {
        var sets = UnionFind(count: count)
        var candidates = 0, rejected = 0
        var checked: Set<UInt64> = []
        for band in 0..<bands {
            var first: [UInt64: Int32] = [:]
            first.reserveCapacity(count)
            for i in 0..<count where hasSignature[i] {
                let key = keys[i * bands + band]
                guard let j = first[key] else { first[key] = Int32(i); continue }
                let a = Int(j)
                if sets.find(a) == sets.find(i) { continue }
                let pair = UInt64(a) << 32 | UInt64(i)
                if !checked.insert(pair).inserted { continue }
                candidates += 1
                if let verify, !verify(a, i) { rejected += 1; continue }
                sets.union(a, i)
            }
        }
        return Result(survivor: (0..<count).map { sets.find($0) }, candidatePairs: candidates, rejectedPairs: rejected)
    }
}

/// Decontamination: an LSH index of evaluation texts. A training text that shares a band key with an
/// evaluation text (and, when a threshold is set, has at least that exact Jaccard similarity) is contaminated.
public struct ContaminationIndex: Sendable {
    private let minHash: MinHash
    private let bands: [[UInt64: Int]]
    private let evalShingles: [Set<UInt64>]
    /// Evaluation texts indexed (those with at least one shingle).
    public let indexedCount: Int

    /// Indexes `evaluationTexts` (already normalised the same way as training text).
    public init(evaluationTexts: [String], minHash: MinHash) {
        self.minHash = minHash
        var bands = [[UInt64: Int]](repeating: [:], count: minHash.config.bands)
        var indexed = 0
        for (e, text) in evaluationTexts.enumerated() {
            guard let keys = minHash.bandKeys(of: text) else { continue }
            indexed += 1
            for (band, key) in keys.enumerated() where bands[band][key] == nil { bands[band][key] = e }
        }
        self.bands = bands
        let shingler = Shingler(n: minHash.config.ngram)
        evalShingles = minHash.config.jaccardThreshold == nil ? [] : evaluationTexts.map { shingler.shingleSet($0) }
        indexedCount = indexed
    }

    /// The index of the evaluation text `keys` near-duplicates, if any; `text` is needed only for the Jaccard check.
    public func match(keys: UnsafeBufferPointer<UInt64>, text: String) -> Int? {
        var candidates: [Int] = []
        for (band, key) in keys.enumerated() {
            if let e = bands[band][key], !candidates.contains(e) { candidates.append(e) }
        }
        guard !candidates.isEmpty else { return nil }
        guard let threshold = minHash.config.jaccardThreshold else { return candidates[0] }
        let mine = Shingler(n: minHash.config.ngram).shingleSet(text)
        return candidates.first { Shingler.jaccard(mine, evalShingles[$0]) >= threshold }
    }

    /// True when nothing was indexed.
    public var isEmpty: Bool { indexedCount == 0 }
}
