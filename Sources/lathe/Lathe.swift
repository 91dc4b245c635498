import ArgumentParser
import LatheTensors

/// The `lathe` command: each subcommand turns flags into library parameters and renders the library's events.
@main
struct Lathe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lathe",
        abstract: "Fine-tune open-weight LLMs with LoRA on your own CPU, with nothing leaving the machine.",
        version: "0.1.0\n\(BLASCore.summary)",   // the kernels too: `make test` runs its tests on the same ones
        subcommands: [Run.self, Train.self, Export.self, Validate.self, Plan.self, Explain.self, Verify.self, Reproduce.self, Clean.self, Eval.self,
                      Generate.self, Inspect.self, Tokenize.self, Serve.self, Bench.self]
    )

    /// Runs on OpenBLAS's best kernels for this CPU (`BLASCore.useBestKernels`, which may execute `lathe` again with
    /// the same arguments), then parses the arguments and runs the command.
    static func main() {
        BLASCore.useBestKernels()
        main(nil)
    }
}
