import Foundation
import LatheFormats

/// Bookkeeping of one cleaning run in bounded memory. The read phase appends every decision to the
/// `RecordJournal` and the keys of every candidate (a record that passed the filters) to sorters that spill
/// under the budget; then exact duplicates are resolved by sorting their keys, near duplicates by sorting band
/// keys (`Clustering`), and the write phase replays the journal. Outputs equal an in-memory run's byte for byte.
struct RunState {
    var report = CleanReport()
    private let filterSteps: [String]
    private var drops: [String: Int] = [:]
    private var decoded = 0
    private let exactDedup: Bool
    /// Set by the pipeline when a split was configured (even if every record lands in train).
    var splitRequested = false

    let budget: SpillBudget
    let spill: SpillDirectory
    let journal: RecordJournal
    private let exactKeys: SpillSorter<ExactEntry>
    private let bandKeys: SpillSorter<BandEntry>
    private var bands = 0
    /// Per candidate: neither contaminated nor (once resolved) an exact duplicate.
    private var live = BitSet()
    private var strata: [String: UInt32] = [:]
    /// (candidate << 32 | the earlier record it repeats), by candidate.
    private var duplicates: SortedStream<UInt64>?
    /// Near-duplicate clusters over candidates (nil without MinHash).
    private var clusters: UnionFind?

    init(filters: [String], exactDedup: Bool, budget: SpillBudget, spill: SpillDirectory) throws(DataError) {
        filterSteps = filters; self.exactDedup = exactDedup
        self.budget = budget; self.spill = spill
        journal = try RecordJournal(directory: spill)
        exactKeys = SpillSorter("exact-keys", budget: budget, directory: spill)
        bandKeys = SpillSorter("band-keys", budget: budget, directory: spill)
    }

    private mutating func count(_ rejection: Rejection) {
        drops[rejection.step, default: 0] += 1
        report.reasons[rejection.step, default: [:]][rejection.reason.code, default: 0] += 1
    }

    /// Accounts for one processed item: journals its rejection, or journals it as a candidate with its keys.
    mutating func absorb(_ outcome: RecordProcessor.Outcome, input: inout CleanReport.Input) throws(DataError) {
        switch outcome {
        case .empty:
            input.emptyLines += 1
        case .dropped(let rejection, let isReadError):
            if isReadError { input.badLines += 1 } else { input.records += 1; decoded += 1; report.recordsIn += 1 }
            count(rejection)
            try journal.reject(rejection)
        case .kept(let record):
            input.records += 1; decoded += 1; report.recordsIn += 1
            if !record.pii.isEmpty {
                report.recordsRedacted += 1
                for (type, n) in record.pii { report.pii[type.rawValue, default: 0] += n }
            }
            var stratum: UInt32 = 0
            if let name = record.stratum {
                if let id = strata[name] { stratum = id } else { stratum = UInt32(strata.count); strata[name] = stratum }
            }
            guard journal.candidates < Int(Int32.max) else {
                throw DataError.invalidConfig(key: "inputs", reason: "more than \(Int32.max) records passed the filters; clean the inputs in parts")
            }
            let index = UInt32(try journal.append(record, stratum: stratum))
            let contaminated = record.contaminatedBy != nil
            live.append(!contaminated)
            if exactDedup {
                try exactKeys.append(ExactEntry(high: record.exactKey.high, low: record.exactKey.low, index: index,
                                                contaminated: contaminated ? 1 : 0))
            }
            if let keys = record.bandKeys {
                bands = keys.count
                for (band, key) in keys.enumerated() { try bandKeys.append(BandEntry(band: UInt32(band), index: index, key: key)) }
            }
        }
    }

    /// Finds exact duplicates: the first record of a key that is not contaminated is kept, every later one
    /// repeats it; earlier contaminated ones stay contaminated (as a single in-order pass decides).
    mutating func resolveExactDuplicates() throws(DataError) {
        try journal.finishWriting()
        guard exactDedup else { return }
        let repeats = SpillSorter<UInt64>("exact-duplicates", budget: budget, directory: spill)
        let keys = try exactKeys.sorted()
        var group: (UInt64, UInt64)?
        var first: UInt32?
        while let entry = try keys.next() {
            if group == nil || group! != (entry.high, entry.low) { group = (entry.high, entry.low); first = nil }
            if let first {
                try repeats.append(UInt64(entry.index) << 32 | UInt64(first))
                live[Int(entry.index)] = false
            } else if entry.contaminated == 0 {
                first = entry.index
            }
        }
        duplicates = try repeats.sorted()
    }

