import ArgumentParser

/// `lathe bench …`: measured speed, always beside a reference figure taken in the same run.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Lathe's speed against the machine's sgemm rate and the Python peers.",
        subcommands: [BenchKernels.self, BenchForward.self, BenchTrain.self, BenchScale.self, BenchTokenize.self, BenchClean.self, BenchEval.self,
                      BenchServe.self, BenchGenerate.self]
    )
}

