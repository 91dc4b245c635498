import Foundation
import LatheFormats
import LatheJinja
import LatheModels
import LatheSupport

/// Runs tasks against a model the way lm-eval 0.4 does (few-shot contexts, `HFLM` request semantics) and returns typed
/// results; rendering them is the caller's business.
public enum Evaluator {
    /// The requests of one document, before the model answers them.
    struct Plan {
        var doc: TemplateValue
        var context = ""
        var continuations: [String] = []   // multiple choice / loglikelihood
        var choices: [String] = []
        var gold: [Int] = []
        var target = ""
        /// `str(doc_to_target(doc))`, the `target` of lm-eval's samples file (an index stays a number).
        var loggedTarget = ""
    }

    /// Evaluates `task` on `model`; `progress` receives events as requests are answered. With several ranks every
    /// rank calls it with the same arguments: each answers the requests of its share of the documents
    /// (`EvaluationShards`), and every rank returns the same result, that of one process.
    public static func evaluate(_ task: TaskConfig, model: EvaluationModel, options: EvaluationOptions = .init(),
                                communicator: any Communicator = SingleProcess(),
                                progress: (EvaluationEvent) -> Void = { _ in }) throws -> TaskResult {
        let started = Date()
        guard let split = task.evaluationSplit else {
            throw EvaluationError.invalidTask(file: task.file, key: "test_split", message: "set test_split (or validation_split)")
        }
        let all = try TaskDocuments.load(task, split: split)
        let docs = options.limit.map { Array(all.prefix($0)) } ?? all
        let shots = try task.effectiveFewshot(override: options.numFewshot)
        let format = try options.promptFormat(tokenizer: model.encoder.tokenizer)
        let plans = try Self.plans(task, docs: docs, shots: shots, seed: options.fewshotSeed, format: format)
        let shards = EvaluationShards(communicator: communicator)
        let responses: [[Response]]
        switch task.outputType {
        case .multipleChoice, .loglikelihood:
            responses = try scorePairs(task, plans, model, options, shards, progress)
        case .loglikelihoodRolling:
            responses = try scoreRolling(task, plans, model, options, shards, progress)
        case .generateUntil:
            responses = try shards.responses(documents: plans.count) { try generate(task, Array(plans[$0]), model, progress) }
        }
        var samples = plans.indices.map { record(task, plans[$0], index: $0, responses: responses[$0]) }
        let metrics = TaskMetrics.compute(task, plans: plans, samples: &samples)
        let seconds = Date().timeIntervalSince(started)
        progress(.taskFinished(task: task.name, model: model.name, seconds: seconds))
        let requests = samples.reduce(0) { $0 + $1.responses.count }
        return TaskResult(task: task, model: model.name, samples: samples, metrics: metrics, originalDocuments: all.count,
                          requestCount: requests, seconds: seconds, numFewshot: shots, format: format,
                          modelInfo: ModelInfo(model))
    }

    /// Every document's requests, few-shot examples drawn in document order from one sampler (as lm-eval
    /// `build_all_requests`, so `--limit` sees the same contexts as a full run).
    static func plans(_ task: TaskConfig, docs: [TemplateValue], shots: Int, seed: Int,
                      format: PromptFormat = .plain) throws -> [Plan] {
        let prompts = try DocumentPrompts(task: task)
        var fewshot = try FewShot(task: task, shots: shots, seed: seed)
        let examplePrompts = try DocumentPrompts(task: fewshot.task)
        var plans = [Plan]()
        for (index, doc) in docs.enumerated() {
            let examples = try fewshot.messages(try fewshot.examples(for: doc), prompts: examplePrompts)
            plans.append(try plan(task, prompts, doc, index: index, examples: examples, format: format))
        }
        return plans
    }

