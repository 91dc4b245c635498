import Foundation
import Testing
@testable import LatheEvaluation

/// Lathe against lm-eval 0.4.13 `--model hf` on SmolLM2-135M-Instruct (goldens from Scripts/goldens/eval.py).
/// Skipped when <package root>/Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf is absent.
@Suite struct SmolLM2GoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelPath = root.appendingPathComponent("Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf").path
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    static var modelPresent: Bool { FileManager.default.fileExists(atPath: modelPath) }

    static func golden(_ task: String) throws -> (docs: [[String: Any]], metrics: [String: Any]) {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("eval_goldens.json"))
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let entry = (root?["tasks"] as? [String: Any])?[task] as? [String: Any]
        return (entry?["docs"] as? [[String: Any]] ?? [], entry?["metrics"] as? [String: Any] ?? [:])
    }

    static func run(_ task: String) throws -> TaskResult {
        let model = try EvaluationModel.load(path: modelPath)
        let config = try TaskConfig.load(fixtures.appendingPathComponent("tasks/\(task).yaml").path)
        return try Evaluator.evaluate(config, model: model)
    }

    @Test(.enabled(if: modelPresent, "run `make model` to fetch SmolLM2-135M-Instruct")) func multipleChoiceMatchesLmEval() throws {
        let (docs, metrics) = try Self.golden("lathe_mc")
        let result = try Self.run("lathe_mc")
        #expect(result.samples.count == docs.count && docs.count == 32)
        var worst = 0.0
        for (sample, doc) in zip(result.samples, docs) {
            let lls = doc["loglikelihoods"] as! [Double], greedy = doc["is_greedy"] as! [Bool]
            let arguments = doc["arguments"] as! [[String]]
            #expect(sample.arguments == arguments)
            for (i, response) in sample.responses.enumerated() {
                worst = max(worst, abs(response.logLikelihood! - lls[i]))
                #expect(abs(response.logLikelihood! - lls[i]) < 1e-3, "doc \(sample.docId) choice \(i)")
                #expect(response.isGreedy == greedy[i], "doc \(sample.docId) choice \(i)")
            }
        }
        for name in ["acc", "acc_norm"] {
            let ours = try #require(result.metrics.first { $0.name == name })
            #expect(ours.aggregate() == metrics["\(name),none"] as! Double)
            #expect(abs(ours.standardError()! - (metrics["\(name)_stderr,none"] as! Double)) < 1e-12)
        }
        print("lathe_mc: worst |Δ log-likelihood| = \(worst)")
    }

    @Test(.enabled(if: modelPresent, "run `make model` to fetch SmolLM2-135M-Instruct")) func rollingPerplexityMatchesLmEval() throws {
        let (docs, metrics) = try Self.golden("lathe_ppl")
        let result = try Self.run("lathe_ppl")
        #expect(result.samples.count == docs.count && docs.count == 20)
        for (sample, doc) in zip(result.samples, docs) {
            let ll = (doc["loglikelihoods"] as! [Double])[0]
            #expect(abs(sample.responses[0].logLikelihood! - ll) < 1e-3, "doc \(sample.docId)")
        }
        for name in ["word_perplexity", "byte_perplexity", "bits_per_byte"] {
            let ours = try #require(result.metrics.first { $0.name == name })
            let theirs = metrics["\(name),none"] as! Double
            #expect(abs(ours.aggregate() - theirs) / theirs < 1e-4, "\(name)")
        }
    }
}
