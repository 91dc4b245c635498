import Foundation
import LatheSupport

/// The cleaning stage: inputs → `cleaned.jsonl`, `rejected.jsonl`, `clean_report.json` (and `train.jsonl`,
/// `eval.jsonl` when splitting). Steps, in order: read → normalise → redact PII → filters → exact dedup →
/// decontamination → near dedup → split. Records are processed in batches in parallel
/// (`Parallel.forEachChunk`) and journaled to disk; exact-duplicate keys and MinHash band keys are sorted in
/// runs that spill to the output folder past `memoryBudget` (`RunState`), so memory holds one batch, the
/// budget, and 4 bytes plus a bit per record, never the corpus. Temporary files are removed at the end.
public final class CleaningPipeline {
    /// Settings.
    public let config: CleaningConfig
    private let countTokens: (@Sendable (String) -> Int)?

    /// Records per parallel batch.
    static let batchRecords = 4096
    /// Input bytes per parallel batch (a single larger record still forms its own batch).
    static let batchBytes = 16 << 20

    /// Creates a pipeline; `countTokens` enables the token bounds of the length filter.
    public init(config: CleaningConfig, countTokens: (@Sendable (String) -> Int)? = nil) {
        self.config = config
        self.countTokens = countTokens
    }

    /// Runs the stage. `evaluationTexts` are the evaluation set's texts for decontamination (may be empty).
    /// Throws only for conditions that spoil the whole run: unreadable inputs, too many bad lines, unwritable output.
    /// With several ranks every rank calls it with the same arguments: each processes its share of every batch,
    /// rank 0 deduplicates and writes (`CleaningShards`), and every rank returns rank 0's report.
    @discardableResult
    public func run(inputs: [String], outputDirectory: String, evaluationTexts: [String] = [],
                    communicator: any Communicator = SingleProcess(),
                    progress: (CleaningProgress) -> Void = { _ in }) throws(DataError) -> CleanReport {
        try config.validate()
        let shards = CleaningShards(communicator: communicator)
        try shards.requireSameInputs(inputs, config: config, evaluationTexts: evaluationTexts)
        let processor = makeProcessor(evaluationTexts: evaluationTexts)
        guard communicator.isLeader else { return try shards.follow(inputs: inputs, config: config, processor: processor) }
        do { try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true) } catch {
            throw DataError.cannotWrite(path: outputDirectory, reason: error.localizedDescription)
        }
        let out = URL(fileURLWithPath: outputDirectory)

