import Foundation
import LatheFormats
import LatheJinja
import LatheTokenizers
import Testing
@testable import LatheEvaluation

/// lm-eval 0.4.13's own output files (Scripts/goldens/eval_outputs.py: three tasks, run plain, with the chat
/// template and few-shot turns, and with the chat template in one user turn). Lathe replays the responses lm-eval
/// logged through its own contexts, filters, metrics and writers; every samples line must come out byte for byte.
@Suite struct OutputFilesTests {
    static let folder = TaskConfigTests.fixtures.appendingPathComponent("outputs")
    static let runs = ["plain", "chat_multiturn", "chat_single"]
    static let tasks = ["lathe_out_mc", "lathe_out_ll", "lathe_out_gen"]

    static func lines(_ run: String, _ task: String) throws -> [String] {
        let data = try Data(contentsOf: folder.appendingPathComponent("\(run)/samples_\(task).jsonl"))
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func results(_ run: String) throws -> [String: Any] {
        try object(String(decoding: try Data(contentsOf: folder.appendingPathComponent("\(run)/results.json")), as: UTF8.self))
    }

    /// The context layout of a run, from what lm-eval recorded in its results.json.
    static func format(_ results: [String: Any]) throws -> PromptFormat {
        let system = results["system_instruction"] as? String
        guard let source = results["chat_template"] as? String else { return PromptFormat(systemInstruction: system) }
        let template = try ChatTemplate(source: source, bosToken: (results["tokenizer_bos_token"] as? [String])?.first,
                                        eosToken: (results["tokenizer_eos_token"] as? [String])?.first)
        return PromptFormat(chatTemplate: template, fewshotAsMultiturn: results["fewshot_as_multiturn"] as? Bool,
                            systemInstruction: system)
    }

    /// Lathe's result for `task` in `run`, with lm-eval's logged responses in place of the model's.
    static func replay(_ run: String, _ task: String) throws -> TaskResult {
        let config = try TaskConfig.load(folder.appendingPathComponent("\(task).yaml").path)
        let golden = try lines(run, task).map(object)
        let limit = Set(golden.compactMap { $0["doc_id"] as? Int }).count
        let docs = try TaskDocuments.load(config, split: try #require(config.evaluationSplit))
        let shots = try config.effectiveFewshot(override: nil)
        let format = try Self.format(try results(run))
        let plans = try Evaluator.plans(config, docs: Array(docs.prefix(limit)), shots: shots, seed: 1234, format: format)
        var samples = try plans.enumerated().map { index, plan in
            let resps = try #require(golden[index]["resps"] as? [[Any]])
            let responses: [Response]
            if config.outputType == .generateUntil {
                responses = (resps.first as? [String] ?? []).map { Response(text: $0) }
            } else {
                responses = try resps.map { request in
                    if let pair = request.first as? [String] {
                        return Response(logLikelihood: Double(pair[0]), isGreedy: pair[1] == "True")
                    }
                    return Response(logLikelihood: Double(try #require(request.first as? String)))
                }
            }
            return Evaluator.record(config, plan, index: index, responses: responses)
        }
        let metrics = TaskMetrics.compute(config, plans: plans, samples: &samples)
        return TaskResult(task: config, model: "MODEL", samples: samples, metrics: metrics, originalDocuments: docs.count,
                          requestCount: 0, seconds: 0, numFewshot: shots, format: format)
    }

    @Test func samplesLinesAreLmEvalsByteForByte() throws {
        var compared = 0
        for run in Self.runs {
            for task in Self.tasks {
                let ours = SamplesFile.text(try Self.replay(run, task)).split(separator: "\n").map(String.init)
                let theirs = try Self.lines(run, task)
                #expect(ours.count == theirs.count, "\(run) \(task)")
                for (index, (a, b)) in zip(ours, theirs).enumerated() {
                    #expect(Array(a.utf8) == Array(b.utf8), "\(run) \(task) line \(index + 1):\nlathe:  \(a)\nlm-eval: \(b)")
                    compared += 1
                }
            }
        }
        #expect(compared == 4 * (1 + 1 + 4) + 2 * 3 * (1 + 1 + 4))
    }
}

/// results.json against lm-eval's: the same keys in the same order (less the torch-environment ones), the same value
/// types, and equal values wherever they do not depend on the machine or the model's tokenizer.
@Suite struct ResultsFileTests {
    /// The JSON type of a value as written, recursively for containers (ints and floats apart, as Python writes them).
    static func shape(_ value: JSONValue) -> String {
        switch value {
        case .object(let o): return "{" + (0..<o.count).map { "\(o.keys[$0]): \(shape(o.values[$0]))" }.sorted().joined(separator: ", ") + "}"
        case .array(let l): return "[" + l.map(shape).joined(separator: ", ") + "]"
        case .number(let n): return n.isInteger ? "int" : "float"
        case .string: return "str"
        case .bool: return "bool"
        case .null: return "null"
        }
    }

    static func parsed(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    /// Top-level keys of a JSON object in file order.
    static func keys(_ text: String) throws -> [String] { try parsed(text).objectValue?.keys ?? [] }

    @Test func resultsJSONHasLmEvalsKeysTypesAndValues() throws {
        for run in OutputFilesTests.runs {
            let golden = try String(contentsOf: OutputFilesTests.folder.appendingPathComponent("\(run)/results.json"), encoding: .utf8)
            let theirs = try OutputFilesTests.object(golden)
            let replayed = try OutputFilesTests.tasks.map { try OutputFilesTests.replay(run, $0) }
            var options = EvaluationOptions(limit: (theirs["config"] as? [String: Any])?["limit"] as? Int)
            options.bootstrapIterations = 100
            let text = EvaluationReport.resultsJSON(replayed, model: "pretrained=MODEL,dtype=float32", options: options)
            let ours = try OutputFilesTests.object(text)
            #expect(try Self.keys(text) == (try Self.keys(golden)).filter { !EvaluationReport.environmentKeys.contains($0) }, "\(run)")
            let modelDependent: Set<String> = ["tokenizer_pad_token", "tokenizer_eos_token", "tokenizer_bos_token", "eot_token_id", "max_length"]
            let (oursTree, theirsTree) = (try Self.parsed(text), try Self.parsed(golden))
            for key in try Self.keys(text) where !modelDependent.contains(key) && !["configs", "config"].contains(key) {
                #expect(Self.shape(oursTree[key]!) == Self.shape(theirsTree[key]!), "\(run) \(key)")
            }
            for key in ["versions", "n-shot", "higher_is_better", "n-samples", "task_hashes", "system_instruction",
                        "system_instruction_sha", "fewshot_as_multiturn", "chat_template", "chat_template_sha"] {
                #expect((ours[key] as? NSObject) == (theirs[key] as? NSObject) || (ours[key] is NSNull && theirs[key] is NSNull), "\(run) \(key)")
            }
            let (ourConfig, theirConfig) = (try #require(ours["config"] as? [String: Any]), try #require(theirs["config"] as? [String: Any]))
            #expect(Set(ourConfig.keys) == Set(theirConfig.keys).subtracting(["model_num_parameters", "model_dtype", "model_revision", "model_sha"]))
            for (task, theirsResult) in try #require(theirs["results"] as? [String: [String: Any]]) {
                let oursResult = try #require((ours["results"] as? [String: [String: Any]])?[task])
                #expect(Array(oursResult.keys).sorted() == Array(theirsResult.keys).sorted(), "\(run) \(task)")
                for (key, value) in theirsResult where !key.hasPrefix("perplexity") {
                    #expect(oursResult[key] as? NSObject == value as? NSObject, "\(run) \(task) \(key)")
                }
            }
            for (task, theirsConfig) in try #require(theirs["configs"] as? [String: [String: Any]]) {
                var oursConfig = try #require((ours["configs"] as? [String: [String: Any]])?[task])
                var theirsConfig = theirsConfig
                let source = (oursConfig["metadata"] as? [String: Any])?["config_source"] as? String
                #expect(source?.hasSuffix("/outputs/\(task).yaml") == true)
                #expect(((theirsConfig["metadata"] as? [String: Any])?["config_source"] as? String) == "FIXTURES/\(task).yaml")
                (oursConfig["metadata"], theirsConfig["metadata"]) = (nil, nil)
                #expect(NSDictionary(dictionary: oursConfig) == NSDictionary(dictionary: theirsConfig), "\(run) \(task) configs")
            }
        }
    }
}

/// The pieces behind the byte-for-byte files: Python's float repr and JSON layout, and filter edge cases.
@Suite struct PythonFormatTests {
    @Test func floatsPrintAsPythonRepr() {
        let cases: [(Double, String)] = [(1e-5, "1e-05"), (0.0001, "0.0001"), (1e16, "1e+16"), (1e15, "1000000000000000.0"),
                                         (-2.5, "-2.5"), (100, "100.0"), (1.2345678901234568e+17, "1.2345678901234568e+17"),
                                         (-13.631404876708984, "-13.631404876708984"), (0, "0.0"), (2.5e-300, "2.5e-300")]
        for (value, text) in cases { #expect(PythonJSON.pythonFloat(value) == text, "\(value)") }
    }

    @Test func jsonLayoutFollowsPythonDumps() {
        let value = PythonJSON.dict([("a", .list([.int(1), .string("é\n")])), ("b", .dict([])), ("c", .list([]))])
        #expect(value.dumps() == "{\"a\": [1, \"é\\n\"], \"b\": {}, \"c\": []}")
        #expect(value.dumps(indent: 2) == "{\n  \"a\": [\n    1,\n    \"é\\n\"\n  ],\n  \"b\": {},\n  \"c\": []\n}")
    }

    @Test func filtersFollowLmEvalOnEdgeCases() {
        // majority_vote keeps the first of equally frequent answers (Counter.most_common).
        #expect(OutputFilters.apply([.majorityVote, .takeFirst], to: ["b", "a", "a", "b"]) == .text("b"))
        // A list filter after take_first iterates the text's characters, as Python does.
        #expect(OutputFilters.apply([.takeFirst, .uppercase], to: ["ab"]) == .texts(["A", "B"]))
        #expect(OutputFilters.apply([.regex(pattern: "(\\d+)", groupSelect: 5, fallback: "[x]")], to: ["1 2"]) == .texts(["[x]"]))
        #expect(OutputFilters.apply([.takeFirstK(2), .removeWhitespace], to: [" a ", "b\n", "c"]) == .texts(["a", "b"]))
    }
}

/// The same runs on SmolLM2-135M-Instruct itself (skipped when the model is absent): contexts through the GGUF's own
/// chat template, log-likelihoods within 1e-3 and greedy generations identical to lm-eval's, and the samples lines
/// equal to lm-eval's in everything but the log-likelihood digits.
@Suite struct OutputFilesSmolLM2Tests {
    @Test(.enabled(if: SmolLM2GoldenTests.modelPresent, "run `make model` to fetch SmolLM2-135M-Instruct")) func runsMatchLmEval() throws {
        let model = try EvaluationModel.load(path: SmolLM2GoldenTests.modelPath)
        var worst = 0.0
        for run in ["plain", "chat_multiturn"] {
            let theirs = try OutputFilesTests.results(run)
            var options = EvaluationOptions(limit: (theirs["config"] as? [String: Any])?["limit"] as? Int)
            options.applyChatTemplate = theirs["chat_template"] is String
            options.systemInstruction = theirs["system_instruction"] as? String
            for task in OutputFilesTests.tasks {
                let config = try TaskConfig.load(OutputFilesTests.folder.appendingPathComponent("\(task).yaml").path)
                let result = try Evaluator.evaluate(config, model: model, options: options)
                #expect(result.modelInfo.bosToken?.text == (theirs["tokenizer_bos_token"] as? [String])?.first)
                #expect(result.modelInfo.maxLength == theirs["max_length"] as? Int)
                let ours = try SamplesFile.text(result).split(separator: "\n").map { try OutputFilesTests.object(String($0)) }
                let golden = try OutputFilesTests.lines(run, task).map(OutputFilesTests.object)
                #expect(ours.count == golden.count, "\(run) \(task)")
                for (a, b) in zip(ours, golden) {
                    #expect(Array(a.keys).sorted() == Array(b.keys).sorted())
                    for key in ["doc_id", "doc", "target", "arguments", "filter", "metrics", "doc_hash", "prompt_hash", "target_hash"] {
                        #expect((a[key] as? NSObject) == (b[key] as? NSObject), "\(run) \(task) \(key)")
                    }
                    let (ra, rb) = (a["resps"] as? [[Any]] ?? [], b["resps"] as? [[Any]] ?? [])
                    if config.outputType == .generateUntil {
                        #expect((ra as NSArray) == (rb as NSArray), "\(run) \(task) generations")
                        #expect((a["filtered_resps"] as? NSArray) == (b["filtered_resps"] as? NSArray), "\(run) \(task) filtered")
                        continue
                    }
                    for (x, y) in zip(ra, rb) {
                        let (px, py) = (try #require(x.first as? [String]), try #require(y.first as? [String]))
                        worst = max(worst, abs(Double(px[0])! - Double(py[0])!))
                        #expect(abs(Double(px[0])! - Double(py[0])!) < 1e-3 && px[1] == py[1], "\(run) \(task)")
                    }
                }
            }
        }
        print("lm-eval output runs: worst |Δ log-likelihood| = \(worst)")
    }
}
