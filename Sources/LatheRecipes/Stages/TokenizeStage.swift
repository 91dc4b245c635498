import Foundation
import LatheData
import LatheFormats
import LatheModels
import LatheTokenizers
import LatheTraining

/// The recipe's tokenize stage: cleaned records → token ids and target masks through the base model's own
/// tokenizer and chat template, written as `train.tokens.zst` and (when cleaning split off an eval set)
/// `eval.tokens.zst`. Records that cannot be rendered go to `rejected.jsonl` with the reason.
public struct TokenizeStage: StageExecutor {
    public init() {}

    public func run(_ context: StageContext) throws -> StageReport {
        let recipe = context.loaded.recipe
        let tokenizer = try Tokenizer.forModel(at: context.loaded.baseModelPath)
        let builder = ExampleBuilder(tokenizer: tokenizer, template: try tokenizer.chatTemplate(),
                                     targets: recipe.tokenize.trainOn == .all ? .all : .completions)
        let inputs = Self.cleanedFiles(context)
        var counts: [String: Int] = [:]
        var rejected = ""
        for (name, path) in inputs {
            var examples: [TrainingExample] = []
            for record in try Self.records(path) {
                do {
                    let example = try builder.example(Self.trainingText(record.content))
                    examples.append(example)
                    counts["\(name)_tokens", default: 0] += example.tokens.count
                    counts["\(name)_target_tokens", default: 0] += example.targetMask.filter { $0 }.count
                    counts["\(name)_truncated", default: 0] += example.tokens.count > recipe.tokenize.maxLength ? 1 : 0
                } catch let rejection as ExampleRejection {
                    rejected += "{\"source\": \"\(record.source.id)\", \"reason\": \(LatheFormats.JSONValue.quoted(rejection.reason))}\n"
                    counts["\(name)_rejected", default: 0] += 1
                }
            }
            counts["\(name)_examples"] = examples.count
            try TokenShard.write(examples, to: (context.outputDirectory as NSString).appendingPathComponent("\(name).tokens.zst"))
        }
        try Data(rejected.utf8).write(to: URL(fileURLWithPath: context.outputDirectory).appendingPathComponent("rejected.jsonl"))
        return StageReport(counts: counts)
    }

    /// `train` and `eval` inputs: the clean stage's split when it made one, else all cleaned records (or the raw
    /// data files when cleaning is off).
    static func cleanedFiles(_ context: StageContext) -> [(String, String)] {
        guard let clean = context.upstream[.clean] else { return context.loaded.dataFiles.map { ("train", $0) } }
        let directory = URL(fileURLWithPath: clean)
        let train = directory.appendingPathComponent("train.jsonl").path
        if FileManager.default.fileExists(atPath: train) {
            return [("train", train), ("eval", directory.appendingPathComponent("eval.jsonl").path)]
        }
        return [("train", directory.appendingPathComponent("cleaned.jsonl").path)]
    }

    /// The tokenizer of a base model, without loading its weights.
    /// Every record of a cleaned JSONL file (they were validated by the clean stage).
    public static func records(_ path: String) throws -> [Record] {
        let source = try RecordSources.open(path, maxRecordBytes: 16 << 20, textMode: .file)
        let decoder = RecordDecoder()
        var records: [Record] = []
        while true {
            let batch = try source.nextBatch(maxItems: 1024, maxBytes: 8 << 20)
            if batch.isEmpty { break }
            for item in batch {
                switch item {
                case .record(let record): records.append(record)
                case .line(let line):
                    if case .record(let record) = JSONLDecoding.decode(line, file: path, decoder: decoder, maxRecordBytes: 16 << 20) {
                        records.append(record)
                    }
                case .rejected, .empty: break
                }
            }
        }
        return records
    }

    public static func trainingText(_ content: RecordContent) -> TrainingText {
        switch content {
        case .text(let text): return .text(text)
        case .promptCompletion(let prompt, let completion): return .promptCompletion(prompt: prompt, completion: completion)
        case .alpaca(let instruction, let input, let output):
            return .promptCompletion(prompt: input.isEmpty ? instruction : instruction + "\n\n" + input, completion: output)
        case .chat(let messages):
            return .chat(messages)
        }
    }
}

