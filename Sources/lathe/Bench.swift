import ArgumentParser
import LatheSupport

/// `lathe bench …`: measured speed, always beside a reference figure taken in the same run.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Lathe's speed against the machine's sgemm rate and the Python peers.",
        subcommands: [BenchKernels.self, BenchForward.self, BenchTrain.self, BenchTokenize.self, BenchClean.self, BenchEval.self]
    )
}

/// Options every benchmark shares.
struct BenchOptions: ParsableArguments {
    @Option(help: "Threads for Lathe and OpenBLAS together (default: all cores).")
    var threads: Int?

    func configure() throws {
        let threads = self.threads ?? Parallel.availableCores
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1 (got \(threads))") }
        Parallel.configure(threads: threads)
    }
}
