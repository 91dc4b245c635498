import Foundation
import LatheJinja
import Testing
@testable import LatheEvaluation

/// results.json and samples files keep lm-eval's shape; the comparison pairs metrics by task.
@Suite struct ReportTests {
    static func result(values: [Double], model: String) throws -> TaskResult {
        let yaml = "task: demo\ndataset_path: json\ndataset_kwargs: {data_files: {test: d.jsonl}}\ntest_split: test\noutput_type: multiple_choice\ndoc_to_choice: [\"a\", \"b\"]\n"
        let task = try TaskConfig(yaml: yaml, file: "/tmp/demo.yaml")
        let samples = values.enumerated().map { i, v in
            SampleRecord(docId: i, doc: .dict(TemplateDict([("q", .string("x\"y"))])), target: "a",
                         arguments: [["ctx", " a"], ["ctx", " b"]],
                         responses: [Response(logLikelihood: -1, isGreedy: true), Response(logLikelihood: -2, isGreedy: false)],
                         filtered: [("none", [Response(logLikelihood: -1, isGreedy: true), Response(logLikelihood: -2, isGreedy: false)])],
                         metrics: [("acc", "none", [v])])
        }
        let acc = MetricSamples(name: "acc", filter: "none", aggregation: .mean, values: values, weights: [])
        return TaskResult(task: task, model: model, samples: samples, metrics: [acc], originalDocuments: 10,
                          requestCount: 2 * values.count, seconds: 1)
    }

    @Test func resultsAndSamplesParseAsLmEvalShapes() throws {
        let result = try Self.result(values: [1, 0, 1, 1], model: "base")
        let json = EvaluationReport.resultsJSON([result], model: "m", options: EvaluationOptions(limit: 4))
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let demo = try #require((root["results"] as? [String: Any])?["demo"] as? [String: Any])
        #expect(demo["acc,none"] as? Double == 0.75)
        #expect(abs((demo["acc_stderr,none"] as? Double ?? 0) - 0.25) < 1e-12)
        #expect(((root["n-samples"] as? [String: Any])?["demo"] as? [String: Int])?["effective"] == 4)
        let lines = EvaluationReport.samplesJSONL(result).split(separator: "\n")
        #expect(lines.count == 4)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect((first["doc"] as? [String: String])?["q"] == "x\"y")
        #expect(((first["arguments"] as? [String: Any])?["gen_args_1"] as? [String: String])?["arg_1"] == " b")
        #expect((first["resps"] as? [[[String]]])?[1][0] == ["-2.0", "False"])
        #expect((first["filtered_resps"] as? [[String]])?[0] == ["-1.0", "True"])
        #expect(first["filter"] as? String == "none" && first["metrics"] as? [String] == ["acc"])
        #expect(first["acc"] as? Double == 1)
        #expect(EvaluationReport.table([result]).contains("| demo | none | acc | 0.7500 | 0.2500 |"))
    }

    @Test func comparisonReportsDeltas() throws {
        let base = try Self.result(values: [1, 0, 0, 1], model: "base")
        let adapted = try Self.result(values: [1, 1, 0, 1], model: "adapter")
        let comparison = Comparison(base: [base], adapted: [adapted])
        #expect(comparison.rows.count == 1)
        #expect(comparison.rows[0].delta == 0.25)
        #expect(comparison.rows[0].deltaStandardError! > 0)
        #expect(comparison.table().contains("| demo | acc | 0.5000 ± 0.2887 | 0.7500 ± 0.2500 | +0.2500 ± "))
    }
}
