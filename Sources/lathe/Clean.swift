import ArgumentParser
import Foundation
import LatheData
import LatheSupport

/// `lathe clean INPUT... --out DIR`: the cleaning stage from the command line. Recipe files (`--recipe`) come
/// with the recipe runner.
struct Clean: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Clean JSONL/CSV/text exports: normalise, filter, deduplicate, redact PII, split.",
        discussion: """
        Writes DIR/cleaned.jsonl, DIR/rejected.jsonl (every dropped record with its reason) and \
        DIR/clean_report.json; with --eval-fraction also DIR/train.jsonl and DIR/eval.jsonl.
        """
    )

    @Argument(help: "Input .jsonl/.csv files or folders of .txt/.md files.")
    var inputs: [String]

    @Option(name: .customLong("out"), help: "Output folder.")
    var out: String

    @Option(help: "Filter rules: auto (per record: instruction for chat, prompt_completion and alpaca records, web for text), web (long documents) or instruction (short records).")
    var kind: String = "auto"

    @Option(name: .customLong("format"), help: "Record format: text, prompt_completion, alpaca or chat (default: detect per record).")
    var recordFormat: String?

    @Option(name: .customLong("field"), help: "Remap a field, CANONICAL=KEY (e.g. prompt=question). Repeatable.")
    var fields: [String] = []

    @Option(help: "Text folders: one record per 'file' or per 'paragraph'.")
    var textMode: String = "file"

    @Option(help: "Largest record read, in MiB; larger ones are rejected.")
    var maxRecordMb: Int = 16

    @Option(help: "Abort when more than this fraction of an input's lines are unreadable.")
    var maxBadFraction: Double = 0.1

    @Option(help: "Unicode normal form: nfc, nfkc or none.")
    var unicode: String = "nfc"

    @Flag(help: "Keep leading whitespace of lines (code indentation).")
    var keepIndentation = false

    @Option(help: "PII types to redact, comma-separated (email,phone,ip_address,credit_card,iban,ssn,secret), or 'none'.")
    var pii: String = "all"

    @Option(help: "Keep only these detected languages, comma-separated (e.g. en,de).")
    var languages: String?

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

    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Flag(help: "Print the report as JSON instead of the summary.") var json = false

    func run() throws {
        Parallel.configure(threads: max(1, threads ?? Parallel.availableCores))
        let config = try makeConfig()
        let evalTexts = try decontaminate.flatMap { try Self.texts(of: $0, config: config) }
        var lastPrint = 0
        let report = try CleaningPipeline(config: config).run(inputs: inputs, outputDirectory: out,
                                                              evaluationTexts: evalTexts) { event in
            guard event.stage != .done, event.records - lastPrint >= 50_000 || event.stage != .reading else { return }
            lastPrint = event.records
            let mb = Double(event.bytes) / 1e6
            FileHandle.standardError.write(Data("\(event.stage.rawValue): \(event.records) records, \(format(mb)) MB\n".utf8))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.summary)
            print("wrote \(out)/cleaned.jsonl, rejected.jsonl, clean_report.json" + (config.split == nil ? "" : ", train.jsonl, eval.jsonl"))
        }
    }

    func makeConfig() throws -> CleaningConfig {
        guard kind == "auto" || DataKind(rawValue: kind) != nil else { throw ValidationError("--kind must be auto, web or instruction (got \(kind))") }
        var config = CleaningConfig(kind: DataKind(rawValue: kind))
        if let recordFormat {
            guard let f = RecordFormat(rawValue: recordFormat) else {
                throw ValidationError("--format must be one of \(RecordFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            config.format = f
        }
        for pair in fields {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--field expects CANONICAL=KEY (got \(pair))") }
            config.fields[parts[0]] = parts[1]
        }
        guard let mode = TextFolderMode(rawValue: textMode) else { throw ValidationError("--text-mode must be file or paragraph") }
        config.textMode = mode
        config.maxRecordBytes = maxRecordMb << 20
        config.maxBadFraction = maxBadFraction
        guard let form = TextNormalizer.Form(rawValue: unicode) else { throw ValidationError("--unicode must be nfc, nfkc or none") }
        config.normalization.form = form
        config.normalization.keepIndentation = keepIndentation
        switch pii {
        case "all": break
        case "none": config.pii = nil
        default:
            var types: Set<PIIType> = []
            for name in pii.split(separator: ",") {
                guard let t = PIIType(rawValue: String(name)) else { throw ValidationError("unknown PII type '\(name)'") }
                types.insert(t)
            }
            config.pii?.types = types
        }
        if let languages {
            let allowed = languages.split(separator: ",").map(String.init)
            config.documentFilters.language = LanguageFilter.Config(kind: .web, allowed: allowed)
            config.instructionFilters.language = LanguageFilter.Config(kind: .instruction, allowed: allowed)
        }
        if noFilters { config.updateFilters { $0.removeAll() } }
        config.exactDedup = !noExactDedup
        if noMinhash { config.minHash = nil } else {
            config.minHash?.bands = bands; config.minHash?.rows = rows; config.minHash?.ngram = ngram
            if let jaccardThreshold { config.minHash?.jaccardThreshold = jaccardThreshold > 0 ? jaccardThreshold : nil }
        }
        if let evalFraction { config.split = SplitConfig(evalFraction: evalFraction, stratifyField: stratifyField, seed: splitSeed) }
        do { try config.validate() } catch { throw ValidationError(error.description) }
        return config
    }

    /// The joined texts of the readable records of an evaluation file.
    static func texts(of path: String, config: CleaningConfig) throws -> [String] {
        let decoder = RecordDecoder(format: config.format, fields: config.fields)
        let source = try RecordSources.open(path, maxRecordBytes: config.maxRecordBytes, textMode: config.textMode)
        (source as? CSVReader)?.decoder = decoder
        var texts: [String] = []
        while true {
            let batch = try source.nextBatch(maxItems: 4096, maxBytes: 16 << 20)
            if batch.isEmpty { return texts }
            for item in batch {
                var decoded = item
                if case .line(let line) = item {
                    decoded = JSONLDecoding.decode(line, file: path, decoder: decoder, maxRecordBytes: config.maxRecordBytes)
                }
                if case .record(let r) = decoded { texts.append(r.content.joinedText) }
            }
        }
    }
}
