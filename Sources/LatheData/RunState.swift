import Foundation
import LatheFormats

/// Bookkeeping of one cleaning run: counts for the report, exact-duplicate keys, and compact metadata of every
/// record kept so far (its place in the staging file, hashes and band keys).
struct RunState {
    var report = CleanReport()
    private let filterSteps: [String]
    private var drops: [String: Int] = [:]
    private var decoded = 0
    private var firstByKey: [Hash128: Int32] = [:]

    // Per kept record (index = line of the staging file).
    private(set) var kept: [SourceLocation] = []
    private var offsets: [Int] = []
    private var lengths: [Int] = []
    private var splitHashes: [UInt64] = []
    private var strata: [String] = []
    private var bandKeys: [UInt64] = []
    private var hasSignature: [Bool] = []
    private var bands = 0

    private let exactDedup: Bool

    init(filters: [String], exactDedup: Bool) { filterSteps = filters; self.exactDedup = exactDedup }

    private mutating func count(_ rejection: Rejection) {
        drops[rejection.step, default: 0] += 1
        report.reasons[rejection.step, default: [:]][rejection.reason.code, default: 0] += 1
    }

    /// Accounts for one processed item: rejects it, or appends it to the staging file.
    mutating func absorb(_ outcome: RecordProcessor.Outcome, input: inout CleanReport.Input,
                         rejected: OutputFile, staging: OutputFile) throws(DataError) {
        switch outcome {
        case .empty:
            input.emptyLines += 1
        case .dropped(let rejection, let isReadError):
            if isReadError { input.badLines += 1 } else { input.records += 1; decoded += 1; report.recordsIn += 1 }
            count(rejection)
            try rejected.writeLine(rejection.json)
        case .kept(let record):
            input.records += 1; decoded += 1; report.recordsIn += 1
            if !record.pii.isEmpty {
                report.recordsRedacted += 1
                for (type, n) in record.pii { report.pii[type.rawValue, default: 0] += n }
            }
            if exactDedup, let first = firstByKey[record.exactKey] {
                let r = Rejection(source: record.source, step: "exact_dedup",
                                  reason: RejectReason(code: "exact_duplicate", detail: "same text as \(kept[Int(first)].id)"),
                                  record: try? JSONValue.parse(Array(record.line.dropLast())))
                count(r); try rejected.writeLine(r.json); return
            }
            if let e = record.contaminatedBy {
                let r = Rejection(source: record.source, step: "decontamination",
                                  reason: RejectReason(code: "contaminated", detail: "near-duplicate of evaluation text \(e)"),
                                  record: try? JSONValue.parse(Array(record.line.dropLast())))
                count(r); try rejected.writeLine(r.json); return
            }
            if exactDedup { firstByKey[record.exactKey] = Int32(kept.count) }
            kept.append(record.source)
            offsets.append(staging.bytesWritten)
            lengths.append(record.line.count)
            splitHashes.append(record.splitHash)
            strata.append(record.stratum ?? "")
            if let keys = record.bandKeys {
                if bands == 0 {
                    // Records before the first signed one had no keys yet: give them zero keys (unsigned).
                    bands = keys.count
                    bandKeys = [UInt64](repeating: 0, count: hasSignature.count * bands)
                }
                bandKeys.append(contentsOf: keys); hasSignature.append(true)
            } else {
                bandKeys.append(contentsOf: repeatElement(0, count: bands)); hasSignature.append(false)
            }
            try staging.write(record.line)
        }
    }

    /// Survivor index of each kept record after MinHash clustering (itself when MinHash is off).
    mutating func nearDuplicates(_ config: MinHash.Config?, stagingPath: String) throws(DataError) -> [Int] {
        guard let config, !kept.isEmpty else { return Array(0..<kept.count) }
        report.nearDuplicates.jaccardThreshold = config.jaccardThreshold
        // No record was long enough to sign: nothing to cluster.
        if bands == 0 { return Array(0..<kept.count) }
        let reader = StagingReader(path: stagingPath, offsets: offsets, lengths: lengths)
        let shingler = Shingler(n: config.ngram)
        var cache: [Int: Set<UInt64>] = [:]
        func shingles(_ i: Int) -> Set<UInt64> {
            if let s = cache[i] { return s }
            let s = shingler.shingleSet(reader.text(i) ?? "")
            if cache.count > 10_000 { cache.removeAll() }
            cache[i] = s
            return s
        }
        let verify: ((Int, Int) -> Bool)? = config.jaccardThreshold.map { threshold in
            { a, b in Shingler.jaccard(shingles(a), shingles(b)) >= threshold }
        }
        let result = NearDuplicates.cluster(count: kept.count, bands: bands, keys: bandKeys, hasSignature: hasSignature, verify: verify)
        var members: [Int: [Int]] = [:]
        for (i, s) in result.survivor.enumerated() where s != i { members[s, default: []].append(i) }
        var near = report.nearDuplicates
        near.clusters = members.count
        near.recordsDropped = members.values.reduce(0) { $0 + $1.count }
        near.candidatePairs = result.candidatePairs
        near.confirmedPairs = result.confirmedPairs
        near.rejectedPairs = result.rejectedPairs
        near.largestCluster = (members.values.map(\.count).max() ?? 0) + (members.isEmpty ? 0 : 1)
        let largestFirst = members.sorted { ($0.value.count, -$0.key) > ($1.value.count, -$1.key) }
        near.examples = largestFirst.prefix(1000).map {
            CleanReport.Cluster(survivor: kept[$0.key].id, dropped: $0.value.map { kept[$0].id })
        }
        if let largest = largestFirst.first {
            let (survivor, dropped) = (largest.key, largest.value)
            near.largestExample = CleanReport.ClusterExample(
                size: dropped.count + 1, survivor: kept[survivor].id, survivorText: Self.excerpt(reader.text(survivor)),
                dropped: kept[dropped[0]].id, droppedText: Self.excerpt(reader.text(dropped[0])),
                jaccard: round2(Shingler.jaccard(shingles(survivor), shingles(dropped[0]))))
        }
        report.nearDuplicates = near
        return result.survivor
    }

