import ArgumentParser
import Foundation
import LatheData
import LatheEvaluation
import LatheModels
import LatheRecipes
import LatheSupport
import LatheTensors
import LatheTraining

/// `lathe run RECIPE`: clean → tokenize → train → evaluate → export, each stage skipped when its output for the
/// same inputs, config and code already exists; a killed run resumes from its newest valid checkpoint.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a recipe: clean, tokenize, train, evaluate, export — cached per stage, resumable, with lineage."
    )

    @OptionGroup var arguments: RecipeArguments
    @Flag(help: "Print events as JSON lines instead of text.") var json = false
    @Option(help: "Stop after this stage: clean, tokenize, train, evaluate or export.") var until: String?
    @Option(help: "Run only this stage, from the cached outputs of the stages before it.") var only: String?

    func validate() throws {
        if until != nil && only != nil { throw ValidationError("--until and --only cannot be combined") }
        for (flag, value) in [("--until", until), ("--only", only)] {
            if let value, StageName(rawValue: value) == nil {
                throw ValidationError("\(flag) must be one of \(StageName.allCases.map(\.rawValue).joined(separator: ", ")) (got \(value))")
            }
        }
    }

    func run() throws {
        let loaded: LoadedRecipe
        do { loaded = try arguments.load() } catch { throw failWith(error) }
        let selection: StageSelection = until.flatMap(StageName.init).map { .until($0) } ?? only.flatMap(StageName.init).map { .only($0) } ?? .all
        try runAsJob { communicator in
            do {
                _ = try runRecipe(loaded, log: EventLog(json: json), selection: selection, communicator: communicator)
            } catch { throw failWith(error) }
        }
    }
}

/// Runs the selected stages of `loaded` with the real executors; after a complete run writes the model card and
/// report. Returns the stage directories. With several ranks, every rank checks that it sees rank 0's recipe and
/// inputs; rank 0 runs the stages and writes, the others join it to clean, train and evaluate (`StageFollowers`).
func runRecipe(_ loaded: LoadedRecipe, log: EventLog, selection: StageSelection = .all,
               communicator: any Communicator = SingleProcess()) throws -> [StageName: String] {
    let threads = loaded.recipe.train.threads > 0 ? loaded.recipe.train.threads : communicator.defaultThreads
    Parallel.configure(threads: threads)
    let environment = LineageEnvironment(codeVersion: CodeVersion.read(from: loaded.projectRoot),
                                         openblasVersion: Parallel.blasDescription, threads: threads, blasThreads: threads,
                                         ranks: communicator.size, hosts: try communicator.hosts())
    let runner = try RecipeRunner(loaded: loaded, environment: environment)
    let fingerprint = ([try loaded.sha256()] + runner.plan.stages.map(\.key)).joined(separator: ",")
    try communicator.requireSameFingerprint(fingerprint, what: "recipe and input hashes")
    guard communicator.isLeader else {
        try StageFollowers.follow(loaded, plan: runner.plan, communicator: communicator)
        return [:]
    }
    let train = TrainStage(communicator: communicator) { log.train($0) }
    let executors: [StageName: any StageExecutor] = [
        .clean: CleanStage(communicator: communicator) { log.clean($0) },
        .tokenize: TokenizeStage(),
        .train: train,
        .evaluate: EvaluateStage(communicator: communicator) { log.evaluate($0) },
        .export: ExportStage { log.line("warning", ["format": $0.format.rawValue, "message": $0.message]) },
    ]
    // The plan before any work: refuse a training run that cannot fit, with the numbers and what to change.
    var plan: TrainingPlan?
    if selection.includesTraining {
        let rate = SgemmRate.measure(m: 256, n: 256, k: 576, repeats: 1, seconds: 0)
        let predicted = try TrainingPlan.forRecipe(loaded, gflops: rate)
        if let available = TrainingPlan.availableBytes() { try predicted.checkFits(available: available) }
        log.line("plan", ["peak_gb": Double(predicted.peakBytes) / 1e9, "seconds_per_step": predicted.secondsPerStep,
                          "largest": predicted.largest.name])
        plan = predicted
    }
    let started = Date()
    let outputs = try runner.run(executors: executors, selection: selection) { log.run($0) }
    try StageFollowers.release(communicator)
    if let plan {
        log.line("measured", ["peak_rss_gb": Double(peakResidentBytes() ?? 0) / 1e9, "predicted_peak_gb": Double(plan.peakBytes) / 1e9,
                              "seconds": Date().timeIntervalSince(started)])
    }
    guard selection == .all else {
        log.line("stopped", ["stages": outputs.count, "why": "partial run: lineage.json, MODEL_CARD.md and report.html are written by a complete run"])
        return outputs
    }
    try RunSummary.writeModelCard(loaded, outputs: outputs)
    try RunReport.write(loaded, outputs: outputs)
    log.line("done", ["run_directory": loaded.runDirectory, "stages": outputs.count])
    return outputs
}

extension StageSelection {
    /// True when the train stage may run: a whole run, one up to train or later, or train alone.
    var includesTraining: Bool {
        switch self {
        case .all: return true
        case .until(let stage): return stage != .clean && stage != .tokenize
        case .only(let stage): return stage == .train
        }
    }
}

