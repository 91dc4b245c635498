import Foundation
import LatheJinja
import Testing
@testable import LatheEvaluation

/// Few-shot contexts against lm-eval 0.4.13 and the sampler's random.Random against CPython (goldens from
/// Scripts/goldens/eval_fewshot.py).
@Suite struct FewShotTests {
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent(name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The golden of `task`: per document its request arguments and scores, the metrics and the shots used.
    static func golden(_ task: String) throws -> (docs: [[String: Any]], metrics: [String: Any], shots: Int) {
        let entry = try #require((try json("fewshot_goldens.json")["tasks"] as? [String: Any])?[task] as? [String: Any])
        return (entry["docs"] as? [[String: Any]] ?? [], entry["metrics"] as? [String: Any] ?? [:], entry["num_fewshot"] as? Int ?? -1)
    }

    /// The fewshot fixture tasks and the `--num_fewshot` lm-eval ran each with.
    static let tasks: [(name: String, override: Int?)] = [
        ("lathe_mc_fewshot", 3), ("lathe_mc_exclude", nil), ("lathe_qa_fewshot", nil), ("lathe_ll_fewshot", nil),
    ]

    static func task(_ name: String) throws -> TaskConfig {
        try TaskConfig.load(fixtures.appendingPathComponent("fewshot/\(name).yaml").path)
    }

    static func plans(_ task: TaskConfig, override: Int?, seed: Int = 1234) throws -> [Evaluator.Plan] {
        let docs = try TaskDocuments.load(task, split: task.evaluationSplit!)
        return try Evaluator.plans(task, docs: docs, shots: try task.effectiveFewshot(override: override), seed: seed)
    }

    @Test func mersenneTwisterAndSampleMatchCPython() throws {
        let golden = try Self.json("python_random.json")
        for case let entry as [String: Any] in golden["seeds"] as? [Any] ?? [] {
            let seed = try #require(entry["seed"] as? Int)
            var random = PythonRandom(seed: seed)
            let words = (0..<8).map { _ in Int(random.nextWord()) }
            #expect(words == entry["words"] as? [Int], "seed \(seed)")
            let bits = try #require(entry["getrandbits_after_words"] as? [String: NSNumber])
            for k in [1, 7, 31, 33, 64] {
                #expect(random.getrandbits(k) == bits[String(k)]!.uint64Value, "seed \(seed), \(k) bits")
            }
        }
        var random = PythonRandom(seed: 1234)
        let calls = try #require(golden["sample_calls_seed_1234"] as? [[String: Any]])
        #expect(calls.count == 19)
        for call in calls {
            let n = call["n"] as! Int, k = call["k"] as! Int
            #expect(random.sample(populationSize: n, count: k) == call["sample"] as? [Int], "sample(range(\(n)), \(k))")
        }
    }

    @Test func contextsAreByteIdenticalToLmEval() throws {
        var compared = 0
        for (name, override) in Self.tasks {
            let (docs, _, shots) = try Self.golden(name)
            let task = try Self.task(name)
            #expect(try task.effectiveFewshot(override: override) == shots, "\(name)")
            let plans = try Self.plans(task, override: override)
            #expect(plans.count == docs.count && !docs.isEmpty, "\(name)")
            for (plan, doc) in zip(plans, docs) {
                let arguments = try #require(doc["arguments"] as? [[String]])
                if task.outputType == .generateUntil {
                    #expect(arguments.count == 1 && plan.context == arguments[0][0], "\(name) doc \(doc["doc_id"]!)")
                    compared += 1
                } else {
                    #expect(plan.continuations.map { [plan.context, $0] } == arguments, "\(name) doc \(doc["doc_id"]!)")
                    compared += arguments.count
                }
            }
        }
        #expect(compared == 32 * 4 * 2 + 8 + 8)
    }

    @Test func limitKeepsTheSameContexts() throws {
        let task = try Self.task("lathe_mc_exclude")
        let all = try Self.plans(task, override: nil)
        let docs = try TaskDocuments.load(task, split: "test")
        let first = try Evaluator.plans(task, docs: Array(docs.prefix(5)), shots: 3, seed: 1234)
        #expect(first.map(\.context) == all.prefix(5).map(\.context))
        #expect(try Evaluator.plans(task, docs: docs, shots: 3, seed: 7).map(\.context) != all.map(\.context))
    }

    @Test func testSplitSamplingNeverIncludesTheCurrentDocument() throws {
        let task = try Self.task("lathe_mc_exclude")
        let prompts = try DocumentPrompts(task: task)
        let docs = try TaskDocuments.load(task, split: "test")
        for shots in [1, 3, 10, 31] {
            var fewshot = try FewShot(task: task, shots: shots, seed: 1234)
            #expect(fewshot.excludesCurrent)
            for (index, doc) in docs.enumerated() {
                let examples = try fewshot.examples(for: doc)
                #expect(examples.count == shots && !examples.contains(index), "\(shots) shots, doc \(index)")
                #expect(Set(examples).count == shots)
                let question = try prompts.text(doc, index: index)
                #expect(!(try fewshot.messages(examples, prompts: prompts)).map(\.text).joined().contains(question))
            }
        }
        // Without fewshot_split, lm-eval falls back to the test split and does not leave the document out.
        let fallback = try Self.task("lathe_mc_fewshot")
        var fewshot = try FewShot(task: fallback, shots: 3, seed: 1234)
        #expect(!fewshot.excludesCurrent && fallback.fewshotWarning(shots: 3) != nil)
        #expect(try fewshot.examples(for: docs[0]).contains(0), "lm-eval's doc 0 context holds doc 0 itself")
    }

    @Test func firstNTakesTheSplitInOrder() throws {
        let task = try Self.task("lathe_qa_fewshot")
        #expect(task.fewshotSampler == .firstN && task.fewshotSourceSplit == "train")
        let train = try TaskDocuments.load(task, split: "train")
        var fewshot = try FewShot(task: task, shots: 3, seed: 1234)
        #expect(try fewshot.examples(for: train[0]) == [0, 1, 2])
        #expect(try fewshot.examples(for: train[3]) == [0, 1, 2], "the same for every document")
    }

    @Test func numFewshotOverride() throws {
        let mc = try TaskConfig.load(Self.fixtures.appendingPathComponent("tasks/lathe_mc.yaml").path)
        let kept = try mc.effectiveFewshot(override: 5)
        #expect(mc.numFewshot == 0 && kept == 0, "num_fewshot: 0 in the YAML is kept, as lm-eval")
        let absent = try Self.task("lathe_mc_fewshot")
        let zero = try absent.effectiveFewshot(override: nil)
        #expect(absent.numFewshot == nil && zero == 0)
        let ll = try Self.task("lathe_ll_fewshot")
        let (own, replaced) = (try ll.effectiveFewshot(override: nil), try ll.effectiveFewshot(override: 1))
        #expect(own == 2 && replaced == 1)
        #expect(throws: EvaluationError.invalidTask(file: ll.file, key: "num_fewshot", message: "--num-fewshot -1: must be 0 or more")) {
            try ll.effectiveFewshot(override: -1)
        }
        var result = try ReportTests.result(values: [1, 0], model: "m")
        result.numFewshot = 3
        let json = EvaluationReport.resultsJSON([result], model: "m", options: .init())
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(((root["configs"] as? [String: Any])?["demo"] as? [String: Any])?["num_fewshot"] as? Int == 3)
        #expect((root["n-shot"] as? [String: Int])?["demo"] == 3)
    }

