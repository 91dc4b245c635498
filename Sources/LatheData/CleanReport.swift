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

    /// Near-duplicate statistics.
    public struct NearDuplicates: Codable, Sendable {
        /// Clusters with two or more records.
        public var clusters = 0
        /// Records dropped as near duplicates.
        public var recordsDropped = 0
        /// LSH candidate pairs.
        public var candidatePairs = 0
        /// Candidate pairs under the Jaccard threshold (kept apart).
        public var rejectedPairs = 0
        /// The largest cluster's size.
        public var largestCluster = 0
        /// Up to 1,000 clusters, largest first.
        public var examples: [Cluster] = []
        enum CodingKeys: String, CodingKey {
            case clusters, recordsDropped = "records_dropped", candidatePairs = "candidate_pairs"
            case rejectedPairs = "rejected_pairs", largestCluster = "largest_cluster", examples
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
        if nearDuplicates.clusters > 0 {
            lines.append("  \(nearDuplicates.clusters) near-duplicate clusters, largest \(nearDuplicates.largestCluster).")
        }
        let redactions = pii.sorted { $0.key < $1.key }.filter { $0.value > 0 }.map { "\($0.key) \($0.value)" }
        if !redactions.isEmpty { lines.append("  PII redacted: " + redactions.joined(separator: ", ") + " in \(recordsRedacted) records.") }
        if let split { lines.append("  split: \(split["train"] ?? 0) train, \(split["eval"] ?? 0) eval.") }
        return lines.joined(separator: "\n")
    }
}
