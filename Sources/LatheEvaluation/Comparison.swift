import Foundation

/// Base model against base + adapter on the same tasks and documents.
public struct Comparison: Sendable {
    /// One metric of one task in both runs.
    public struct Row: Sendable {
        public var task: String
        public var metric: String
        public var filter: String
        public var base: Double
        public var adapted: Double
        /// The adapted value minus the base value.
        public var delta: Double { adapted - base }
        /// Paired bootstrap standard error of `delta` (same resampled documents for both runs); nil if undefined.
        public var deltaStandardError: Double?
        public var baseStandardError: Double?
        public var adaptedStandardError: Double?
    }

    public var rows: [Row]

    /// Pairs the metrics of `base` and `adapted` task results (same tasks, same documents, same order).
    public init(base: [TaskResult], adapted: [TaskResult], options: EvaluationOptions = .init()) {
        var rows = [Row]()
        for (b, a) in zip(base, adapted) where b.task.name == a.task.name {
            for mb in b.metrics {
                guard let ma = a.metrics.first(where: { $0.name == mb.name && $0.filter == mb.filter }) else { continue }
                let iterations = options.bootstrapIterations, seed = options.seed
                rows.append(Row(task: b.task.name, metric: mb.name, filter: mb.filter, base: mb.aggregate(), adapted: ma.aggregate(),
                                deltaStandardError: Bootstrap.pairedDeltaError(base: mb, adapted: ma, iterations: iterations, seed: seed),
                                baseStandardError: mb.standardError(bootstrapIterations: iterations, seed: seed),
                                adaptedStandardError: ma.standardError(bootstrapIterations: iterations, seed: seed)))
            }
        }
        self.rows = rows
    }

    /// A markdown table: task, metric, base ± se, adapter ± se, delta ± paired bootstrap se.
    public func table() -> String {
        func cell(_ v: Double, _ se: Double?) -> String { EvaluationReport.fixed(v) + (se.map { " ± " + EvaluationReport.fixed($0) } ?? "") }
        var lines = ["| Task | Metric | Base | Adapter | Delta |", "|---|---|---:|---:|---:|"]
        for r in rows {
            let metric = r.filter == "none" ? r.metric : r.metric + "," + r.filter
            let sign = r.delta >= 0 ? "+" : ""
            lines.append("| \(r.task) | \(metric) | \(cell(r.base, r.baseStandardError)) | \(cell(r.adapted, r.adaptedStandardError)) | "
                         + sign + cell(r.delta, r.deltaStandardError) + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
