import Foundation
import LatheCheckpoints
import LatheEvaluation
import LatheFormats
import LatheModels

/// Task evaluation during training (`evaluate.every`) and the choice of the best adapter by one metric
/// (`evaluate.select`, `evaluate.better`, `evaluate.patience`). The best adapter so far is kept as a PEFT
/// directory beside the checkpoints, whatever `keep_last` removes; its choice is rebuilt from the training log on
/// resume, so a resumed run picks the same step and writes the same adapter.
struct TrainingSelection {
    /// Thrown from the step callback when `patience` evaluations passed without improvement.
    struct EarlyStop: Error {}

    let every: Int
    let tasks: [TaskConfig]
    let options: EvaluationOptions
    /// (task, metric, filter) of `evaluate.select`, nil to only record the metrics.
    let select: (task: String, metric: String, filter: String)?
    let higherIsBetter: Bool
    let patience: Int?
    /// The recipe file, for errors.
    let recipeFile: String
    /// `<checkpoints>/best-adapter`, the PEFT directory of the best adapter so far.
    let bestDirectory: String
    private(set) var best: (step: Int, value: Double)?
    private(set) var sinceBest = 0

    /// Nil when `evaluate.every` is 0. `log` is the training log kept through the resumed step.
    init?(_ loaded: LoadedRecipe, directory: String, log: String) throws {
        let settings = loaded.recipe.evaluate
        guard settings.every > 0 else { return nil }
        every = settings.every
        tasks = try loaded.taskPaths.flatMap { try TaskSuite.load($0) }
        options = settings.options
        patience = settings.patience
        recipeFile = loaded.file
        bestDirectory = (directory as NSString).appendingPathComponent("best-adapter")
        if let text = settings.select {
            let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
            let metric = parts[1].split(separator: ",", maxSplits: 1).map(String.init)
            select = (parts[0], metric[0], metric.count > 1 ? metric[1] : "none")
            higherIsBetter = settings.better.map { $0 == .higher } ?? !["perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte"].contains(metric[0])
        } else {
            select = nil
            higherIsBetter = true
        }
        for line in log.split(separator: "\n") {
            guard let object = try? JSONValue.parse(Array(line.utf8)), let step = object["step"]?.intValue,
                  let value = object["selected"]?.doubleValue else { continue }
            record(step: step, value: value)
        }
    }

    /// The metric key of `select` in the logged metrics.
    var selectedKey: String? { select.map { "\($0.task)/\($0.metric),\($0.filter)" } }

    /// Whether the tasks run after `step`: every `every` steps and after the last.
    func isDue(step: Int, last: Bool) -> Bool { step % every == 0 || last }

    /// Runs the tasks on the base model with `adapter` merged in; returns the log line, every `task/metric,filter`
    /// value, and whether `patience` asks to stop. A new best adapter is written before this returns.
    mutating func evaluate(_ training: LoRATraining, _ adapter: LoRAAdapter, step: Int,
                           progress: (EvaluationEvent) -> Void) throws -> (line: String, metrics: [String: Double], stop: Bool) {
        let model = EvaluationModel(model: DecoderModel(weights: training.loaded.weights.merged(with: adapter), rope: training.loaded.rope),
                                    tokenizer: try training.loaded.tokenizer(for: adapter), name: "step-\(step)")
        var metrics: [String: Double] = [:]
        for task in tasks {
            let result = try Evaluator.evaluate(task, model: model, options: options, progress: progress)
            for m in result.metrics { metrics["\(task.name)/\(m.name),\(m.filter)"] = m.aggregate() }
        }
        var line = "{\"step\": \(step), \"tasks\": {"
            + metrics.keys.sorted().map { JSONValue.quoted($0) + ": " + Self.number(metrics[$0]!) }.joined(separator: ", ") + "}"
        guard let key = selectedKey else { return (line + "}\n", metrics, false) }
        guard let value = metrics[key] else {
            throw RecipeError.invalid(file: recipeFile, line: 0, key: "evaluate.select",
                                      message: "'\(key)' is not among the metrics the tasks give: \(metrics.keys.sorted().joined(separator: ", "))")
        }
        if record(step: step, value: value) { try writeBest(training, adapter) }
        line += ", \"selected\": \(Self.number(value))}\n"
        return (line, metrics, patience.map { sinceBest >= $0 } ?? false)
    }

    /// Counts `value` at `step`; true when it is the best so far (strictly better: ties keep the earlier step).
    @discardableResult
    private mutating func record(step: Int, value: Double) -> Bool {
        if let best, !(higherIsBetter ? value > best.value : value < best.value) {
            sinceBest += 1
            return false
        }
        best = (step, value)
        sinceBest = 0
        return true
    }

    /// The adapter as `best-adapter/`, written beside and renamed into place, so a kill leaves the old or the new.
    private func writeBest(_ training: LoRATraining, _ adapter: LoRAAdapter) throws {
        let temporary = bestDirectory + ".tmp"
        try? FileManager.default.removeItem(atPath: temporary)
        try training.save(adapter, to: temporary)
        try? FileManager.default.removeItem(atPath: bestDirectory)
        try FileManager.default.moveItem(atPath: temporary, toPath: bestDirectory)
    }

    static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
}