    /// The requests of one document; `examples` are its few-shot turns (lm-eval `fewshot_context`: the system
    /// instruction and description, then the examples, then the document's own text, as plain text or through the
    /// chat template).
    static func plan(_ task: TaskConfig, _ prompts: DocumentPrompts, _ doc: TemplateValue, index: Int,
                     examples: [PromptMessage] = [], format: PromptFormat = .plain) throws -> Plan {
        var p = Plan(doc: doc)
        if task.outputType != .loglikelihoodRolling {
            let system = PromptLayout.system(instruction: format.systemInstruction,
                                             description: try prompts.description(doc, index: index),
                                             fewshotDelimiter: task.fewshotDelimiter)
            let question = PromptMessage(role: "user", content: try prompts.text(doc, index: index))
            do {
                p.context = try PromptLayout.render(system + examples + [question], format: format)
            } catch let error as EvaluationError { throw error } catch {
                throw EvaluationError.invalidDocument(task: task.name, index: index, field: "chat_template",
                                                      message: "the model's chat template failed: \(error)")
            }
        }
        let target = try prompts.target(doc, index: index)
        p.loggedTarget = target.pythonString
        switch task.outputType {
        case .multipleChoice:
            p.choices = try prompts.choices(doc, index: index)
            p.gold = try prompts.goldIndices(doc, index: index, choices: p.choices)
            // lm-eval `construct_requests`: with a chat template the choices follow the context undelimited.
            let delimiter = format.chatTemplate == nil ? task.targetDelimiter : ""
            p.continuations = p.choices.map { delimiter + $0 }
            p.target = p.choices[p.gold[0]]
        case .loglikelihood, .generateUntil:
            p.choices = try prompts.choices(doc, index: index)
            switch target {
            case .text(let t): p.target = t
            case .index, .indices:
                if p.choices.isEmpty {
                    if case .index(let i) = target { p.target = String(i) }
                } else {
                    p.gold = try prompts.goldIndices(doc, index: index, choices: p.choices)
                    p.target = p.choices[p.gold[0]]
                }
            }
            // lm-eval 0.4.13 `construct_requests`: (ctx, doc_to_target(doc)), no target_delimiter in between.
            if task.outputType == .loglikelihood { p.continuations = [p.target] }
        case .loglikelihoodRolling:
            guard case .text(let t) = target else {
                throw EvaluationError.invalidDocument(task: task.name, index: index, field: "doc_to_target",
                                                      message: "a loglikelihood_rolling target must be text")
            }
            p.target = t
        }
        return p
    }

    /// The responses of each plan's (context, continuation) requests.
    static func scorePairs(_ task: TaskConfig, _ plans: [Plan], _ model: EvaluationModel, _ options: EvaluationOptions,
                           _ shards: EvaluationShards, _ progress: (EvaluationEvent) -> Void) throws -> [[Response]] {
        let pairs = OpProfiler.measure(.data) { model.encoder.encodePairs(plans.map { ($0.context, $0.continuations) }).flatMap { $0 } }
        progress(.taskStarted(task: task.name, model: model.name, documents: plans.count, requests: pairs.count))
        let scores = try score(pairs, groups: plans.map(\.continuations.count), model, options, shards) { done in
            progress(.progress(task: task.name, done: done, total: pairs.count))
        }
        var cursor = 0
        return plans.map { p in
            defer { cursor += p.continuations.count }
            return Array(scores[cursor..<cursor + p.continuations.count])
        }
    }

    /// The sample of a document from its plan and its responses: one per request for the scoring tasks, one per
    /// repeat for generation, where each `filter_list` pipeline (lm-eval's `take_first` when there is none) runs
    /// over them.
    static func record(_ task: TaskConfig, _ p: Plan, index: Int, responses: [Response]) -> SampleRecord {
        var sample = SampleRecord(docId: index, doc: p.doc, target: p.target, loggedTarget: p.loggedTarget, arguments: [],
                                  responses: responses, filtered: [("none", responses)], metrics: [])
        switch task.outputType {
        case .multipleChoice, .loglikelihood: sample.arguments = p.continuations.map { [p.context, $0] }
        case .loglikelihoodRolling: sample.arguments = [[p.target]]
        case .generateUntil:
            sample.arguments = [[p.context, SamplesFile.generationArguments(task).dumps()]]
            let texts = responses.map { $0.text ?? "" }
            let pipelines = task.filters.isEmpty ? [FilterSpec(name: "none", steps: [.takeFirst])] : task.filters
            sample.filtered = pipelines.map { ($0.name, [OutputFilters.apply($0.steps, to: texts).response]) }
        }
        return sample
    }

