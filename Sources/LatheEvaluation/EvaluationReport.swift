import Foundation
import LatheFormats

/// The files of a run, shaped like lm-eval's: `results.json` and one `samples_<task>.jsonl` per task.
public enum EvaluationReport {
    /// `results.json`: {"results": {task: {"acc,none": …, "acc_stderr,none": …}}, "n-samples", "configs", …}.
    public static func resultsJSON(_ results: [TaskResult], model: String, options: EvaluationOptions) -> String {
        var tasks = [String](), configs = [String](), counts = [String]()
        for r in results {
            var fields = ["\"alias\": \(LatheFormats.JSONValue.quoted(r.task.name))"]
            for m in r.metrics {
                fields.append("\(LatheFormats.JSONValue.quoted(m.name + "," + m.filter)): \(number(m.aggregate()))")
                let stderr = m.standardError(bootstrapIterations: options.bootstrapIterations, seed: options.seed)
                fields.append("\(LatheFormats.JSONValue.quoted(m.name + "_stderr," + m.filter)): \(stderr.map(number) ?? "\"N/A\"")")
            }
            tasks.append("    \(LatheFormats.JSONValue.quoted(r.task.name)): {" + fields.joined(separator: ", ") + "}")
            counts.append("    \(LatheFormats.JSONValue.quoted(r.task.name)): {\"original\": \(r.originalDocuments), \"effective\": \(r.samples.count)}")
            configs.append("    \(LatheFormats.JSONValue.quoted(r.task.name)): {\"task\": \(LatheFormats.JSONValue.quoted(r.task.name)), \"output_type\": \(LatheFormats.JSONValue.quoted(r.task.outputType.rawValue)), "
                           + "\"test_split\": \(LatheFormats.JSONValue.quoted(r.task.evaluationSplit ?? "")), \"target_delimiter\": \(LatheFormats.JSONValue.quoted(r.task.targetDelimiter)), "
                           + "\"num_fewshot\": \(r.numFewshot), \"metric_list\": [" + r.task.metrics.map { "{\"metric\": \(LatheFormats.JSONValue.quoted($0.name))}" }.joined(separator: ", ") + "]}")
        }
        return "{\n  \"results\": {\n" + tasks.joined(separator: ",\n") + "\n  },\n"
            + "  \"n-samples\": {\n" + counts.joined(separator: ",\n") + "\n  },\n"
            + "  \"configs\": {\n" + configs.joined(separator: ",\n") + "\n  },\n"
            + "  \"config\": {\"model\": \"lathe\", \"model_args\": \(LatheFormats.JSONValue.quoted(model)), \"limit\": \(options.limit.map(String.init) ?? "null"), "
            + "\"bootstrap_iters\": \(options.bootstrapIterations), \"random_seed\": \(options.seed)}\n}\n"
    }

    /// `samples_<task>.jsonl`: one line per document with doc, target, arguments, resps, filtered_resps and metrics.
    public static func samplesJSONL(_ result: TaskResult) -> String {
        var lines = [String]()
        for s in result.samples {
            let arguments = s.arguments.enumerated().map { i, args in
                "\"gen_args_\(i)\": {" + args.enumerated().map { "\"arg_\($0)\": \(LatheFormats.JSONValue.quoted($1))" }.joined(separator: ", ") + "}"
            }
            let filters = s.filtered.map { f in
                "\(LatheFormats.JSONValue.quoted(f.filter)): [" + f.responses.map(response).joined(separator: ", ") + "]"
            }
            let metrics = s.metrics.map { m in
                "\(LatheFormats.JSONValue.quoted(m.name)): " + (m.values.count == 1 ? number(m.values[0]) : "[" + m.values.map(number).joined(separator: ", ") + "]")
            }
            lines.append("{\"doc_id\": \(s.docId), \"doc\": \(s.doc.jsonText), \"target\": \(LatheFormats.JSONValue.quoted(s.target)), "
                         + "\"arguments\": {" + arguments.joined(separator: ", ") + "}, "
                         + "\"resps\": [" + s.responses.map { "[" + response($0) + "]" }.joined(separator: ", ") + "], "
                         + "\"filtered_resps\": {" + filters.joined(separator: ", ") + "}, "
                         + metrics.joined(separator: ", ") + "}")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A response as lm-eval logs it: [loglikelihood, is_greedy], [loglikelihood] or "text".
    static func response(_ r: Response) -> String {
        if let text = r.text { return LatheFormats.JSONValue.quoted(text) }
        if let greedy = r.isGreedy { return "[\(number(r.logLikelihood ?? .nan)), \(greedy)]" }
        return "[\(number(r.logLikelihood ?? .nan))]"
    }

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

    /// JSON number (NaN and infinities, which JSON lacks, as null).
    static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

    static func fixed(_ x: Double) -> String { String(format: "%.4f", x) }
}