    /// The first 200 characters of a record's text, on one line, for the report.
    static func excerpt(_ text: String?) -> String {
        let flat = (text ?? "").split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count <= 200 ? flat : String(flat.prefix(200)) + "…"
    }

    /// Evaluation membership of each kept record (all false without a split; only survivors matter).
    func assignSplit(_ split: SplitConfig?, survivor: [Int]) -> [Bool] {
        guard let split else { return [Bool](repeating: false, count: kept.count) }
        let alive = (0..<kept.count).filter { survivor[$0] == $0 }
        var stratumIds: [String: Int] = [:]
        let strataOfAlive: [Int]? = split.stratifyField == nil ? nil : alive.map { i in
            if let id = stratumIds[strata[i]] { return id }
            stratumIds[strata[i]] = stratumIds.count
            return stratumIds.count - 1
        }
        let flags = Splitter.assign(hashes: alive.map { splitHashes[$0] }, strata: strataOfAlive, fraction: split.evalFraction)
        var isEval = [Bool](repeating: false, count: kept.count)
        for (k, i) in alive.enumerated() { isEval[i] = flags[k] }
        return isEval
    }

    /// Streams the staging file into `cleaned.jsonl` (and `train.jsonl`/`eval.jsonl`), rejecting near duplicates.
    mutating func writeOutputs(to out: URL, stagingPath: String, survivor: [Int], isEval: [Bool], rejected: OutputFile,
                               progress: (Int) -> Void) throws(DataError) {
        let cleaned = try OutputFile(path: out.appendingPathComponent("cleaned.jsonl").path)
        let splitting = splitRequested
        let train = splitting ? try OutputFile(path: out.appendingPathComponent("train.jsonl").path) : nil
        let eval = splitting ? try OutputFile(path: out.appendingPathComponent("eval.jsonl").path) : nil
        let reader = try LineReader(url: URL(fileURLWithPath: stagingPath), maxLineBytes: Int.max / 4)
        var index = 0, trainCount = 0, evalCount = 0
        while let line = try reader.next() {
            defer { index += 1 }
            guard index < kept.count else { break }
            var bytes = line.bytes
            bytes.append(0x0A)
            if survivor[index] != index {
                let r = Rejection(source: kept[index], step: "near_dedup",
                                  reason: RejectReason(code: "near_duplicate", detail: "near-duplicate of \(kept[survivor[index]].id)"),
                                  record: try? JSONValue.parse(line.bytes))
                count(r); try rejected.writeLine(r.json)
                continue
            }
            try cleaned.write(bytes)
            report.recordsOut += 1
            if isEval[index] { try eval?.write(bytes); evalCount += 1 } else { try train?.write(bytes); trainCount += 1 }
            if index % 65536 == 0 { progress(index) }
        }
        try cleaned.close(); try train?.close(); try eval?.close()
        if splitting { report.split = ["train": trainCount, "eval": evalCount] }
        buildSteps()
    }

    /// Set by the pipeline when a split was configured (even if every record lands in train).
    var splitRequested = false

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

/// Random access to staged records, for Jaccard checks of candidate pairs and the report's example.
final class StagingReader {
    private let handle: FileHandle?
    private let offsets: [Int]
    private let lengths: [Int]

    init(path: String, offsets: [Int], lengths: [Int]) {
        handle = FileHandle(forReadingAtPath: path)
        self.offsets = offsets
        self.lengths = lengths
    }

    deinit { try? handle?.close() }

    /// The near-deduplication text (`NearDuplicates.text`) of staged record `i`.
    func text(_ i: Int) -> String? {
        guard let handle else { return nil }
        do {
            try handle.seek(toOffset: UInt64(offsets[i]))
            guard let data = try handle.read(upToCount: lengths[i]) else { return nil }
            let value = try JSONValue.parse(Array(data.dropLast()))
            guard case .success(let record) = RecordDecoder().decode(value, source: SourceLocation(file: "", line: 0, byteOffset: 0)) else { return nil }
            return NearDuplicates.text(of: record.content)
        } catch {
            return nil
        }
    }
}
