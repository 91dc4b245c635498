import Foundation
import LatheJinja

/// lm-eval's `fewshot_config.sampler` (api/samplers.py `SAMPLER_REGISTRY`).
public enum FewshotSampler: String, Sendable, CaseIterable {
    /// `ContextSampler`: `random.Random(fewshot_seed).sample(docs, n)`, one generator for the whole task.
    case `default`
    /// `FirstNSampler`: the first n documents of the few-shot split, in order.
    case firstN = "first_n"
}

extension TaskConfig {
    /// The split few-shot examples come from, as lm-eval `ConfigurableTask.fewshot_docs`: `fewshot_split`, else
    /// `training_split`, else `validation_split`, else `test_split`.
    public var fewshotSourceSplit: String? { fewshotSplit ?? trainingSplit ?? validationSplit ?? testSplit }

    /// The shots a run uses, as lm-eval's evaluator: `--num_fewshot` (`override`) replaces the YAML value unless the
    /// YAML sets `num_fewshot: 0`; no value means zero-shot. loglikelihood_rolling has no few-shot context.
    public func effectiveFewshot(override: Int?) throws -> Int {
        if let override, override < 0 {
            throw EvaluationError.invalidTask(file: file, key: "num_fewshot", message: "--num-fewshot \(override): must be 0 or more")
        }
        var shots = numFewshot ?? 0
        if let override, numFewshot != 0 { shots = override }
        if shots > 0 && outputType == .loglikelihoodRolling {
            let source = numFewshot == shots ? "\(shots)" : "--num-fewshot \(shots)"
            throw EvaluationError.invalidTask(file: file, key: "num_fewshot",
                                              message: "\(source): loglikelihood_rolling tasks have no few-shot context in lm-eval; "
                                                  + "set num_fewshot: 0 in this YAML (--num-fewshot then leaves it zero-shot)")
        }
        return shots
    }

    /// The task as its few-shot examples are written: `fewshot_config`'s doc_to_* and delimiters in place of the
    /// task's (lm-eval `FewshotConfig.from_dict` inherits the task's where unset).
    var fewshotFormatting: TaskConfig {
        var t = self
        t.docToText = fewshot.docToText ?? docToText
        t.docToTarget = fewshot.docToTarget ?? docToTarget
        t.docToChoice = fewshot.docToChoice ?? docToChoice
        t.targetDelimiter = fewshot.targetDelimiter ?? targetDelimiter
        t.fewshotDelimiter = fewshot.fewshotDelimiter ?? fewshotDelimiter
        return t
    }

    /// lm-eval's warning when few-shot examples fall back to the evaluated split (`Task.fewshot_docs`), or nil.
    public func fewshotWarning(shots: Int) -> String? {
        guard shots > 0, fewshotSplit == nil, fewshot.samples == nil, trainingSplit == nil, validationSplit == nil, testSplit != nil else { return nil }
        return "[Task: \(name)] has_training_docs and has_validation_docs are False, using test_docs as fewshot_docs but this is not recommended."
    }
}

/// The few-shot examples of one task run, drawn document after document exactly as lm-eval 0.4
/// `ConfigurableTask.fewshot_context` draws them, and rendered as its `build_qa_turn` renders them.
struct FewShot {
    /// The task with `fewshot_config`'s formatting applied.
    let task: TaskConfig
    let shots: Int
    /// The few-shot split's documents in file order (empty when zero-shot).
    let pool: [TemplateValue]
    /// lm-eval passes the evaluated document to the sampler (to be left out) when `fewshot_split == test_split`.
    let excludesCurrent: Bool
    private var random: PythonRandom