    /// Clusters the live candidates by MinHash (`Clustering`) and fills the report's near-duplicate section.
    mutating func nearDuplicates(_ config: MinHash.Config?) throws(DataError) {
        guard let config, journal.candidates > 0 else { return }
        report.nearDuplicates.jaccardThreshold = config.jaccardThreshold
        // No record was long enough to sign: nothing to cluster.
        if bands == 0 { return }
        let shingles = ShingleCache(journal: journal, ngram: config.ngram, limit: max(1024, min(1 << 24, budget.limit / 128)))
        var verify: ((Int, Int) throws(DataError) -> Bool)?
        if let threshold = config.jaccardThreshold {
            verify = { (a: Int, b: Int) throws(DataError) -> Bool in try shingles.jaccard(a, b) >= threshold }
        }
        var clustering = Clustering(count: journal.candidates, verify: verify, budget: budget, directory: spill)
        let live = self.live
        try clustering.run(try bandKeys.sorted()) { live[$0] }
        let (candidates, rejected) = try clustering.pairCounts()
        var sets = clustering.sets
        var (near, largest) = try ClusterSummary.summarize(&sets, live: live, budget: budget, spill: spill, journal: journal)
        near.jaccardThreshold = config.jaccardThreshold
        near.candidatePairs = candidates
        near.rejectedPairs = rejected
        near.confirmedPairs = candidates - rejected
        if let example = near.examples.first, let (survivor, dropped) = largest {
            near.largestExample = CleanReport.ClusterExample(
                size: example.dropped.count + 1, survivor: example.survivor, survivorText: Self.excerpt(try journal.text(survivor)),
                dropped: example.dropped[0], droppedText: Self.excerpt(try journal.text(dropped)),
                jaccard: round2(try shingles.jaccard(survivor, dropped)))
        }
        report.nearDuplicates = near
        clusters = sets
    }

    /// The first 200 characters of a record's text, on one line, for the report.
    static func excerpt(_ text: String?) -> String {
        let flat = (text ?? "").split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count <= 200 ? flat : String(flat.prefix(200)) + "…"
    }

    /// Replays the journal into `cleaned.jsonl` (and `train.jsonl`/`eval.jsonl`) and `rejected.jsonl`: rejections
    /// in input order, then the near duplicates, as an in-memory run writes them.
    mutating func writeOutputs(to out: URL, split: SplitConfig?, rejected: OutputFile, progress: (Int) -> Void) throws(DataError) {
        let evaluation = try Stratified.evaluationRecords(split, clusters: &clusters, live: live, strata: strata.count,
                                                          journal: journal, budget: budget, spill: spill)
        let cleaned = try OutputFile(path: out.appendingPathComponent("cleaned.jsonl").path)
        let train = splitRequested ? try OutputFile(path: out.appendingPathComponent("train.jsonl").path) : nil
        let eval = splitRequested ? try OutputFile(path: out.appendingPathComponent("eval.jsonl").path) : nil
        let nearDuplicates = try OutputFile(path: spill.newPath("near-duplicates"))
        let lines = try LineReader(url: URL(fileURLWithPath: journal.journalPath), maxLineBytes: Int.max / 4)
        let infos = try journal.indexEntries()
        var index = 0, trainCount = 0, evalCount = 0
        var nextRepeat = try duplicates?.next(), nextEval = try evaluation?.next()
        while let line = try lines.next() {
            let json = Array(line.bytes.dropFirst())
            if line.bytes.first == RecordJournal.rejectedTag { try rejected.write(json + [0x0A]); continue }
            guard line.bytes.first == RecordJournal.candidateTag, let info = try infos.next() else {
                throw DataError.cannotRead(path: journal.journalPath, reason: "line \(line.number) is not a journal entry; was it modified?")
            }
            defer { index += 1 }
            let source = journal.source(info)
            if let pair = nextRepeat, Int(pair >> 32) == index {
                nextRepeat = try duplicates?.next()
                let first = journal.source(try journal.info(Int(UInt32(truncatingIfNeeded: pair))))
                try reject(Rejection(source: source, step: "exact_dedup", reason: RejectReason(code: "exact_duplicate", detail: "same text as \(first.id)"),
                                     record: try? JSONValue.parse(json)), to: rejected)
                continue
            }
            if info.contaminatedBy >= 0 {
                try reject(Rejection(source: source, step: "decontamination",
                                     reason: RejectReason(code: "contaminated", detail: "near-duplicate of evaluation text \(info.contaminatedBy)"),
                                     record: try? JSONValue.parse(json)), to: rejected)
                continue
            }
            if let root = clusters?.find(index), root != index {
                let survivor = journal.source(try journal.info(root))
                try reject(Rejection(source: source, step: "near_dedup", reason: RejectReason(code: "near_duplicate", detail: "near-duplicate of \(survivor.id)"),
                                     record: try? JSONValue.parse(json)), to: nearDuplicates)
                continue
            }
            let bytes = json + [0x0A]
            try cleaned.write(bytes)
            report.recordsOut += 1
            var isEval = false
            if let split {
                if evaluation != nil {
                    if let e = nextEval, Int(e) == index { isEval = true; nextEval = try evaluation?.next() }
                } else {
                    isEval = Splitter.position(info.splitHash) < split.evalFraction
                }
            }
            if isEval { try eval?.write(bytes); evalCount += 1 } else { try train?.write(bytes); trainCount += 1 }
            if index % 65536 == 0 { progress(index) }
        }
        try nearDuplicates.close()
        try Self.append(nearDuplicates.path, to: rejected)
        spill.remove(nearDuplicates.path)
        try cleaned.close(); try train?.close(); try eval?.close()
        if splitRequested { report.split = ["train": trainCount, "eval": evalCount] }
        buildSteps()
    }

