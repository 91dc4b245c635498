// The thread-sanitizer check of Lathe's parallel paths on fuzzed records (not a libFuzzer target: TSan and
// libFuzzer do not combine). Runs the cleaning pipeline on 4 threads over the fuzz corpora (each corpus file as
// a JSONL or CSV input), with the length filter counting tokens through one shared tokenizer inside the parallel
// batches, then tokenizes the cleaned texts from 4 threads at once with that same tokenizer.
// Usage: ThreadCheck TOKENIZER_DIR OUTPUT_DIR JSONL_CORPUS_DIR CSV_CORPUS_DIR
import Dispatch
import Foundation
import LatheData
import LatheSupport
import LatheTokenizers

/// Copies every file of `corpus` into `inputs` with the extension its reader needs, and returns the paths.
func stage(_ corpus: String, as ext: String, into inputs: String) throws -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? []
    return try names.sorted().enumerated().map { i, name in
        let target = "\(inputs)/\(ext)-\(i).\(ext)"
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: "\(corpus)/\(name)", toPath: target)
        return target
    }
}

/// The texts of the kept records in a cleaned JSONL file.
func cleanedTexts(_ path: String) throws -> [String] {
    let source = try RecordSources.open(path, maxRecordBytes: 1 << 20, textMode: .file)
    var texts: [String] = []
    while case let batch = try source.nextBatch(maxItems: 1024, maxBytes: 8 << 20), !batch.isEmpty {
        for case .line(let line) in batch {
            if case .record(let record) = JSONLDecoding.decode(line, file: path, decoder: RecordDecoder(), maxRecordBytes: 1 << 20) {
                texts.append(record.content.joinedText)
            }
        }
    }
    return texts
}

/// Cleans the corpora on `threads` threads, then tokenizes the kept texts from `threads` threads at once.
func check(tokenizerDirectory: String, output: String, jsonlCorpus: String, csvCorpus: String) throws {
    let threads = 4
    Parallel.configure(threads: threads)
    let tokenizer = try Tokenizer.load(URL(fileURLWithPath: tokenizerDirectory))
    let inputs = "\(output)/inputs"
    try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
    let files = try stage(jsonlCorpus, as: "jsonl", into: inputs) + stage(csvCorpus, as: "csv", into: inputs)

    var config = CleaningConfig()
    config.maxRecordBytes = 1 << 16
    config.maxBadFraction = 1  // fuzzed inputs are mostly malformed; every line must still be judged, not abort the run
    config.documentFilters.length = LengthFilter.Config()
    config.documentFilters.length?.maxTokens = 100_000
    config.split = SplitConfig(evalFraction: 0.2, stratifyField: nil, seed: 7)
    let report = try CleaningPipeline(config: config, countTokens: { tokenizer.encode($0).count })
        .run(inputs: files, outputDirectory: "\(output)/cleaned", evaluationTexts: ["a held-out evaluation text"])

    let texts = try cleanedTexts("\(output)/cleaned/cleaned.jsonl")
    let counts = Slots(UnsafeMutableBufferPointer<Int>.allocate(capacity: texts.count))
    defer { counts.values.deallocate() }
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        var i = t
        while i < texts.count { counts.values[i] = tokenizer.encode(texts[i], addSpecialTokens: true).count; i += threads }
    }
    print("ThreadCheck: \(files.count) inputs, \(report.inputs.map(\.records).reduce(0, +)) records read, \(texts.count) kept, "
          + "\(counts.values.reduce(0, +)) tokens on \(threads) threads")
}

/// One result slot per text, each written by exactly one thread.
struct Slots: @unchecked Sendable {
    let values: UnsafeMutableBufferPointer<Int>
    init(_ values: UnsafeMutableBufferPointer<Int>) { self.values = values }
}

let arguments = CommandLine.arguments
guard arguments.count == 5 else {
    FileHandle.standardError.write(Data("usage: ThreadCheck TOKENIZER_DIR OUTPUT_DIR JSONL_CORPUS_DIR CSV_CORPUS_DIR\n".utf8))
    exit(2)
}
try check(tokenizerDirectory: arguments[1], output: arguments[2], jsonlCorpus: arguments[3], csvCorpus: arguments[4])
