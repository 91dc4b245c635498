/// LSH clustering of MinHash band keys, as datatrove's stages 2–3, with each candidate pair confirmed: records
/// sharing a band key are candidates; a candidate pair is joined (union-find) only when `verify` confirms it —
/// the pipeline checks the exact Jaccard similarity of the two shingle sets against `MinHash.Config.jaccardThreshold`.
/// Unconfirmed banding alone chains records far below the threshold into one cluster (A~B and B~C by band
/// collisions while A and C share little), which is how templated-but-distinct records were merged.
public enum NearDuplicates {
    /// The outcome of clustering.
    public struct Result: Sendable {
        /// For each record, the index of its cluster's survivor (itself when it survives).
        public var survivor: [Int]
        /// Candidate pairs found by LSH and examined.
        public var candidatePairs: Int
        /// Candidate pairs that failed the check (kept apart).
        public var rejectedPairs: Int
        /// Candidate pairs that passed (joined): `candidatePairs − rejectedPairs`.
        public var confirmedPairs: Int { candidatePairs - rejectedPairs }
    }

    /// Distinct clusters remembered per band key: a record sharing the key is checked against each until one
    /// confirms. Templated records can put many unrelated records under one key; the cap bounds the checks.
    static let representativesPerKey = 8

    /// Clusters `count` records whose band keys are `keys[i * bands ..< (i + 1) * bands]`; records with
    /// `hasSignature[i] == false` (too few words) are never clustered. `verify(a, b)`, when given, must confirm
    /// a candidate pair (a < b) before it is joined; without it every candidate pair is joined (datatrove).
    /// In memory; the cleaning pipeline runs the same `Clustering` over spilled band keys.
    public static func cluster(count: Int, bands: Int, keys: [UInt64], hasSignature: [Bool],
                               verify: ((Int, Int) -> Bool)? = nil) throws(DataError) -> Result {
        let budget = SpillBudget.unlimited
        let sorter = SpillSorter<BandEntry>("bands", budget: budget, directory: nil)
        for i in 0..<count where hasSignature[i] {
            for band in 0..<bands { try sorter.append(BandEntry(band: UInt32(band), index: UInt32(i), key: keys[i * bands + band])) }
        }
        var clustering = Clustering(count: count, verify: verify, budget: budget, directory: nil)
        try clustering.run(try sorter.sorted()) { _ in true }
        let (candidates, rejected) = try clustering.pairCounts()
        var sets = clustering.sets
        return Result(survivor: (0..<count).map { sets.find($0) }, candidatePairs: candidates, rejectedPairs: rejected)
    }

    /// The text near-deduplication looks at: every text field joined, except that a chat record's system
    /// messages are left out when it has other turns. A system prompt shared by every record of an export is
    /// not content: with it, two different short exchanges under one long prompt would look alike.
    public static func text(of content: RecordContent) -> String {
        if case .chat(let messages) = content, messages.contains(where: { $0.role != "system" }) {
            return messages.filter { $0.role != "system" && !$0.content.isEmpty }.map(\.content).joined(separator: "\n\n")
        }
        return content.joinedText
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
