import ArgumentParser
import Dispatch
import Foundation
import LatheFormats
import LatheEvaluation
import LatheSupport
import LatheTensors

/// `lathe bench eval`: each task evaluated end to end (documents, few-shot contexts, tokenising, requests, metrics),
/// beside lm-eval `--model hf` timed end to end on the same task in the same run.
struct BenchEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Tasks evaluated end to end, beside lm-eval --model hf end to end on the same GGUF and requests (via $PYTHON)."
    )

    @OptionGroup var threads: ThreadOptions
    @Option(help: "Model file or directory.") var model = "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "Task YAML, repeatable (default: a multiple-choice task, then the same task 5-shot under first_n).")
    var task: [String] = ["Tests/LatheEvaluationTests/Fixtures/tasks/lathe_mc.yaml", "Scripts/bench/tasks/lathe_mc_5shot.yaml"]
    @Option(help: "Timed repetitions per side; the best is reported.") var repeats = 2
    @Option(help: "The peer's HFLM batch size (--batch_size of lm_eval run).") var peerBatchSize = 8
    @Flag(help: "Print where Lathe's wall time goes per op class, with each class's rate.") var profile = false
    @Flag(help: "Skip the Python peer.") var noPeer = false

    func validate() throws {
        guard repeats >= 1, peerBatchSize >= 1 else { throw ValidationError("--repeats and --peer-batch-size must be at least 1") }
        guard !task.isEmpty else { throw ValidationError("give at least one --task") }
    }

    func run() throws {
        threads.configure()
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let evaluationModel = try EvaluationModel.load(path: model)
        print("model \(model)  threads \(Parallel.threads)  load \(format(seconds(since: loadStart), decimals: 2)) s"
              + "  (both sides timed end to end after loading: documents, contexts, tokenising, requests, metrics)")
        for path in task {
            let config = try TaskConfig.load(path)
            try measure(config, path: path, evaluationModel)
        }
    }

    private func measure(_ config: TaskConfig, path: String, _ evaluationModel: EvaluationModel) throws {
        var whole = EvaluationOptions()
        whole.sharedPrefixTokens = nil
        _ = try Evaluator.evaluate(config, model: evaluationModel)   // warm-up
        var best = [Double](repeating: .infinity, count: 2), result: TaskResult?
        for _ in 0..<repeats {
            for (i, options) in [EvaluationOptions(), whole].enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                let r = try Evaluator.evaluate(config, model: evaluationModel, options: options)
                best[i] = min(best[i], seconds(since: start))
                if i == 0 { result = r }
            }
        }
        guard let result else { return }
        let requests = result.requestCount
        let metrics = result.metrics.filter { $0.filter == "none" }.map { ($0.name, $0.aggregate()) }
        print("task \(config.name)  \(result.samples.count) documents, \(result.numFewshot)-shot, \(requests) requests")
        print("  lathe    \(format(best[0], decimals: 2)) s = \(format(Double(requests) / best[0])) requests/s  "
              + "(\(format(best[1], decimals: 2)) s with every row run whole, no prefix cache)  "
              + metrics.map { "\($0.0) \($0.1)" }.joined(separator: "  "))
        if profile { try printProfile(config, evaluationModel) }
        guard !noPeer else { return }
        let folder = (path as NSString).deletingLastPathComponent
        var arguments = [model, folder.isEmpty ? "." : folder, config.name, "--threads", "\(Parallel.threads)",
                         "--batch-size", "\(peerBatchSize)", "--repeats", "\(repeats)"]
        if result.numFewshot > 0 { arguments += ["--num-fewshot", "\(result.numFewshot)"] }
        let peer = Peer.run(script: "eval_peer.py", arguments: arguments)
        guard let peerResult = peer.result, let peerSeconds = peerResult["seconds"]?.doubleValue else {
            print("  lm-eval  not measured: \(peer.failure ?? "unknown")")
            return
        }
        let theirs = metrics.map { name, _ in (name, peerResult["metrics"]?["\(name),none"]?.doubleValue) }
        let same = zip(metrics, theirs).allSatisfy { $0.1 == $1.1 }
        print("  lm-eval  \(format(peerSeconds, decimals: 2)) s = \(format(Double(requests) / peerSeconds)) requests/s  "
              + "(simple_evaluate, HFLM batch \(peerBatchSize), load \(format(peerResult["load_s"]?.doubleValue ?? .nan, decimals: 2)) s apart, "
              + "torch \(peerResult["torch"]?.scalarText ?? "?"))  "
              + theirs.map { "\($0.0) \($0.1.map { "\($0)" } ?? "?")" }.joined(separator: "  "))
        print("  ratio    \(format(peerSeconds / best[0], decimals: 2))×   metrics \(same ? "identical" : "DIFFER")"
              + (peerResult["requests"]?.doubleValue == Double(requests) ? "" : "   REQUEST COUNTS DIFFER"))
    }

    /// One more evaluation with the op profiler recording, as a table against the sgemm rate and the memory
    /// bandwidth measured now.
    private func printProfile(_ config: TaskConfig, _ evaluationModel: EvaluationModel) throws {
        let (sgemm, bandwidth) = (SgemmRate.measure(), MemoryBandwidth.measure())
        let profiler = OpProfiler.start()
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try Evaluator.evaluate(config, model: evaluationModel)
        let elapsed = seconds(since: start)
        profiler.stop()
        print(profileTable(profiler, seconds: elapsed, steps: 1, sgemm: sgemm, bandwidth: bandwidth)
            .split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
    }

    private func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
