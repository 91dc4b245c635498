import ArgumentParser
import Dispatch
import Foundation
import LatheEvaluation
import LatheSupport

/// `lathe bench eval`: log-likelihood requests/s on a multiple-choice task, beside lm-eval `--model hf` in the same run.
struct BenchEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Log-likelihood requests/s of a task, beside lm-eval --model hf on the same GGUF (via $PYTHON)."
    )

    @OptionGroup var options: BenchOptions
    @Option(help: "Model file or directory.") var model = "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "Task YAML (multiple_choice or loglikelihood).")
    var task = "Tests/LatheEvaluationTests/Fixtures/tasks/lathe_mc.yaml"
    @Option(help: "Timed repetitions; the best is reported.") var repeats = 3
    @Flag(help: "Skip the Python peer.") var noPeer = false

    func run() throws {
        try options.configure()
        let config = try TaskConfig.load(task)
        let evaluationModel = try EvaluationModel.load(path: model)
        _ = try Evaluator.evaluate(config, model: evaluationModel)   // warm-up
        var rates = [Bool: Double](), requests = 0
        for share in [true, false] {
            var settings = EvaluationOptions()
            settings.shareContexts = share
            var best = Double.infinity
            for _ in 0..<max(1, repeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                let result = try Evaluator.evaluate(config, model: evaluationModel, options: settings)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                requests = result.requestCount
            }
            rates[share] = Double(requests) / best
        }
        let rate = rates[EvaluationOptions().shareContexts]!
        print("task \(config.name)  requests \(requests)  threads \(Parallel.threads)  (tokenising and metrics included)")
        print("lathe    \(format(rate)) requests/s with shared-context KV reuse, \(format(rates[false]!)) requests/s as padded rows")
        guard !noPeer else { return }
        let folder = (task as NSString).deletingLastPathComponent
        let peer = Peer.run(script: "Scripts/bench/eval_peer.py",
                            arguments: [model, folder.isEmpty ? "." : folder, config.name, "--threads", "\(Parallel.threads)"])
        if let result = peer.result, let peerRate = result["requests_per_s"] as? Double {
            print("lm-eval  \(format(peerRate)) requests/s  (HFLM.loglikelihood only, torch \(result["torch"] ?? "?"))")
            print("ratio    \(format(rate / peerRate, decimals: 2))×")
        } else {
            print("lm-eval not measured: \(peer.failure ?? "unknown")")
        }
    }
}