    /// Scores pairs; consecutive `groups` that share their context tokens (the choices of one question) run the
    /// context once through the KV cache when `options.shareContexts`, the rest go through padded batches. With
    /// several ranks the shared-context groups and the padded batches are dealt out round-robin, each run as one
    /// process runs it, and the scores are all-gathered (`EvaluationShards`).
    static func score(_ pairs: [(context: [Int32], continuation: [Int32])], groups: [Int], _ model: EvaluationModel,
                      _ options: EvaluationOptions, _ shards: EvaluationShards,
                      onProgress: (Int) -> Void) throws -> [Response] {
        var scores = [Response?](repeating: nil, count: pairs.count)
        var batched = [Int](), start = 0, done = 0, sharedGroups = 0
        for size in groups {
            let members = Array(start..<start + size)
            start += size
            let context = pairs[members.first ?? 0].context
            let fits = members.allSatisfy { pairs[$0].context == context && context.count + pairs[$0].continuation.count <= model.encoder.maxLength + 1 }
            if options.shareContexts && size > 1 && fits {
                defer { sharedGroups += 1 }
                guard shards.owns(sharedGroups) else { continue }
                let shared = try model.model.scoreSharedContext(context, continuations: members.map { pairs[$0].continuation })
                for (i, member) in members.enumerated() { scores[member] = Response(logLikelihood: shared[i].logLikelihood, isGreedy: shared[i].isGreedy) }
                done += size
                onProgress(done)
            } else {
                batched += members
            }
        }
        if !batched.isEmpty {
            let prefix = options.sharedPrefixTokens.map { (tokens: $0, rows: options.sharedPrefixRows) }
            let rest = try model.model.scoreContinuations(batched.map { pairs[$0] }, maxLength: model.encoder.maxLength,
                                                          batchTokens: options.batchTokens, batches: shards.owns,
                                                          sharedPrefix: prefix) { onProgress(done + $0) }
            for (i, member) in batched.enumerated() {
                if let s = rest[i] { scores[member] = Response(logLikelihood: s.logLikelihood, isGreedy: s.isGreedy) }
            }
        }
        return try shards.complete(scores)
    }

    /// Each plan's one response: the summed log-likelihood of its target's rolling windows.
    static func scoreRolling(_ task: TaskConfig, _ plans: [Plan], _ model: EvaluationModel, _ options: EvaluationOptions,
                             _ shards: EvaluationShards, _ progress: (EvaluationEvent) -> Void) throws -> [[Response]] {
        var perPlan = [[(context: [Int32], continuation: [Int32])]](repeating: [], count: plans.count)
        OpProfiler.measure(.data) {
            perPlan.withUnsafeMutableBufferPointer { out in
                let shared = UncheckedSendable(out)
                Parallel.forEachChunk(plans.count, minimumChunk: 4) { range in
                    for i in range { shared.value[i] = model.encoder.rollingWindows(plans[i].target) }
                }
            }
        }
        var windows = [(context: [Int32], continuation: [Int32])](), owner = [Int]()
        for (index, w) in perPlan.enumerated() {
            windows += w
            owner += Array(repeating: index, count: w.count)
        }
        progress(.taskStarted(task: task.name, model: model.name, documents: plans.count, requests: windows.count))
        // Every window is its own group: all of them go through the padded batches.
        let scores = try score(windows, groups: Array(repeating: 1, count: windows.count), model, options, shards) { done in
            progress(.progress(task: task.name, done: done, total: windows.count))
        }
        var totals = [Double](repeating: 0, count: plans.count)
        for (i, s) in scores.enumerated() { totals[owner[i]] += s.logLikelihood ?? 0 }
        return totals.map { [Response(logLikelihood: $0)] }
    }

    /// Each plan's responses: the greedy generation, `repeats` times.
    static func generate(_ task: TaskConfig, _ plans: [Plan], _ model: EvaluationModel,
                         _ progress: (EvaluationEvent) -> Void) throws -> [[Response]] {
        let tokenizer = model.encoder.tokenizer
        var until = task.until ?? [task.fewshotDelimiter]
        // HFLM always stops at the end-of-text token as well.
        if let eos = tokenizer.eosTokenId { until.append(tokenizer.decode([eos])) }
        progress(.taskStarted(task: task.name, model: model.name, documents: plans.count, requests: plans.count))
        // Documents decode `Generator.exactStreams` at a time (continuous batching): each one's greedy tokens are
        // the ones it gets alone, so results do not depend on the batch.
        let budget = max(1, model.encoder.maxLength - task.maxGenToks)
        let prompts = plans.map { Array(model.encoder.encode($0.context).suffix(budget)) }
        let generator = Generator(model: model.model, parameters: SamplingParameters(), maxTokens: task.maxGenToks,
                                  stopStrings: until.filter { !$0.isEmpty })
        var done = 0
        let generated = try generator.generate(prompts: prompts, streams: Generator.exactStreams,
                                               decode: { tokenizer.decode($0) }) { _ in
            done += 1
            progress(.progress(task: task.name, done: done, total: plans.count))
        }
        var responses = [[Response]]()
        for (tokens, _) in generated {
            var text = tokenizer.decode(tokens)
            for stop in until where !stop.isEmpty {
                if let range = text.range(of: stop) { text = String(text[..<range.lowerBound]) }
            }
            // lm-eval asks `repeats` times; greedy decoding gives the same text each time, so it is generated once.
            responses.append(Array(repeating: Response(text: text), count: task.repeats))
        }
        return responses
    }
}
