import ArgumentParser
import Foundation
import LatheData
import LatheSupport

/// `lathe clean INPUT... --out DIR`: LatheData's cleaning pipeline (what the recipe's clean stage runs) with
/// its settings from flags.
struct Clean: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Clean JSONL/CSV/text exports: normalise, filter, deduplicate, redact PII, split.",
        discussion: """
        Writes DIR/cleaned.jsonl, DIR/rejected.jsonl (every dropped record with its reason) and \
        DIR/clean_report.json; with --eval-fraction also DIR/train.jsonl and DIR/eval.jsonl.
        """
    )

    @Argument(help: "Input .jsonl/.csv/.parquet files or folders of .txt/.md files.")
    var inputs: [String]

    @Option(name: .customLong("out"), help: "Output folder.")
    var out: String

    @Option(help: "Filter rules: auto (per record: instruction for chat, prompt_completion and alpaca records, web for text), web (long documents) or instruction (short records).")
    var kind = CleanKind.auto

    @Option(name: .customLong("format"), help: "Record format (default: detect per record).")
    var recordFormat: RecordFormat?

    @Option(name: .customLong("field"), help: "Remap a field, CANONICAL=KEY (e.g. prompt=question). Repeatable.")
    var fields: [String] = []

    @Option(help: "Text folders: one record per file or per paragraph.")
    var textMode = TextFolderMode.file

    @Option(help: "Largest record read, in MiB; larger ones are rejected.")
    var maxRecordMb: Int = 16

    @Option(help: "Abort when more than this fraction of an input's lines are unreadable.")
    var maxBadFraction: Double = 0.1

    @Option(help: "Unicode normal form.")
    var unicode = TextNormalizer.Form.nfc

    @Flag(help: "Keep leading whitespace of lines (code indentation).")
    var keepIndentation = false

    @Option(help: "PII types to redact, comma-separated (e.g. email,phone), or all, or none.")
    var pii = PIISelection.all

    @Option(help: "Keep only these detected languages, comma-separated (e.g. en,de).")
    var languages: LanguageList?

    @Flag(help: "Turn off the length and Gopher filters.")
    var noFilters = false

    @Flag(help: "Turn off exact deduplication.")
    var noExactDedup = false

    @Flag(help: "Turn off MinHash near-deduplication.")
    var noMinhash = false

    @Option(help: "MinHash bands.") var bands: Int = 14
    @Option(help: "MinHash rows per band.") var rows: Int = 8
    @Option(help: "Words per shingle.") var ngram: Int = 5
    @Option(help: "Near duplicates: exact Jaccard similarity a candidate pair must reach (default 0.8; 0 joins every candidate pair, as datatrove).") var jaccardThreshold: Double?

    @Option(help: "Evaluation records (JSONL/CSV); training records that near-duplicate one are dropped.")
    var decontaminate: [String] = []

    @Option(help: "Fraction of records written to eval.jsonl.") var evalFraction: Double?
    @Option(help: "Stratify the split by this field.") var stratifyField: String?
    @Option(help: "Seed of the split's content hash.") var splitSeed: UInt64 = 0

    @Option(help: "Memory for deduplication keys before they spill to sorted runs in the output folder: 512M, 2G, 4096B (a bare number is MiB). Default: a quarter of the available memory. Outputs do not depend on it.")
    var memoryBudget: String?

    @OptionGroup var threads: ThreadOptions
    @Flag(help: "Print the report as JSON instead of the summary.") var json = false

    func validate() throws {
        if stratifyField != nil && evalFraction == nil { throw ValidationError("--stratify-field needs --eval-fraction") }
        if jaccardThreshold != nil && noMinhash { throw ValidationError("--jaccard-threshold needs MinHash; drop --no-minhash") }
        _ = try makeConfig()
    }

    func run() throws {
        try runAsJob { try clean($0) }
    }

    /// Cleans as one rank of a job: every rank processes its share of each batch, rank 0 deduplicates, writes and
    /// prints (`CleaningPipeline.run`).
    func clean(_ communicator: any Communicator) throws {
        threads.configure(for: communicator)
        let config = try makeConfig()
        let pipeline = CleaningPipeline(config: config)
        let evalTexts = try pipeline.evaluationTexts(decontaminate)
        var lastPrint = 0
        let report = try pipeline.run(inputs: inputs, outputDirectory: out, evaluationTexts: evalTexts,
                                      communicator: communicator) { event in
            guard event.stage != .done, event.records - lastPrint >= 50_000 || event.stage != .reading else { return }
            lastPrint = event.records
            let mb = Double(event.bytes) / 1e6
            FileHandle.standardError.write(Data("\(event.stage.rawValue): \(event.records) records, \(format(mb)) MB\n".utf8))
        }
        guard communicator.isLeader else { return }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.summary)
            if communicator.size > 1 { print("cleaned on \(communicator.size) ranks; rank 0 deduplicated and wrote") }
            if report.spilledRuns > 0 { print("spilled \(report.spilledRuns) sorted runs to \(out) under the memory budget (removed)") }
            print("wrote \(out)/cleaned.jsonl, rejected.jsonl, clean_report.json" + (config.split == nil ? "" : ", train.jsonl, eval.jsonl"))
        }
    }

    func makeConfig() throws -> CleaningConfig {
        var config = CleaningConfig(kind: kind)
        config.format = recordFormat
        for pair in fields {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--field expects CANONICAL=KEY (got \(pair))") }
            config.fields[parts[0]] = parts[1]
        }
        config.textMode = textMode
        config.maxRecordBytes = maxRecordMb << 20
        config.maxBadFraction = maxBadFraction
        config.normalization.form = unicode
        config.normalization.keepIndentation = keepIndentation
        switch pii {
        case .all: break
        case .none: config.pii = nil
        case .only(let types): config.pii?.types = types
        }
        if let languages {
            config.documentFilters.language = LanguageFilter.Config(kind: .web, allowed: languages.codes)
            config.instructionFilters.language = LanguageFilter.Config(kind: .instruction, allowed: languages.codes)
        }
        if noFilters { config.updateFilters { $0.removeAll() } }
        config.exactDedup = !noExactDedup
        if noMinhash { config.minHash = nil } else {
            config.minHash?.bands = bands; config.minHash?.rows = rows; config.minHash?.ngram = ngram
            if let jaccardThreshold { config.minHash?.jaccardThreshold = jaccardThreshold > 0 ? jaccardThreshold : nil }
        }
        if let memoryBudget {
            do { config.memoryBudget = try MemoryBudget.parse(memoryBudget, key: "--memory-budget") } catch {
                throw ValidationError(error.description)
            }
        }
        if let evalFraction { config.split = SplitConfig(evalFraction: evalFraction, stratifyField: stratifyField, seed: splitSeed) }
        do { try config.validate() } catch { throw ValidationError(error.description) }
        return config
    }
}
