import ArgumentParser
import Foundation
import LatheFormats
import LatheModels
import LatheSupport
import LatheTraining

/// `lathe bench scale`: data-parallel training on this machine — one process with every thread beside `--ranks`
/// MPI ranks sharing the same cores — alternated `--rounds` times, then a projection for clusters of 2–64 such
/// machines on 1, 10 and 25 Gbit/s links from the measured compute rate and gradient bytes.
struct BenchScale: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Data-parallel training: 1 rank × all threads vs N ranks (mpirun) — tokens/s, communication, cluster projection."
    )

    @Option(help: "Model file or directory.") var model = "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "Rows per micro-batch (B).") var batch = 2
    @Option(help: "Tokens per row (T).") var length = 256
    @Option(help: "Micro-batches per optimizer step (the global batch).") var accum = 4
    @Option(help: "Timed optimizer steps per run (after one warm-up step).") var steps = 2
    @Option(help: "LoRA rank.") var rank = 16
    @Option(help: "MPI ranks of the multi-process runs.") var ranks = 2
    @Option(help: "Times each configuration runs, alternating.") var rounds = 2
    /// Threads of the single process; each rank of the multi-process runs gets threads ÷ ranks.
    @OptionGroup var threads: ThreadOptions
    @Flag(help: .hidden) var worker = false

    func validate() throws {
        guard batch >= 1, length >= 2, accum >= 1, steps >= 1, rank >= 1, ranks >= 2, rounds >= 1 else {
            throw ValidationError("--batch, --accum, --steps, --rank, --rounds must be ≥ 1, --ranks ≥ 2, --length ≥ 2")
        }
    }

    func run() throws {
        if worker { try runAsJob { try measure($0) }; return }
        let total = threads.count
        guard total >= ranks else { throw ValidationError("--threads \(total) cannot give each of \(ranks) ranks a thread") }
        print("model \(model)  B=\(batch) T=\(length) × \(accum) micro-batches per step  LoRA r=\(rank) on 7 projections")
        var single: [ScaleMeasurement] = [], multi: [ScaleMeasurement] = []
        for round in 1...rounds {
            let one = try launch(ranks: 1, threads: total)
            let many = try launch(ranks: ranks, threads: total / ranks)
            for m in [one, many] { print("round \(round)  \(m.line)") }
            single.append(one)
            multi.append(many)
        }
        let (s, m) = (ScaleMeasurement.mean(single), ScaleMeasurement.mean(multi))
        print("mean     1 × \(total) threads: \(format(s.tokensPerSecond)) tokens/s   \(ranks) × \(total / ranks): \(format(m.tokensPerSecond)) tokens/s"
            + "  ratio \(format(m.tokensPerSecond / s.tokensPerSecond, decimals: 2))×  communication \(format(m.communicationSeconds, decimals: 3)) s"
            + " of \(format(m.stepSeconds, decimals: 2)) s per step, \(megabytes(Int(m.bytesPerStep))) received per rank per step")
        print(ScaleProjection(singleTokensPerSecond: s.tokensPerSecond, tokensPerMicroBatch: batch * length,
                              microBatchesPerMachine: accum, gradientBytes: m.gradientBytes).table)
    }

    /// Runs this command as a worker: `ranks` processes (through mpirun when more than one) of `threads` threads.
    private func launch(ranks: Int, threads: Int) throws -> ScaleMeasurement {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let arguments = [binary, "bench", "scale", "--worker", "--threads", "\(threads)", "--model", model,
                         "--batch", "\(batch)", "--length", "\(length)", "--accum", "\(accum)", "--steps", "\(steps)",
                         "--rank", "\(rank)"]
        let process = Process()
        if ranks == 1 {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = Array(arguments.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["mpirun", "--oversubscribe", "-np", "\(ranks)", "--bind-to", threads == 1 ? "core" : "none"]
                + (getuid() == 0 ? ["--allow-run-as-root"] : []) + arguments
        }
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
        guard process.terminationStatus == 0, let value = try? JSONValue.parse(Array(line.utf8)),
              let measurement = ScaleMeasurement(value) else {
            throw ValidationError("the \(ranks)-rank run failed (exit \(process.terminationStatus)); is mpirun installed (Scripts/install-deps.sh)?")
        }
        return measurement
    }

    /// One worker rank: trains `steps + 1` steps of `accum` random micro-batches; rank 0 prints the timed steps.
    private func measure(_ communicator: any Communicator) throws {
        Parallel.configure(threads: threads.threads ?? communicator.defaultThreads)
        let loaded = try ModelLoader.load(model)
        let c = loaded.config
        let adapter = try LoRAAdapter(config: LoRAConfig(rank: rank, alpha: Double(2 * rank), targets: LoRAConfig.Module.allCases),
                                      model: c, seed: 0)
        var random = SplitMix64(seed: 0)
        let batches = try (0..<accum).map { _ in
            let rows = (0..<batch).map { _ in (0..<length).map { _ in Int32(random.next() % UInt64(c.vocabSize)) } }
            let targets = rows.flatMap { row in row.indices.map { $0 + 1 < row.count ? row[$0 + 1] : -1 } }
            return MicroBatch(batch: try DecoderModel.Batch(rows: rows), targets: targets)
        }
        var config = TrainingConfig()
        config.schedule = .constant
        config.maxSteps = steps + 1
        config.microBatchSize = batch
        config.gradientAccumulation = accum
        config.maxLength = length
        config.maxGradNorm = nil
        var trainer = try Trainer(model: DecoderModel(weights: loaded.weights, rope: loaded.rope), adapter: adapter,
                                  batches: batches, config: config)
        var timed: [TrainingProgress] = []
        try trainer.run(communicator: communicator, progress: { if $0.step > 1 { timed.append($0) } })
        guard communicator.isLeader else { return }
        let seconds = timed.reduce(0) { $0 + $1.seconds }, n = Double(timed.count)
        let result: [String: Any] = [
            "ranks": communicator.size, "threads": Parallel.threads,
            "tokens_per_s": Double(timed.reduce(0) { $0 + $1.tokens }) / seconds,
            "step_seconds": seconds / n,
            "communication_seconds": timed.reduce(0) { $0 + $1.communicationSeconds } / n,
            "bytes_per_step": Double(timed.reduce(0) { $0 + $1.bytesReceived }) / n,
            "gradient_bytes": 4 * adapter.layout.totalCount + 8,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// What one worker run reports.
struct ScaleMeasurement {
    var ranks: Int, threads: Int
    var tokensPerSecond: Double, stepSeconds: Double, communicationSeconds: Double, bytesPerStep: Double, gradientBytes: Double

    init?(_ value: JSONValue) {
        guard let ranks = value["ranks"]?.intValue, let threads = value["threads"]?.intValue,
              let rate = value["tokens_per_s"]?.doubleValue, let step = value["step_seconds"]?.doubleValue,
              let communication = value["communication_seconds"]?.doubleValue, let bytes = value["bytes_per_step"]?.doubleValue,
              let gradient = value["gradient_bytes"]?.doubleValue else { return nil }
        self.init(ranks: ranks, threads: threads, tokensPerSecond: rate, stepSeconds: step, communicationSeconds: communication,
                  bytesPerStep: bytes, gradientBytes: gradient)
    }

    init(ranks: Int, threads: Int, tokensPerSecond: Double, stepSeconds: Double, communicationSeconds: Double,
         bytesPerStep: Double, gradientBytes: Double) {
        (self.ranks, self.threads, self.tokensPerSecond, self.stepSeconds) = (ranks, threads, tokensPerSecond, stepSeconds)
        (self.communicationSeconds, self.bytesPerStep, self.gradientBytes) = (communicationSeconds, bytesPerStep, gradientBytes)
    }

    var line: String {
        "\(ranks) × \(threads) threads  \(format(tokensPerSecond)) tokens/s  \(format(stepSeconds, decimals: 2)) s/step  "
            + "communication \(format(communicationSeconds, decimals: 3)) s/step  \(megabytes(Int(bytesPerStep))) received/step"
    }

    /// The mean of each figure over `runs`.
    static func mean(_ runs: [ScaleMeasurement]) -> ScaleMeasurement {
        let n = Double(runs.count)
        func average(_ key: KeyPath<ScaleMeasurement, Double>) -> Double { runs.reduce(0) { $0 + $1[keyPath: key] } / n }
        return ScaleMeasurement(ranks: runs[0].ranks, threads: runs[0].threads, tokensPerSecond: average(\.tokensPerSecond),
                                stepSeconds: average(\.stepSeconds), communicationSeconds: average(\.communicationSeconds),
                                bytesPerStep: average(\.bytesPerStep), gradientBytes: average(\.gradientBytes))
    }
}
