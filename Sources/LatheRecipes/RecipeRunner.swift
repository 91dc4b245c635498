import Foundation
import LatheCheckpoints
import LatheFormats

/// What a stage executor is given: the recipe, its planned key, a fresh directory to write into, and the output
/// directories of the stages before it.
public struct StageContext: Sendable {
    /// The loaded recipe.
    public let loaded: LoadedRecipe
    /// This stage in the plan (key, resolved config).
    public let planned: PlannedStage
    /// An empty temporary directory; everything written here is renamed into the cache when `run` returns.
    public let outputDirectory: String
    /// Output directories of the earlier enabled stages.
    public let upstream: [StageName: String]
}

/// What a stage reports back: counts and metrics for the lineage and model card.
public struct StageReport: Codable, Sendable, Equatable {
    /// Counts (records kept, dropped per reason, tokens, steps).
    public var counts: [String: Int]
    /// Metrics (losses, eval scores).
    public var metrics: [String: Double]

    /// A report.
    public init(counts: [String: Int] = [:], metrics: [String: Double] = [:]) {
        self.counts = counts
        self.metrics = metrics
    }
}

/// One stage's work (cleaning, tokenising, training, evaluation, export), supplied by the caller.
public protocol StageExecutor {
    /// Produces the stage's output in `context.outputDirectory`.
    func run(_ context: StageContext) throws -> StageReport
}

/// Progress of a run, for the CLI to render.
public enum RunEvent: Sendable, Equatable {
    /// The stage is turned off in the recipe.
    case skipped(StageName)
    /// The stage's output for this key exists; nothing is done.
    case cached(StageName, directory: String)
    /// The stage starts.
    case started(StageName, key: String)
    /// The stage finished and its output was renamed into place.
    case finished(StageName, directory: String, report: StageReport)
}

/// Which stages one invocation runs (`lathe run --until STAGE`, `--only STAGE`).
public enum StageSelection: Sendable, Equatable {
    /// Every stage; the run's record (`lineage.json`) is written.
    case all
    /// The stages up to and including this one.
    case until(StageName)
    /// This stage alone, from the cached outputs of the enabled stages before it.
    case only(StageName)
}

/// Runs the plan: each enabled stage through the cache (skipped when its key's output exists), each recorded in the
/// chained `lineage.json`. The stages' work comes from `executors`; a stage without an executor is an error.
public struct RecipeRunner {
    /// The recipe.
    public let loaded: LoadedRecipe
    /// The plan (keys computed once).
    public let plan: StagePlan
    /// Where and with what the run happens.
    public let environment: LineageEnvironment
    private let hasher: FileHasher

    /// Plans `loaded` with the environment's code version.
    public init(loaded: LoadedRecipe, environment: LineageEnvironment, hasher: FileHasher = FileHasher()) throws {
        self.loaded = loaded
        self.environment = environment
        self.hasher = hasher
        plan = try StagePlanner.plan(loaded, codeVersion: environment.codeVersion.description, hasher: hasher)
    }

