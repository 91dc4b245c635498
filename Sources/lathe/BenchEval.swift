import ArgumentParser
import Dispatch
import Foundation
import LatheEvaluation
import LatheTensors

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
        var best = Double.infinity, requests = 0
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try Evaluator.evaluate(config, model: evaluationModel)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            requests = result.requestCount
        }
        let rate = Double(requests) / best
        print("task \(config.name)  requests \(requests)  threads \(Parallel.threads)")
        print("lathe    \(format(rate)) requests/s  (\(format(best, decimals: 2)) s, tokenising and metrics included)")
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