/// Renders run events: text lines (a refreshed progress line on a terminal) or JSON lines.
final class EventLog {
    let json: Bool
    let terminal = isatty(1) != 0
    /// When the current cleaning pass or evaluation task started, for records/s and ETA.
    private var phaseStart = Date()
    private var phase = ""

    /// False on ranks other than 0 of a job: rank 0 alone prints.
    let enabled: Bool

    init(json: Bool, enabled: Bool = true) {
        self.json = json
        self.enabled = enabled
    }

    /// Seconds since `name` started (a new name restarts the clock).
    private func elapsed(in name: String) -> Double {
        if name != phase { phase = name; phaseStart = Date() }
        return max(Date().timeIntervalSince(phaseStart), 1e-9)
    }

    func run(_ event: RunEvent) {
        switch event {
        case .skipped(let stage): line("skipped", ["stage": stage.rawValue, "why": "turned off in the recipe"])
        case .cached(let stage, let directory): line("cached", ["stage": stage.rawValue, "directory": directory, "why": "unchanged inputs, config and code: nothing to do"])
        case .started(let stage, let key): line("started", ["stage": stage.rawValue, "key": String(key.prefix(16))])
        case .finished(let stage, let directory, let report):
            var fields: [String: Any] = ["stage": stage.rawValue, "directory": directory]
            for (k, v) in report.counts { fields[k] = v }
            for (k, v) in report.metrics { fields[k] = (v * 10000).rounded() / 10000 }
            line("finished", fields)
        }
    }

    func clean(_ progress: CleaningProgress) {
        let seconds = elapsed(in: "clean \(progress.stage.rawValue)")
        progressLine(String(format: "clean %@: %d records, %d MB  %.0f records/s", progress.stage.rawValue,
                            progress.records, progress.bytes / 1_000_000, Double(progress.records) / seconds))
    }

    func train(_ event: TrainStage.Event) {
        switch event {
        case .resumed(let step, let problems):
            line("resumed", ["step": step, "skipped_checkpoints": problems])
        case .checkpoint(let step, let path):
            line("checkpoint", ["step": step, "path": path])
        case .evaluated(let step, let loss):
            line("eval_loss", ["step": step, "loss": (loss * 10000).rounded() / 10000])
        case .tasksEvaluated(let step, let metrics, let selected, let bestStep):
            var fields: [String: Any] = ["step": step, "metrics": metrics]
            if let selected { fields["selected"] = selected }
            if let bestStep { fields["best_step"] = bestStep }
            line("task_eval", fields)
        case .evaluation:
            break
        case .step(let p):
            let rate = Double(p.tokens) / max(p.seconds, 1e-9)
            let remaining = Double(p.totalSteps - p.step) * p.seconds
            if json {
                line("step", ["step": p.step, "total": p.totalSteps, "loss": p.loss, "lr": p.learningRate,
                              "grad_norm": Double(p.gradientNorm), "tokens_per_s": rate])
            } else {
                let bar = String(repeating: "█", count: 20 * p.step / max(p.totalSteps, 1)).padding(20)
                progressLine(String(format: "train %@ %d/%d  loss %.4f  lr %.2e  %.0f tok/s  ETA %.0f s",
                                    bar, p.step, p.totalSteps, p.loss, p.learningRate, rate, remaining),
                             final: p.step == p.totalSteps, logEvery: p.step % 10 == 0)
            }
        }
    }

    func evaluate(_ event: EvaluationEvent) {
        switch event {
        case .taskStarted(let task, let model, let documents, _):
            (phase, phaseStart) = ("evaluate \(task)", Date())
            line("evaluating", ["task": task, "model": model, "documents": documents])
        case .progress(let task, let done, let total):
            let rate = Double(done) / elapsed(in: "evaluate \(task)")
            if json {
                if done == total || done % max(total / 10, 1) == 0 {
                    line("evaluate_progress", ["task": task, "done": done, "total": total, "records_per_s": (rate * 10).rounded() / 10])
                }
            } else {
                progressLine(String(format: "evaluate %@ %d/%d  %.1f records/s  ETA %.0f s", task, done, total, rate,
                                    Double(total - done) / max(rate, 1e-9)), final: done == total)
            }
        case .taskFinished(let task, _, let seconds): line("evaluated", ["task": task, "seconds": (seconds * 10).rounded() / 10])
        }
    }

    /// One event: a JSON object with `event`, or `event key=value …`.
    func line(_ event: String, _ fields: [String: Any]) {
        guard enabled else { return }
        if json {
            var object = fields
            object["event"] = event
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
            return
        }
        let text = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        // On a terminal, first clear a progress line being redrawn in place; the next progress line redraws it.
        FileHandle.standardOutput.write(Data("\(terminal ? "\r\u{1B}[K" : "")\(event) \(text)\n".utf8))
    }

    /// A progress line: redrawn in place on a terminal; elsewhere (a log file) printed when `final` or `logEvery`.
    func progressLine(_ text: String, final: Bool = false, logEvery: Bool = false) {
        if json || !enabled { return }
        if terminal {
            FileHandle.standardOutput.write(Data("\r\u{1B}[K\(text)\(final ? "\n" : "")".utf8))
        } else if final || logEvery {
            FileHandle.standardOutput.write(Data("\(text)\n".utf8))
        }
    }
}