    private mutating func reject(_ rejection: Rejection, to file: OutputFile) throws(DataError) {
        count(rejection)
        try file.writeLine(rejection.json)
    }

    /// Copies the file at `path` to the end of `file`.
    private static func append(_ path: String, to file: OutputFile) throws(DataError) {
        let source = try RawFile(path: path, writing: false)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try source.read(into: &chunk)
            if n == 0 { break }
            try file.write(Array(chunk[0..<n]))
        }
    }

    private mutating func buildSteps() {
        let readIn = decoded + report.inputs.reduce(0) { $0 + $1.badLines }
        var steps = [CleanReport.Step(name: "read", recordsIn: readIn, recordsOut: decoded)]
        var current = decoded
        for name in filterSteps + ["exact_dedup", "decontamination", "near_dedup"] {
            let after = current - drops[name, default: 0]
            steps.append(CleanReport.Step(name: name, recordsIn: current, recordsOut: after))
            current = after
        }
        report.steps = steps
    }

    /// Writes the report as pretty JSON.
    func writeReport(to path: String) throws(DataError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { try encoder.encode(report).write(to: URL(fileURLWithPath: path)) } catch {
            throw DataError.cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}

/// Shingle sets of journaled candidates for the Jaccard checks, cached up to `limit` shingles in all.
final class ShingleCache {
    private let journal: RecordJournal
    private let shingler: Shingler
    private let limit: Int
    private var sets: [Int: Set<UInt64>] = [:]
    private var held = 0

    init(journal: RecordJournal, ngram: Int, limit: Int) {
        self.journal = journal; shingler = Shingler(n: ngram); self.limit = limit
    }

    func shingles(_ i: Int) throws(DataError) -> Set<UInt64> {
        if let s = sets[i] { return s }
        let s = shingler.shingleSet(try journal.text(i))
        if held + s.count > limit { sets.removeAll(); held = 0 }
        sets[i] = s; held += s.count
        return s
    }

    /// Exact Jaccard similarity of candidates `a` and `b`.
    func jaccard(_ a: Int, _ b: Int) throws(DataError) -> Double { Shingler.jaccard(try shingles(a), try shingles(b)) }
}

/// An exact-duplicate key of one candidate, ordered by key then record.
struct ExactEntry: Comparable, BitwiseCopyable {
    var high: UInt64
    var low: UInt64
    var index: UInt32
    var contaminated: UInt32

    static func < (a: ExactEntry, b: ExactEntry) -> Bool { (a.high, a.low, a.index) < (b.high, b.low, b.index) }
    static func == (a: ExactEntry, b: ExactEntry) -> Bool { (a.high, a.low, a.index) == (b.high, b.low, b.index) }
}

/// One bit per candidate.
struct BitSet: Sendable {
    private var words: [UInt64] = []
    private(set) var count = 0

    mutating func append(_ value: Bool) {
        if count % 64 == 0 { words.append(0) }
        count += 1
        self[count - 1] = value
    }

    subscript(_ i: Int) -> Bool {
        get { words[i >> 6] >> UInt64(i & 63) & 1 == 1 }
        set { if newValue { words[i >> 6] |= 1 << UInt64(i & 63) } else { words[i >> 6] &= ~(1 << UInt64(i & 63)) } }
    }
}
