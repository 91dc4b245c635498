/// The record of every decision of a cleaning run, written as `clean_report.json`.
public struct CleanReport: Codable, Sendable {
    /// Records in and out of one step.
    public struct Step: Codable, Sendable {
        /// Step name (`read`, `filter:length`, `exact_dedup`, `near_dedup`, `decontamination`).
        public var name: String
        /// Records entering.
        public var recordsIn: Int
        /// Records leaving.
        public var recordsOut: Int
        enum CodingKeys: String, CodingKey { case name, recordsIn = "records_in", recordsOut = "records_out" }
    }

    /// Per-input counts.
    public struct Input: Codable, Sendable {
        /// Path as given.
        public var path: String
        /// Records decoded.
        public var records: Int
        /// Lines or rows rejected while reading.
        public var badLines: Int
        /// Empty lines skipped.
        public var emptyLines: Int
        enum CodingKeys: String, CodingKey { case path, records, badLines = "bad_lines", emptyLines = "empty_lines" }
    }

    /// A near-duplicate cluster: the kept record and the dropped ones (`file:line`).
    public struct Cluster: Codable, Sendable {
        /// The surviving (earliest) record.
        public var survivor: String
        /// The dropped members.
        public var dropped: [String]
    }

    /// The largest near-duplicate cluster, shown so a user sees what was merged and why.
    public struct ClusterExample: Codable, Sendable {
        /// Records in the cluster.
        public var size: Int
        /// The surviving (earliest) record, `file:line`.
        public var survivor: String
        /// Its text (system messages left out), first 200 characters.
        public var survivorText: String
        /// One dropped member, `file:line`.
        public var dropped: String
        /// Its text, first 200 characters.
        public var droppedText: String
        /// Exact Jaccard similarity of the two records' shingle sets.
        public var jaccard: Double
        enum CodingKeys: String, CodingKey {
            case size, survivor, survivorText = "survivor_text", dropped, droppedText = "dropped_text", jaccard
        }
    }

    /// Near-duplicate statistics.
    public struct NearDuplicates: Codable, Sendable {
        /// Jaccard similarity a candidate pair must reach (nil: candidates are not confirmed).
        public var jaccardThreshold: Double?
        /// Clusters with two or more records.
        public var clusters = 0
        /// Records dropped as near duplicates.
        public var recordsDropped = 0
        /// Candidate pairs from LSH banding that were examined.
        public var candidatePairs = 0
        /// Candidate pairs whose Jaccard similarity reached the threshold (joined into clusters).
        public var confirmedPairs = 0
        /// Candidate pairs under the Jaccard threshold (kept apart).
        public var rejectedPairs = 0
        /// The largest cluster's size.
        public var largestCluster = 0
        /// The largest cluster's survivor and one dropped member.
        public var largestExample: ClusterExample?
        /// Up to 1,000 clusters, largest first.
        public var examples: [Cluster] = []
        enum CodingKeys: String, CodingKey {
            case jaccardThreshold = "jaccard_threshold", clusters, recordsDropped = "records_dropped"
            case candidatePairs = "candidate_pairs", confirmedPairs = "confirmed_pairs", rejectedPairs = "rejected_pairs"
            case largestCluster = "largest_cluster", largestExample = "largest_example", examples
        }
    }

    /// Inputs.
    public var inputs: [Input] = []
    /// Steps in order.
    public var steps: [Step] = []
    /// Rejection counts per step and reason code (`filter:gopher_quality` → `gopher_short_doc` → 12).
    public var reasons: [String: [String: Int]] = [:]
    /// Near-duplicate details.
    public var nearDuplicates = NearDuplicates()
    /// Redactions per PII type.
    public var pii: [String: Int] = [:]
    /// Records with at least one redaction.
    public var recordsRedacted = 0
    /// Evaluation texts used for decontamination.
    public var decontaminationTexts = 0
    /// Train and evaluation counts when split.
    public var split: [String: Int]?
    /// Records read and written.
    public var recordsIn = 0
    /// Records in `cleaned.jsonl`.
    public var recordsOut = 0
    /// Input bytes (JSONL lines and CSV/text file sizes; folders count as 0).
    public var bytesIn = 0
    /// Sorted runs spilled to disk under the memory budget. Not written to `clean_report.json`, whose bytes
    /// do not depend on the budget.
    public var spilledRuns = 0

    enum CodingKeys: String, CodingKey {
        case inputs, steps, reasons, nearDuplicates = "near_duplicates", pii, recordsRedacted = "records_redacted"
        case decontaminationTexts = "decontamination_texts", split, recordsIn = "records_in", recordsOut = "records_out"
        case bytesIn = "bytes_in"
    }

    /// Creates an empty report.
    public init() {}

    /// A few lines for people.
    public var summary: String {
        let bad = inputs.reduce(0) { $0 + $1.badLines }
        var lines = ["\(recordsIn) records read (\(bad) unreadable lines), \(recordsOut) kept."]
        for step in steps where step.recordsIn != step.recordsOut {
            lines.append("  \(step.name): \(step.recordsIn) → \(step.recordsOut) (−\(step.recordsIn - step.recordsOut))")
        }
        if let length = steps.first(where: { $0.name == "filter:length" }), length.recordsIn > 0,
           2 * (length.recordsIn - length.recordsOut) > length.recordsIn {
            lines.append("  hint: the length filter dropped most records; short `text` records get document (web) rules, "
                         + "which want 50 words: --kind instruction (recipe clean.kind: instruction) keeps short records.")
        }
        lines += nearDuplicates.summary
        let redactions = pii.sorted { $0.key < $1.key }.filter { $0.value > 0 }.map { "\($0.key) \($0.value)" }
        if !redactions.isEmpty { lines.append("  PII redacted: " + redactions.joined(separator: ", ") + " in \(recordsRedacted) records.") }
        if let split { lines.append("  split: \(split["train"] ?? 0) train, \(split["eval"] ?? 0) eval.") }
        return lines.joined(separator: "\n")
    }
}

extension CleanReport.NearDuplicates {
    /// Lines for people: candidates, confirmed pairs, and the largest cluster with its example.
    public var summary: [String] {
        guard candidatePairs > 0 else { return [] }
        let check = jaccardThreshold.map { "confirmed (Jaccard ≥ \($0))" } ?? "joined without a Jaccard check"
        var lines = ["  near duplicates: \(candidatePairs) candidate pairs from MinHash bands, \(confirmedPairs) \(check), "
                     + "\(clusters) clusters, \(recordsDropped) records dropped."]
        if let e = largestExample {
            lines.append("  largest cluster: \(e.size) records (Jaccard \(e.jaccard) between these two):")
            lines.append("    kept    \(e.survivor)  \"\(e.survivorText)\"")
            lines.append("    dropped \(e.dropped)  \"\(e.droppedText)\"")
        }
        return lines
    }
}
