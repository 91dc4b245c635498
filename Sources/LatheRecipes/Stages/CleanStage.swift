import Foundation
import LatheData
import LatheSupport

/// The recipe's clean stage: LatheData's cleaning pipeline with the recipe's settings. Writes `cleaned.jsonl`,
/// `rejected.jsonl`, `clean_report.json` and, with `eval_fraction > 0`, `train.jsonl` and `eval.jsonl`.
/// With several ranks, every rank processes its share of each batch and rank 0 deduplicates and writes
/// (`CleaningPipeline.run`); rank 0 announces the stage to the others (`StageFollowers`).
public struct CleanStage: StageExecutor {
    public var progress: (CleaningProgress) -> Void
    /// The job's ranks.
    public let communicator: any Communicator

    public init(communicator: any Communicator = SingleProcess(), progress: @escaping (CleaningProgress) -> Void = { _ in }) {
        self.communicator = communicator
        self.progress = progress
    }

    public func run(_ context: StageContext) throws -> StageReport {
        if communicator.size > 1 { _ = try communicator.broadcast([StageFollowers.Kind.clean.rawValue]) }
        let report = try Self.clean(context.loaded, outputDirectory: context.outputDirectory, communicator: communicator,
                                    progress: progress)
        let near = report.nearDuplicates
        var counts = ["records_in": report.recordsIn, "records_out": report.recordsOut,
                      "near_duplicates_dropped": near.recordsDropped, "near_duplicate_candidate_pairs": near.candidatePairs,
                      "near_duplicate_confirmed_pairs": near.confirmedPairs, "near_duplicate_largest_cluster": near.largestCluster,
                      "records_redacted": report.recordsRedacted]
        for input in report.inputs { counts["bad_lines", default: 0] += input.badLines }
        for (type, count) in report.pii { counts["pii_\(type)"] = count }
        for (name, count) in report.split ?? [:] { counts["split_\(name)"] = count }
        return StageReport(counts: counts)
    }

    /// Cleans the recipe's data as this rank's part of the stage (rank 0 writes to `outputDirectory`).
    @discardableResult
    static func clean(_ loaded: LoadedRecipe, outputDirectory: String, communicator: any Communicator,
                      progress: (CleaningProgress) -> Void = { _ in }) throws -> CleanReport {
        try CleaningPipeline(config: cleaningConfig(loaded.recipe))
            .run(inputs: loaded.dataFiles, outputDirectory: outputDirectory, communicator: communicator, progress: progress)
    }

    /// The recipe's `data` and `clean` sections as LatheData settings: `lathe clean`'s defaults
    /// (`CleaningConfig(kind:)`, rules per record unless `clean.kind` forces them) with the recipe's values on top.
    static func cleaningConfig(_ recipe: Recipe) -> CleaningConfig {
        var config = CleaningConfig(kind: recipe.clean.kind)
        switch recipe.data.format {
        case .auto: config.format = nil
        case .text: config.format = .text
        case .promptCompletion: config.format = .promptCompletion
        case .alpaca: config.format = .alpaca
        case .chat: config.format = .chat
        }
        config.fields = recipe.data.fields
        let clean = recipe.clean
        config.normalization.form = clean.normalize
        config.exactDedup = clean.dedup.exact
        if clean.dedup.minhash { config.minHash?.jaccardThreshold = clean.dedup.threshold } else { config.minHash = nil }
        var pii = PIIRedactor.Config()
        pii.types = Set(clean.pii)
        config.pii = pii.types.isEmpty ? nil : pii
        config.updateFilters { filters in
            if let min = clean.filters.minChars { filters.length?.minChars = min }
            if let max = clean.filters.maxChars { filters.length?.maxChars = max }
        }
        // Validated when the recipe was loaded (RecipeChecks).
        config.memoryBudget = clean.memoryBudget.flatMap { try? MemoryBudget.parse($0) }
        config.split = clean.evalFraction > 0 ? SplitConfig(evalFraction: clean.evalFraction, seed: UInt64(recipe.seed)) : nil
        return config
    }
}
