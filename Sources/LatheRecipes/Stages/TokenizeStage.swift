import Foundation
import LatheCheckpoints
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
        let tokenizer = try Tokenizer.forRecipe(context.loaded)
        let builder = ExampleBuilder(tokenizer: tokenizer, template: try tokenizer.chatTemplate(),
                                     targets: recipe.tokenize.trainOn == .all ? .all : .completions)
        let inputs = Self.cleanedFiles(context)
        var counts: [String: Int] = [:]
        let rejectedPath = URL(fileURLWithPath: context.outputDirectory).appendingPathComponent("rejected.jsonl").path
        guard FileManager.default.createFile(atPath: rejectedPath, contents: nil),
              let rejected = FileHandle(forWritingAtPath: rejectedPath) else {
            throw CheckpointError.io(path: rejectedPath, reason: "cannot create the file")
        }
        defer { try? rejected.close() }
        // One record at a time: cleaned records are read in batches and examples go straight to the shard.
        for (name, path) in inputs {
            let records = try RecordStream(path)
            let shard = try TokenShardWriter(path: (context.outputDirectory as NSString).appendingPathComponent("\(name).tokens.zst"))
            while let record = try records.next() {
                let example: TrainingExample
                do { example = try builder.example(Self.trainingText(record.content)) } catch let rejection as ExampleRejection {
                    let line = "{\"source\": \"\(record.source.id)\", \"reason\": \(LatheFormats.JSONValue.quoted(rejection.reason))}\n"
                    try rejected.write(contentsOf: Data(line.utf8))
                    counts["\(name)_rejected", default: 0] += 1
                    continue
                }
                counts["\(name)_tokens", default: 0] += example.tokens.count
                counts["\(name)_target_tokens", default: 0] += example.targetMask.filter { $0 }.count
                counts["\(name)_truncated", default: 0] += example.tokens.count > recipe.tokenize.maxLength ? 1 : 0
                try shard.append(example)
            }
            counts["\(name)_examples"] = shard.count
            try shard.finish()
        }
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

