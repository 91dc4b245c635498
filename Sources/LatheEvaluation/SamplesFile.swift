import Foundation
import LatheSupport
import LatheJinja

/// `samples_<task>.jsonl` exactly as lm-eval 0.4.13 writes it (`evaluator.evaluate` builds each line,
/// `EvaluationTracker.save_results_samples` writes it): one line per filter and document, filters outer.
enum SamplesFile {
    /// The file's text.
    static func text(_ result: TaskResult) -> String {
        let filters = result.samples.first?.filtered.map(\.filter) ?? []
        var lines = [String]()
        for filter in filters {
            for sample in result.samples {
                lines.append(line(sample, filter: filter, task: result.task).dumps())
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// One line: doc_id, doc, target, arguments, resps, filtered_resps, filter, metrics, the three hashes, then
    /// each metric's value.
    static func line(_ s: SampleRecord, filter: String, task: TaskConfig) -> PythonJSON {
        let target = s.loggedTarget ?? s.target
        let arguments = s.arguments.enumerated().map { i, args in
            ("gen_args_\(i)", PythonJSON.dict(args.enumerated().map { j, arg in
                ("arg_\(j)", j == 1 && task.outputType == .generateUntil ? generationArguments(task) : .string(arg))
            }))
        }
        let filtered = s.filtered.first { $0.filter == filter }?.responses ?? []
        let metrics = s.metrics.filter { $0.filter == filter }
        var entries: [(String, PythonJSON)] = [
            ("doc_id", .int(s.docId)),
            ("doc", PythonJSON(s.doc)),
            ("target", .string(target)),
            ("arguments", .dict(arguments)),
            ("resps", .list(responseLists(s, task).map { .list($0.map(sanitized)) })),
            ("filtered_resps", .list(filtered.map(sanitized))),
            ("filter", .string(filter)),
            ("metrics", .list(metrics.map { .string($0.name) })),
        ]
        entries += zip(["doc_hash", "prompt_hash", "target_hash"], hashes(s)).map { ($0, .string($1)) }
        for m in metrics { entries.append((m.name, metricValue(m.name, m.values, task))) }
        return .dict(entries)
    }

    /// doc_hash, prompt_hash and target_hash: SHA-256 of `json.dumps(doc, indent=2, ensure_ascii=False)`, of the
    /// first request's first argument, and of `str(target)`.
    static func hashes(_ s: SampleRecord) -> [String] {
        [SHA256.hex(PythonJSON(s.doc).dumps(indent: 2)), SHA256.hex(s.arguments.first?.first ?? ""),
         SHA256.hex(s.loggedTarget ?? s.target)]
    }

    /// Each request's `resps`: one response per request for scoring tasks; the single generation request holds
    /// one response per repeat.
    static func responseLists(_ s: SampleRecord, _ task: TaskConfig) -> [[Response]] {
        task.outputType == .generateUntil ? [s.responses] : s.responses.map { [$0] }
    }

    /// `sanitize_list`: a response with every leaf as Python `str()` — `["-1.25", "False"]`, `["-3.5"]`, a text,
    /// or a list of texts.
    static func sanitized(_ r: Response) -> PythonJSON {
        if let text = r.text { return .string(text) }
        if let texts = r.texts { return .list(texts.map { .string($0) }) }
        let ll = PythonJSON.pythonFloat(r.logLikelihood ?? .nan).replacingOccurrences(of: "NaN", with: "nan")
            .replacingOccurrences(of: "Infinity", with: "inf")
        if let greedy = r.isGreedy { return .list([.string(ll), .string(greedy ? "True" : "False")]) }
        return .string(ll)
    }

    /// A per-sample metric as lm-eval's `process_results` returns it: a float, an int (`acc` of loglikelihood,
    /// from `int(is_greedy)`), or (log-likelihood, weight) for the weighted perplexities.
    static func metricValue(_ name: String, _ values: [Double], _ task: TaskConfig) -> PythonJSON {
        if values.count == 2 { return .list([.double(values[0]), .int(Int(values[1]))]) }
        let value = values.first ?? .nan
        if task.outputType == .loglikelihood && name == "acc" { return .int(Int(value)) }
        return .double(value)
    }

    /// The generation settings lm-eval passes with each context (the task's `generation_kwargs`), as the second
    /// argument of a generate_until request.
    static func generationArguments(_ task: TaskConfig) -> PythonJSON { TaskConfigDump.generationKwargs(task) }
}
