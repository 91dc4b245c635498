import Foundation
import LatheEvaluation

/// The recipe's evaluate stage: the recipe's lm-eval task files on the base model with the trained adapter
/// and, with `compare_with_base`, on the base alone, with per-task deltas and paired bootstrap standard errors.
/// Writes `adapter/` and `base/` (results.json, samples_<task>.jsonl, table.md) and `comparison.md`.
public struct EvaluateStage: StageExecutor {
    public var onEvent: (EvaluationEvent) -> Void

    public init(onEvent: @escaping (EvaluationEvent) -> Void = { _ in }) { self.onEvent = onEvent }

    public func run(_ context: StageContext) throws -> StageReport {
        let settings = context.loaded.recipe.evaluate
        guard let trained = context.upstream[.train] else {
            throw RecipeError.invalid(file: context.loaded.file, line: 0, key: "evaluate", message: "the evaluate stage needs the train stage")
        }
        let adapter = (trained as NSString).appendingPathComponent("adapter")
        let tasks = try context.loaded.taskPaths.flatMap { try TaskSuite.load($0) }
        let options = settings.options
        let out = context.outputDirectory as NSString
        func evaluate(_ label: String, adapter: String?) throws -> [TaskResult] {
            let model = try EvaluationModel.load(path: context.loaded.baseModelPath, adapter: adapter, name: label,
                                                 format: context.loaded.recipe.train.baseFormat)
            let results = try tasks.map { try Evaluator.evaluate($0, model: model, options: options, progress: onEvent) }
            let folder = out.appendingPathComponent(label)
            try EvaluationReport.write(results, model: label, options: options, to: folder)
            try Data(EvaluationReport.table(results, options: options).utf8)
                .write(to: URL(fileURLWithPath: folder).appendingPathComponent("table.md"))
            return results
        }
        let adapted = try evaluate("adapter", adapter: adapter)
        let base = settings.compareWithBase ? try evaluate("base", adapter: nil) : adapted
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
        return StageReport(counts: ["tasks": tasks.count], metrics: metrics)
    }
}
