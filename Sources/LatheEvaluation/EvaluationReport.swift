import Foundation
import LatheSupport

/// The files of a run, as lm-eval 0.4.13 writes them: `results.json` and one `samples_<task>.jsonl` per task (lm-eval
/// adds a timestamp to both names; Lathe writes one run per folder and leaves it out).
public enum EvaluationReport {
    /// `results.json`: results, group_subtasks, configs, versions, n-shot, higher_is_better, n-samples, config,
    /// task_hashes and the run's chat settings, with lm-eval's keys and value types. Keys that describe a torch
    /// environment (pretty_env_info, transformers_version, git hashes, tokenizer pad token) are left out.
    public static func resultsJSON(_ results: [TaskResult], model: String, options: EvaluationOptions) -> String {
        let byName = results.sorted { Array($0.task.name.utf8).lexicographicallyPrecedes(Array($1.task.name.utf8)) }
        let format = results.first?.format ?? .plain
        let info = results.first?.modelInfo ?? ModelInfo()
        func token(_ t: (text: String, id: Int)?) -> PythonJSON { t.map { .list([.string($0.text), .string(String($0.id))]) } ?? .null }
        let seconds = results.reduce(0) { $0 + $1.seconds }
        let entries: [(String, PythonJSON)] = [
            ("results", .dict(results.map { ($0.task.name, .dict(metricEntries($0, options))) })),
            ("group_subtasks", .dict([])),
            ("configs", .dict(byName.map { ($0.task.name, .dict(TaskConfigDump.entries($0.task, shots: $0.numFewshot))) })),
            ("versions", .dict(byName.map { ($0.task.name, version($0.task)) })),
            ("n-shot", .dict(byName.map { ($0.task.name, .int($0.numFewshot)) })),
            ("higher_is_better", .dict(byName.map { r in
                (r.task.name, .dict(r.task.metrics.map { ($0.name, .bool(higherIsBetter($0.name))) }))
            })),
            ("n-samples", .dict(results.map { r in
                (r.task.name, .dict([("original", .int(r.originalDocuments)), ("effective", .int(r.samples.count))]))
            })),
            ("config", .dict([
                ("model", .string("lathe")), ("model_args", .dict(modelArguments(model))),
                ("batch_size", .string(String(options.batchTokens))), ("batch_sizes", .list([])), ("device", .string("cpu")),
                ("use_cache", .null), ("limit", options.limit.map { .double(Double($0)) } ?? .null),
                ("bootstrap_iters", .int(options.bootstrapIterations)), ("gen_kwargs", .dict([])),
                ("random_seed", .int(Int(options.seed))), ("numpy_seed", .int(Int(options.seed))),
                ("torch_seed", .int(Int(options.seed))), ("fewshot_seed", .int(options.fewshotSeed)),
            ])),
            ("date", .double((Date().timeIntervalSince1970 - seconds).rounded())),
            ("tokenizer_pad_token", token(info.padToken)),
            ("tokenizer_eos_token", token(info.eosToken)),
            ("tokenizer_bos_token", token(info.bosToken)),
            ("eot_token_id", info.eosToken.map { .int($0.id) } ?? .null),
            ("max_length", .int(info.maxLength)),
            ("task_hashes", .dict(results.map { ($0.task.name, .string(taskHash($0))) })),
            ("model_source", .string("lathe")),
            ("model_name", .string(model)),
            ("model_name_sanitized", .string(sanitized(model))),
            ("system_instruction", format.systemInstruction.map { .string($0) } ?? .null),
            ("system_instruction_sha", format.systemInstruction.map { .string(SHA256.hex($0)) } ?? .null),
            ("fewshot_as_multiturn", format.chatTemplate == nil ? .null : .bool(format.fewshotAsMultiturn)),
            ("chat_template", format.chatTemplate.map { .string($0.source) } ?? .null),
            ("chat_template_sha", format.chatTemplate.map { .string(SHA256.hex($0.source)) } ?? .null),
            ("total_evaluation_time_seconds", .string(String(seconds))),
        ]
        return PythonJSON.dict(entries).dumps(indent: 2)
    }

