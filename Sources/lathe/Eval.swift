import ArgumentParser
import Foundation
import LatheEvaluation
import LatheSupport

/// `lathe eval`: lm-eval-compatible tasks on a model, an adapter, or both side by side.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model (and optionally a LoRA adapter) on lm-eval task YAML over local data.",
        discussion: """
        --tasks takes a task YAML, a suite YAML (group: NAME, task: [names]) or a folder of task YAMLs. The same \
        files run in lm-eval with --include_path; run lm-eval from the YAML's folder, because lm-eval resolves \
        data_files against its working directory and Lathe against the YAML file.
        """
    )

    @Option(help: "Base model: a GGUF file or an HF directory.") var model: String
    @Option(help: "PEFT LoRA adapter directory to merge into the model.") var adapter: String?
    @Option(help: "Task YAML, suite YAML or folder of task YAMLs.") var tasks: String
    @Option(help: "Evaluate only the first N documents of each task.") var limit: Int?
    @Option(help: "Few-shot examples per context, replacing each task's num_fewshot (as lm-eval --num_fewshot, a task whose YAML sets num_fewshot: 0 stays zero-shot).")
    var numFewshot: Int?
    @Flag(help: "Render every context with the model's chat template (lm-eval --apply_chat_template); choices then follow the context without target_delimiter.")
    var applyChatTemplate = false
    @Flag(inversion: .prefixedNo, help: "Few-shot examples as separate user/assistant turns (default with --apply-chat-template, as lm-eval --fewshot_as_multiturn); --no-fewshot-as-multiturn puts them in one user message.")
    var fewshotAsMultiturn: Bool?
    @Option(help: "A system message before each task's description (lm-eval --system_instruction).") var systemInstruction: String?
    @Flag(help: "Also evaluate the base model and print per-task deltas with paired bootstrap standard errors.")
    var compareBase = false
    @Option(help: "Output folder for results.json, samples_<task>.jsonl and table.md.") var out: String
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var base: BaseFormatOption

    func validate() throws {
        if compareBase && adapter == nil { throw ValidationError("--compare-base needs --adapter DIR") }
        if let numFewshot, numFewshot < 0 { throw ValidationError("--num-fewshot must be 0 or more") }
        if fewshotAsMultiturn == true && !applyChatTemplate {
            throw ValidationError("--fewshot-as-multiturn needs --apply-chat-template (as in lm-eval)")
        }
    }

    func run() throws {
        try runAsJob { try evaluate($0) }
    }

    /// Evaluates as one rank of a job: every rank answers its share of each task's documents
    /// (`Evaluator.evaluate`); rank 0 alone writes and prints.
    func evaluate(_ communicator: any Communicator) throws {
        threads.configure(for: communicator)
        let leader = communicator.isLeader
        let taskList = try TaskSuite.load(tasks)
        var options = EvaluationOptions(limit: limit, numFewshot: numFewshot)
        options.applyChatTemplate = applyChatTemplate
        options.fewshotAsMultiturn = fewshotAsMultiturn
        options.systemInstruction = systemInstruction
        for task in taskList {
            let shots = try task.effectiveFewshot(override: numFewshot)
            guard leader else { continue }
            if let numFewshot, shots != numFewshot {
                note("\(task.name): num_fewshot: 0 in \(task.file) keeps it zero-shot (lm-eval ignores --num_fewshot there too)")
            }
            if let warning = task.fewshotWarning(shots: shots) { note(warning) }
        }
        var runs = [(label: String, adapter: String?)]()
        if compareBase { runs.append(("base", nil)) }
        runs.append((adapter == nil ? "base" : "adapter", adapter))
        var all = [[TaskResult]]()
        for run in runs {
            let evaluationModel = try EvaluationModel.load(path: model, adapter: run.adapter, name: run.label, format: base.format)
            var results = [TaskResult]()
            for task in taskList {
                results.append(try Evaluator.evaluate(task, model: evaluationModel, options: options, communicator: communicator,
                                                      progress: leader ? render : { _ in }))
            }
            all.append(results)
            guard leader else { continue }
            let folder = runs.count > 1 ? (out as NSString).appendingPathComponent(run.label) : out
            let args = "model=\(model)" + (run.adapter.map { ",adapter=\($0)" } ?? "")
            try EvaluationReport.write(results, model: args, options: options, to: folder)
            let table = EvaluationReport.table(results, options: options)
            try Data(table.utf8).write(to: URL(fileURLWithPath: folder).appendingPathComponent("table.md"))
            print("\n\(run.label): \(args)\n" + table)
        }
        if all.count == 2 && leader {
            let comparison = Comparison(base: all[0], adapted: all[1], options: options)
            let table = comparison.table()
            try Data(table.utf8).write(to: URL(fileURLWithPath: out).appendingPathComponent("comparison.md"))
            print("base vs adapter (delta ± paired bootstrap stderr, \(options.bootstrapIterations) resamples, seed \(options.seed))\n" + table)
        }
    }

    private func note(_ text: String) {
        FileHandle.standardError.write(Data("note: \(text)\n".utf8))
    }

    private func render(_ event: EvaluationEvent) {
        switch event {
        case .taskStarted(let task, let model, let documents, let requests):
            FileHandle.standardError.write(Data("\(model) \(task): \(documents) documents, \(requests) requests\n".utf8))
        case .progress(let task, let done, let total):
            FileHandle.standardError.write(Data("\r  \(task) \(done)/\(total)".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        case .taskFinished(let task, _, let seconds):
            FileHandle.standardError.write(Data("  \(task) done in \(String(format: "%.1f", seconds)) s\n".utf8))
        }
    }
}