    init(task: TaskConfig, shots: Int, seed: Int) throws {
        self.task = task.fewshotFormatting
        self.shots = shots
        random = PythonRandom(seed: seed)
        excludesCurrent = task.fewshotSplit == task.testSplit
        guard shots > 0 else { pool = []; return }
        // lm-eval `ConfigurableTask.fewshot_docs`: the few-shot split, else fewshot_config.samples, else the
        // training, validation or test split.
        if task.fewshotSplit == nil, let samples = task.fewshot.samples {
            pool = samples
            if pool.count < shots { throw tooFew(shots, available: pool.count) }
            return
        }
        guard let split = task.fewshotSourceSplit else {
            throw EvaluationError.invalidTask(file: task.file, key: "fewshot_split",
                                              message: "num_fewshot is \(shots) but the task has no split to draw examples from; set fewshot_split")
        }
        pool = try TaskDocuments.load(task, split: split)
        // The default sampler draws n + 1 when it must leave the evaluated document out.
        let needed = task.fewshotSampler == .default && excludesCurrent ? shots + 1 : shots
        if pool.count < needed {
            throw tooFew(needed, available: pool.count)
        }
    }

    private func tooFew(_ needed: Int, available: Int) -> EvaluationError {
        .invalidTask(file: task.file, key: "num_fewshot",
                     message: "\(shots) shots need \(needed) documents in \(task.fewshotSplit == nil && task.fewshot.samples != nil ? "fewshot_config.samples" : "split '\(task.fewshotSourceSplit ?? "")'"), which has \(available)"
                         + (needed > shots ? " (the \(task.fewshotSampler.rawValue) sampler draws one more to leave the evaluated document out)" : "")
                         + "; lower num_fewshot or add documents")
    }

    /// The examples for `doc` as indices into `pool` (samplers.py `ContextSampler.sample` / `FirstNSampler.sample`).
    mutating func examples(for doc: TemplateValue) throws -> [Int] {
        guard shots > 0 else { return [] }
        switch task.fewshotSampler {
        case .firstN:
            let candidates = excludesCurrent ? pool.indices.filter { pool[$0] != doc } : Array(pool.indices)
            guard candidates.count >= shots else { throw tooFew(shots, available: candidates.count) }
            return Array(candidates.prefix(shots))
        case .default:
            guard excludesCurrent else { return random.sample(populationSize: pool.count, count: shots) }
            var drawn = random.sample(populationSize: pool.count, count: shots + 1)
            drawn = Array(drawn.filter { pool[$0] != doc }.prefix(shots))
            if drawn.count < shots {
                // Copies of the evaluated document were drawn twice or more: resample without any of them.
                let rest = pool.indices.filter { pool[$0] != doc }
                guard rest.count >= shots else { throw tooFew(shots, available: rest.count) }
                drawn = random.sample(populationSize: rest.count, count: shots).map { rest[$0] }
            }
            return drawn
        }
    }

    /// The messages of the examples (lm-eval `build_qa_turn`): in plain text `doc_to_text + target_delimiter +
    /// answer + fewshot_delimiter` per example; an empty answer leaves the question alone. The answer of a document
    /// with choices and an index target is the choice text. `prompts` renders with the few-shot formatting.
    func messages(_ examples: [Int], prompts: DocumentPrompts) throws -> [PromptMessage] {
        var messages = [PromptMessage]()
        for index in examples {
            let example = pool[index]
            let question = try prompts.text(example, index: index)
            let choices = task.docToChoice == nil ? [] : try prompts.choices(example, index: index)
            let answer: String
            switch try prompts.target(example, index: index) {
            case .text(let t): answer = t
            case .index(let i) where !choices.isEmpty:
                guard choices.indices.contains(i) else {
                    throw EvaluationError.invalidDocument(task: task.name, index: index, field: "doc_to_target",
                                                          message: "few-shot example target index \(i) is out of range for \(choices.count) choices")
                }
                answer = choices[i]
            case .index, .indices:
                throw EvaluationError.invalidDocument(task: task.name, index: index, field: "doc_to_target",
                                                      message: "a few-shot example's target must be text or an index into doc_to_choice (lm-eval asserts the same)")
            }
            messages += PromptLayout.qaTurn(question: question, answer: answer, targetDelimiter: task.targetDelimiter,
                                            fewshotDelimiter: task.fewshotDelimiter)
        }
        return messages
    }
}