    /// `metadata.version`, or lm-eval's `"Yaml"` for a task file without one.
    static func version(_ task: TaskConfig) -> PythonJSON {
        if case .none = task.version { return .string("Yaml") }
        return PythonJSON(task.version)
    }

    /// Keys of lm-eval's results.json that describe its torch and git environment, which Lathe does not write.
    public static let environmentKeys: Set<String> = [
        "git_hash", "pretty_env_info", "transformers_version", "lm_eval_version", "upper_git_hash",
    ]

    /// lm-eval's `simple_parse_args_string`: `key=value,key=value` as a mapping; other text as `pretrained`.
    static func modelArguments(_ text: String) -> [(String, PythonJSON)] {
        guard text.contains("=") else { return [("pretrained", .string(text))] }
        return text.split(separator: ",").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], .string(parts.count > 1 ? parts[1] : ""))
        }
    }

    /// lm-eval's `model_name_sanitized`: path separators and other unsafe characters as `__`.
    static func sanitized(_ name: String) -> String {
        name.replacingOccurrences(of: "/", with: "__").replacingOccurrences(of: ":", with: "__")
    }

    /// `alias`, then per metric and filter the aggregate and its standard error (`"N/A"` where lm-eval has none).
    static func metricEntries(_ r: TaskResult, _ options: EvaluationOptions) -> [(String, PythonJSON)] {
        var fields: [(String, PythonJSON)] = [("name", .string(r.task.name)), ("alias", .string(r.task.name)),
                                              ("sample_len", .int(r.samples.count))]
        for m in r.metrics {
            fields.append(("\(m.name),\(m.filter)", .double(m.aggregate())))
            let stderr = m.standardError(bootstrapIterations: options.bootstrapIterations, seed: options.seed)
            fields.append(("\(m.name)_stderr,\(m.filter)", stderr.map { .double($0) } ?? .string("N/A")))
        }
        return fields
    }

    /// lm-eval `api/metrics.py` `higher_is_better` of the built-in metrics (Lathe's own token_f1 and rouge_l: true).
    static func higherIsBetter(_ metric: String) -> Bool {
        !["perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte"].contains(metric)
    }

    /// `EvaluationTracker.save_results_aggregated`: SHA-256 of every sample's doc, prompt and target hashes joined.
    static func taskHash(_ r: TaskResult) -> String {
        let filters = r.samples.first?.filtered.count ?? 0
        let perFilter = r.samples.map { SamplesFile.hashes($0).joined() }.joined()
        return SHA256.hex(String(repeating: perFilter, count: filters))
    }

    /// `samples_<task>.jsonl`: one line per filter and document (see `SamplesFile`).
    public static func samplesJSONL(_ result: TaskResult) -> String { SamplesFile.text(result) }

    /// Writes `results.json` and the samples files into `directory` (created if needed).
    public static func write(_ results: [TaskResult], model: String, options: EvaluationOptions, to directory: String) throws {
        let url = URL(fileURLWithPath: directory)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try Data(resultsJSON(results, model: model, options: options).utf8)
                .write(to: url.appendingPathComponent("results.json"), options: .atomic)
            for r in results {
                try Data(samplesJSONL(r).utf8).write(to: url.appendingPathComponent("samples_\(r.task.name).jsonl"), options: .atomic)
            }
        } catch {
            throw EvaluationError.output(path: directory, message: "\(error.localizedDescription)")
        }
    }

    /// lm-eval's markdown table: task, filter, metric, value, ± stderr.
    public static func table(_ results: [TaskResult], options: EvaluationOptions = .init()) -> String {
        var rows = ["| Task | Filter | Metric | Value | Stderr |", "|---|---|---|---:|---:|"]
        for r in results {
            for m in r.metrics {
                let stderr = m.standardError(bootstrapIterations: options.bootstrapIterations, seed: options.seed)
                rows.append("| \(r.task.name) | \(m.filter) | \(m.name) | \(fixed(m.aggregate())) | \(stderr.map(fixed) ?? "N/A") |")
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    static func fixed(_ x: Double) -> String { String(format: "%.4f", x) }
}