        // Report steps: the filters of the kinds in use, in run order, each name once.
        let used = config.kind == .web ? processor.documentFilters : config.kind == .instruction ? processor.instructionFilters
            : processor.instructionFilters + processor.documentFilters
        var steps: [String] = []
        for filter in used where !steps.contains("filter:\(filter.name)") { steps.append("filter:\(filter.name)") }
        steps.sort { Self.filterOrder($0) < Self.filterOrder($1) }
        let spill = SpillDirectory(path: outputDirectory)
        defer { spill.removeAll() }
        let budget = SpillBudget(limit: config.memoryBudget ?? MemoryBudget.defaultBytes)
        var state = try RunState(filters: steps, exactDedup: config.exactDedup, budget: budget, spill: spill)
        state.report.decontaminationTexts = evaluationTexts.count
        state.splitRequested = config.split != nil
        let totalBytes = inputs.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }

        var bytesOfEarlierInputs = 0
        for path in inputs {
            let source = try RecordSources.open(path, maxRecordBytes: config.maxRecordBytes, textMode: config.textMode)
            (source as? any RecordDecodingSource)?.decoder = processor.decoder
            var input = CleanReport.Input(path: path, records: 0, badLines: 0, emptyLines: 0)
            while true {
                let items = try source.nextBatch(maxItems: Self.batchRecords, maxBytes: Self.batchBytes)
                let outcomes = try shards.process(items, file: path, processor: processor)
                if items.isEmpty { break }
                for (item, outcome) in zip(items, outcomes) {
                    if case .line(let l) = item { state.report.bytesIn += (l.oversizeLength ?? l.bytes.count) + 1 }
                    try state.absorb(outcome, input: &input)
                }
                let seen = input.records + input.badLines
                if seen >= config.minLinesForBadFraction, Double(input.badLines) > config.maxBadFraction * Double(seen) {
                    throw DataError.tooManyBadRecords(path: path, bad: input.badLines, seen: seen, limit: config.maxBadFraction)
                }
                progress(CleaningProgress(stage: .reading, file: path, records: state.report.recordsIn,
                                          bytes: bytesOfEarlierInputs + source.bytesRead, totalBytes: totalBytes))
            }
            bytesOfEarlierInputs += source.bytesRead
            if !(source is JSONLReader) {  // JSONL bytes are counted per line above; others by file size
                state.report.bytesIn += (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            }
            state.report.inputs.append(input)
        }
        progress(CleaningProgress(stage: .deduplicating, file: nil, records: state.journal.candidates, bytes: state.report.bytesIn,
                                  totalBytes: totalBytes))
        try state.resolveExactDuplicates()
        try state.nearDuplicates(config.minHash)
        let bytesIn = state.report.bytesIn
        let rejected = try OutputFile(path: out.appendingPathComponent("rejected.jsonl").path)
        try state.writeOutputs(to: out, split: config.split, rejected: rejected) { n in
            progress(CleaningProgress(stage: .writing, file: nil, records: n, bytes: bytesIn, totalBytes: totalBytes))
        }
        try rejected.close()
        state.report.spilledRuns = budget.runsWritten
        try state.writeReport(to: out.appendingPathComponent("clean_report.json").path)
        progress(CleaningProgress(stage: .done, file: nil, records: state.report.recordsOut, bytes: state.report.bytesIn, totalBytes: totalBytes))
        return try shards.share(state.report)
    }

    /// The per-record work with this run's settings; `evaluationTexts` enable decontamination.
    private func makeProcessor(evaluationTexts: [String]) -> RecordProcessor {
        let normalizer = TextNormalizer(config.normalization)
        let signer = config.minHash.map(MinHash.init) ?? (evaluationTexts.isEmpty ? nil : MinHash())
        let contamination = evaluationTexts.isEmpty || signer == nil ? nil
            : ContaminationIndex(evaluationTexts: evaluationTexts.map(normalizer.normalize), minHash: signer!)
        return RecordProcessor(
            decoder: RecordDecoder(format: config.format, fields: config.fields), maxRecordBytes: config.maxRecordBytes,
            normalizer: normalizer, redactor: config.pii.map(PIIRedactor.init),
            documentFilters: config.documentFilters.filters(countTokens: countTokens),
            instructionFilters: config.instructionFilters.filters(countTokens: countTokens), kind: config.kind,
            minHash: signer, contamination: contamination, split: config.split)
    }

    /// Position of a filter step in run order (`FilterSet.filters`).
    static func filterOrder(_ step: String) -> Int {
        ["filter:length", "filter:language", "filter:short_text", "filter:gopher_quality", "filter:gopher_repetition"].firstIndex(of: step) ?? 99
    }

    /// Processes a batch on all configured threads; outcome i belongs to item i.
    static func processBatch(_ items: [SourceItem], file: String, processor: RecordProcessor) -> [RecordProcessor.Outcome] {
        var outcomes = [RecordProcessor.Outcome](repeating: .empty, count: items.count)
        outcomes.withUnsafeMutableBufferPointer { buffer in
            let shared = UncheckedSendable(buffer)
            Parallel.forEachChunk(items.count, minimumChunk: 8) { range in
                var scratch = RecordProcessor.Scratch()
                for i in range { shared.value[i] = processor.process(items[i], file: file, scratch: &scratch) }
            }
        }
        return outcomes
    }
}
