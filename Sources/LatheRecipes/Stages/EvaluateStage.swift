import Foundation
import LatheEvaluation
import LatheSupport

/// The recipe's evaluate stage: the recipe's lm-eval task files on the base model with the trained adapter
/// and, with `compare_with_base`, on the base alone, with per-task deltas and paired bootstrap standard errors.
/// Writes `adapter/` and `base/` (results.json, samples_<task>.jsonl, table.md) and `comparison.md`.
/// With several ranks every rank answers its share of each task's documents (`Evaluator.evaluate`); rank 0 announces
/// the stage to the others (`StageFollowers`) and alone writes.
public struct EvaluateStage: StageExecutor {
    public var onEvent: (EvaluationEvent) -> Void
    /// The job's ranks.
    public let communicator: any Communicator

    public init(communicator: any Communicator = SingleProcess(), onEvent: @escaping (EvaluationEvent) -> Void = { _ in }) {
        self.communicator = communicator
        self.onEvent = onEvent
    }

    public func run(_ context: StageContext) throws -> StageReport {
        let settings = context.loaded.recipe.evaluate
        guard let trained = context.upstream[.train] else {
            throw RecipeError.invalid(file: context.loaded.file, line: 0, key: "evaluate", message: "the evaluate stage needs the train stage")
        }
        let adapter = (trained as NSString).appendingPathComponent("adapter")
        if communicator.size > 1 { _ = try communicator.broadcast([StageFollowers.Kind.evaluate.rawValue] + Array(adapter.utf8)) }
        let options = settings.options
        let (adapted, base) = try Self.evaluate(context.loaded, adapter: adapter, communicator: communicator,
                                                folder: context.outputDirectory, onEvent: onEvent)
        let out = context.outputDirectory as NSString
        let comparison = Comparison(base: base, adapted: adapted, options: options)
        var metrics: [String: Double] = [:]
        for row in comparison.rows {
            let name = "\(row.task)/\(row.metric)"
            metrics["\(name)/adapter"] = row.adapted
            metrics["\(name)/adapter_stderr"] = row.adaptedStandardError
            if settings.compareWithBase {
                metrics["\(name)/base"] = row.base
                metrics["\(name)/base_stderr"] = row.baseStandardError
                metrics["\(name)/delta"] = row.delta
                metrics["\(name)/delta_stderr"] = row.deltaStandardError
            }
        }
        if settings.compareWithBase {
            try Data(comparison.table().utf8).write(to: URL(fileURLWithPath: out.appendingPathComponent("comparison.md")))
        }
        return StageReport(counts: ["tasks": adapted.count], metrics: metrics)
    }

    /// The recipe's tasks on the base with `adapter` and, with `compare_with_base`, on the base alone (else the
    /// adapter's results twice), as this rank's part of the stage; writes `adapter/` and `base/` into `folder`
    /// (rank 0; the others pass nil).
    static func evaluate(_ loaded: LoadedRecipe, adapter: String, communicator: any Communicator, folder: String?,
                         onEvent: (EvaluationEvent) -> Void = { _ in }) throws -> (adapted: [TaskResult], base: [TaskResult]) {
        let tasks = try loaded.taskPaths.flatMap { try TaskSuite.load($0) }
        let options = loaded.recipe.evaluate.options
        func evaluate(_ label: String, adapter: String?) throws -> [TaskResult] {
            let model = try EvaluationModel.load(path: loaded.baseModelPath, adapter: adapter, name: label,
                                                 format: loaded.recipe.train.baseFormat)
            let results = try tasks.map {
                try Evaluator.evaluate($0, model: model, options: options, communicator: communicator, progress: onEvent)
            }
            guard let folder else { return results }
            let directory = (folder as NSString).appendingPathComponent(label)
            try EvaluationReport.write(results, model: label, options: options, to: directory)
            try Data(EvaluationReport.table(results, options: options).utf8)
                .write(to: URL(fileURLWithPath: directory).appendingPathComponent("table.md"))
            return results
        }
        let adapted = try evaluate("adapter", adapter: adapter)
        let base = loaded.recipe.evaluate.compareWithBase ? try evaluate("base", adapter: nil) : adapted
        return (adapted, base)
    }
}