    /// Runs the selected enabled stages; returns each stage's output directory (cached upstream ones included).
    /// Only a run of every stage rewrites `lineage.json`, which describes one invocation from the first stage to
    /// the last: a partial run leaves the record of the last complete run as it was, and its stage outputs are
    /// recorded (as cached) by the next complete run.
    @discardableResult
    public func run(executors: [StageName: any StageExecutor], selection: StageSelection = .all,
                    onEvent: (RunEvent) -> Void = { _ in }) throws -> [StageName: String] {
        let cache = StageCache(runDirectory: loaded.runDirectory)
        let selected = try stages(selection, cache: cache)
        try DurableFile.makeDirectories(loaded.runDirectory)
        cache.removeTemporaries()
        let recorder = selection == .all
            ? try LineageRecorder(runDirectory: loaded.runDirectory,
                                  header: try LineageHeader(loaded, environment: environment, hasher: hasher), hasher: hasher)
            : nil
        var outputs: [StageName: String] = [:]
        for planned in selected {
            guard planned.enabled else { onEvent(.skipped(planned.stage)); continue }
            let cached = cache.isCached(planned.stage, key: planned.key)
            let report: StageReport
            let directory: String
            if cached {
                directory = planned.directory
                report = try Self.readReport(directory)
                onEvent(.cached(planned.stage, directory: directory))
            } else {
                guard let executor = executors[planned.stage] else {
                    throw RecipeError.run(path: loaded.file, message: "no executor for stage \(planned.stage.rawValue); this build cannot run it")
                }
                onEvent(.started(planned.stage, key: planned.key))
                var produced = StageReport()
                directory = try cache.produce(planned.stage, key: planned.key) { temporary in
                    produced = try executor.run(StageContext(loaded: loaded, planned: planned, outputDirectory: temporary, upstream: outputs))
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                    try DurableFile.write(Array(try encoder.encode(produced)), to: temporary + "/report.json")
                }.directory
                report = produced
                onEvent(.finished(planned.stage, directory: directory, report: report))
            }
            try recorder?.record(stage: planned.stage, key: planned.key, cached: cached, configJSON: planned.config,
                                inputs: inputs(of: planned.stage, upstream: outputs), outputDirectory: directory,
                                counts: report.counts, metrics: report.metrics)
            outputs[planned.stage] = directory
        }
        return outputs
    }

    /// The planned stages `selection` runs. `.only` needs the output of every enabled stage before it in the
    /// cache; the first one missing is named in the error, with the command that produces it.
    func stages(_ selection: StageSelection, cache: StageCache) throws -> [PlannedStage] {
        switch selection {
        case .all:
            return plan.stages
        case .until(let last):
            return Array(plan.stages.prefix { $0.stage != last }) + plan.stages.filter { $0.stage == last }
        case .only(let stage):
            guard let target = plan.stage(stage), target.enabled else {
                throw RecipeError.run(path: loaded.file, message: "--only \(stage.rawValue): the stage is turned off in this recipe")
            }
            for upstream in plan.stages.prefix(while: { $0.stage != stage }) where upstream.enabled {
                guard cache.isCached(upstream.stage, key: upstream.key) else {
                    throw RecipeError.run(path: loaded.file, message: """
                        --only \(stage.rawValue) needs the output of the \(upstream.stage.rawValue) stage for this recipe, which \
                        is not in the cache (\(upstream.directory)); run `lathe run \(loaded.file) --until \(upstream.stage.rawValue)` first
                        """)
                }
            }
            return plan.stages.prefix { $0.stage != stage }.filter(\.enabled) + [target]
        }
    }

    /// The files a stage reads: raw data for clean; the previous stage's output and the base model for the rest.
    func inputs(of stage: StageName, upstream: [StageName: String]) -> [String] {
        switch stage {
        case .clean: return loaded.dataFiles
        case .tokenize: return (upstream[.clean].map { [$0] } ?? loaded.dataFiles) + [loaded.baseModelPath]
        case .train:
            return [upstream[.tokenize], loaded.baseModelPath].compactMap { $0 } + (loaded.recipe.evaluate.every > 0 ? loaded.taskPaths : [])
        case .evaluate: return [upstream[.train], loaded.baseModelPath].compactMap { $0 } + loaded.taskPaths
        case .export: return [upstream[.train], loaded.baseModelPath].compactMap { $0 }
        }
    }

    static func readReport(_ directory: String) throws -> StageReport {
        guard FileManager.default.fileExists(atPath: directory + "/report.json") else { return StageReport() }
        do { return try JSONNode.read(file: directory + "/report.json").decode(StageReport.self) } catch {
            throw RecipeError.run(path: directory + "/report.json", message: "unreadable stage report (\(error)); delete the stage directory to re-run it")
        }
    }
}
