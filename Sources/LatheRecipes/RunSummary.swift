import Foundation
import LatheCheckpoints
import LatheFormats
import LatheData

/// After a run: `MODEL_CARD.md` in the run directory, from the lineage and the stages' reports.
public enum RunSummary {
    /// Writes `<run>/MODEL_CARD.md`; `outputs` are the stage directories `RecipeRunner.run` returned.
    public static func writeModelCard(_ loaded: LoadedRecipe, outputs: [StageName: String]) throws {
        let lineage = try Lineage.read((loaded.runDirectory as NSString).appendingPathComponent("lineage.json"))
        func report(_ stage: StageName) -> StageReport? {
            guard let directory = outputs[stage] else { return nil }
            return try? JSONNode.read(file: (directory as NSString).appendingPathComponent("report.json")).decode(StageReport.self)
        }
        let clean = report(.clean), tokenize = report(.tokenize), evaluate = report(.evaluate)
        let hasher = FileHasher()
        let perInput = outputs[.clean].flatMap { directory -> [String: Int]? in
            guard let report = try? JSONNode.read(file: (directory as NSString).appendingPathComponent("clean_report.json"))
                .decode(CleanReport.self) else { return nil }
            return Dictionary(report.inputs.map { ($0.path, $0.records) }, uniquingKeysWith: +)
        } ?? [:]
        let sources = try loaded.dataFiles.map { path in
            DataSourceSummary(file: try FileRecord(hashing: path, runDirectory: loaded.runDirectory, projectRoot: loaded.projectRoot,
                                                   hasher: hasher),
                              records: perInput[path] ?? 0)
        }
        let decisions = (clean?.counts ?? [:]).filter { $0.key != "records_in" }.sorted { $0.key < $1.key }
            .map { (decision: $0.key.replacingOccurrences(of: "_", with: " "), records: $0.value) }
        var rows: [EvaluationRow] = []
        for (key, value) in (evaluate?.metrics ?? [:]).sorted(by: { $0.key < $1.key }) where key.hasSuffix("/adapter") {
            let name = String(key.dropLast("/adapter".count))
            let parts = name.split(separator: "/")
            guard parts.count == 2 else { continue }
            rows.append(EvaluationRow(task: String(parts[0]), metric: String(parts[1]),
                                      base: evaluate?.metrics["\(name)/base"], adapter: value,
                                      changeStandardError: evaluate?.metrics["\(name)/delta_stderr"]))
        }
        let summaries = ModelCardSummaries(dataSources: sources, cleaningDecisions: decisions,
                                           trainRecords: tokenize?.counts["train_examples"] ?? 0,
                                           heldOutRecords: tokenize?.counts["eval_examples"] ?? 0, evaluation: rows)
        let card = ModelCard.markdown(lineage: lineage, summaries: summaries)
        try DurableFile.write(Array(card.utf8), to: (loaded.runDirectory as NSString).appendingPathComponent("MODEL_CARD.md"))
    }
}