    static let header = "task: t\ndataset_path: json\ndataset_kwargs: {data_files: {test: docs.jsonl, train: train.jsonl}}\ntest_split: test\n"

    @Test func badSettingsAreRefusedByName() throws {
        #expect(throws: EvaluationError.invalidTask(file: "x.yaml", key: "num_fewshot", message: "-2: must be 0 or more")) {
            try TaskConfig(yaml: Self.header + "num_fewshot: -2\n", file: "x.yaml")
        }
        #expect(throws: EvaluationError.invalidTask(file: "x.yaml", key: "num_fewshot", message: "expected an integer")) {
            try TaskConfig(yaml: Self.header + "num_fewshot: three\n", file: "x.yaml")
        }
        #expect(throws: EvaluationError.invalidTask(file: "x.yaml", key: "fewshot_config.sampler",
                                                    message: "'balanced' is not supported; use one of default, first_n")) {
            try TaskConfig(yaml: Self.header + "fewshot_config:\n  sampler: balanced\n", file: "x.yaml")
        }
        #expect(throws: EvaluationError.self) {
            try TaskConfig(yaml: Self.header + "fewshot_config:\n  sampler: first_n\n  fewshot_indices: [0, 1]\n", file: "x.yaml")
        }
        #expect(throws: EvaluationError.invalidTask(file: "x.yaml", key: "num_fewshot",
                                                    message: "2: loglikelihood_rolling tasks have no few-shot context in lm-eval; set num_fewshot: 0 in this YAML (--num-fewshot then leaves it zero-shot)")) {
            try TaskConfig(yaml: Self.header + "output_type: loglikelihood_rolling\nnum_fewshot: 2\n", file: "x.yaml")
        }
        let rolling = try TaskConfig(yaml: Self.header + "output_type: loglikelihood_rolling\n", file: "x.yaml")
        #expect(throws: EvaluationError.self) { try rolling.effectiveFewshot(override: 1) }
        let pinned = try TaskConfig(yaml: Self.header + "output_type: loglikelihood_rolling\nnum_fewshot: 0\n", file: "x.yaml")
        #expect(try pinned.effectiveFewshot(override: 4) == 0)
        #expect(try rolling.effectiveFewshot(override: 0) == 0)
    }

    @Test func tooFewFewshotDocumentsAreRefused() throws {
        let folder = try TaskConfigTests.taskFolder(docs: [#"{"q": "a", "a": "x"}"#, #"{"q": "b", "a": "y"}"#, #"{"q": "c", "a": "z"}"#])
        try Data("{\"q\": \"d\", \"a\": \"w\"}\n{\"q\": \"e\", \"a\": \"v\"}\n".utf8).write(to: folder.appendingPathComponent("train.jsonl"))
        let file = folder.appendingPathComponent("t.yaml").path
        let body = "doc_to_text: \"{{q}}\"\ndoc_to_target: \"{{a}}\"\n"
        let fromTrain = try TaskConfig(yaml: Self.header + body + "fewshot_split: train\nfewshot_config: {sampler: first_n}\n", file: file)
        #expect(throws: EvaluationError.invalidTask(file: file, key: "num_fewshot",
                                                    message: "3 shots need 3 documents in split 'train', which has 2; lower num_fewshot or add documents")) {
            try FewShot(task: fromTrain, shots: 3, seed: 1234)
        }
        let fromTest = try TaskConfig(yaml: Self.header + body + "fewshot_split: test\n", file: file)
        #expect(throws: EvaluationError.invalidTask(file: file, key: "num_fewshot",
                                                    message: "3 shots need 4 documents in split 'test', which has 3 (the default sampler draws one more to leave the evaluated document out); lower num_fewshot or add documents")) {
            try FewShot(task: fromTest, shots: 3, seed: 1234)
        }
        // Two shots from three test documents: never the document itself.
        let docs = try TaskDocuments.load(fromTest, split: "test")
        let plans = try Evaluator.plans(fromTest, docs: docs, shots: 2, seed: 1234)
        for (plan, doc) in zip(plans, docs) {
            guard case .dict(let d) = doc, case .string(let q)? = d["q"] else { continue }
            #expect(plan.context.hasSuffix("\n\n" + q) && plan.context.components(separatedBy: q).count == 2)
        }
    }

    @Test func emptyTargetsRenderTheQuestionAlone() throws {
        let folder = try TaskConfigTests.taskFolder(docs: [#"{"q": "a", "a": ""}"#, #"{"q": "b", "a": "y"}"#])
        let task = try TaskConfig(yaml: Self.header + "doc_to_text: \"{{q}}\"\ndoc_to_target: \"{{a}}\"\nfewshot_split: test\nfewshot_config: {sampler: first_n}\ndescription: \"{{q}}!\\n\"\n",
                                  file: folder.appendingPathComponent("t.yaml").path)
        let docs = try TaskDocuments.load(task, split: "test")
        let plans = try Evaluator.plans(task, docs: docs, shots: 1, seed: 1234)
        #expect(plans.map(\.context) == ["a!\nb y\n\na", "b!\nab"])
    }
}

/// Few-shot scores against lm-eval on SmolLM2-135M-Instruct; skipped when the model is absent.
@Suite struct FewShotSmolLM2Tests {
    @Test(.enabled(if: SmolLM2GoldenTests.modelPresent, "run `make model` to fetch SmolLM2-135M-Instruct")) func scoresMatchLmEval() throws {
        let model = try EvaluationModel.load(path: SmolLM2GoldenTests.modelPath)
        var worst = 0.0, compared = 0
        for (name, override) in FewShotTests.tasks {
            let (docs, metrics, _) = try FewShotTests.golden(name)
            var options = EvaluationOptions(numFewshot: override)
            options.fewshotSeed = 1234
            let result = try Evaluator.evaluate(try FewShotTests.task(name), model: model, options: options)
            #expect(result.samples.count == docs.count)
            for (sample, doc) in zip(result.samples, docs) {
                if let generations = doc["generations"] as? [String] {
                    #expect(sample.responses.map(\.text) == generations, "\(name) doc \(sample.docId)")
                    continue
                }
                let lls = doc["loglikelihoods"] as! [Double], greedy = doc["is_greedy"] as! [Bool]
                for (i, response) in sample.responses.enumerated() {
                    worst = max(worst, abs(response.logLikelihood! - lls[i]))
                    compared += 1
                    #expect(abs(response.logLikelihood! - lls[i]) < 1e-3, "\(name) doc \(sample.docId) request \(i)")
                    #expect(response.isGreedy == greedy[i], "\(name) doc \(sample.docId) request \(i)")
                }
            }
            for metric in result.metrics where ["acc", "acc_norm", "exact_match"].contains(metric.name) {
                #expect(metric.aggregate() == metrics["\(metric.name),none"] as? Double, "\(name) \(metric.name)")
            }
        }
        print("few-shot: \(compared) log-likelihoods, worst |Δ| = \(worst)")
    }
}
