import ArgumentParser
import LatheRecipes

/// Options shared by the recipe commands: overrides and the project root.
struct RecipeArguments: ParsableArguments {
    @Argument(help: "The recipe YAML file.")
    var recipe: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a recipe key, e.g. --set train.lora.rank=16 (repeatable).",
                                                         valueName: "key.path=value"))
    var overrides: [String] = []

    @Option(name: .customLong("project"), help: "Project root holding Checkpoints/ (default: the parent of the recipe's Recipes/ directory, else the recipe's directory).")
    var projectRoot: String?

    /// Loads the recipe, checking that every input file exists.
    func load() throws -> LoadedRecipe {
        try RecipeLoader.load(path: recipe, options: RecipeOptions(overrides: overrides, projectRoot: projectRoot, checkFiles: true))
    }
}

/// Prints a library error on stderr and exits with status 1.
func failWith(_ error: any Error) -> ExitCode {
    var standardError = StandardError()
    print("error: \(error)", to: &standardError)
    return ExitCode.failure
}

/// stderr as a `TextOutputStream`.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleWriter.write(string, fd: 2)
    }
}

/// `lathe validate RECIPE`: decodes and checks a recipe without writing anything.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a recipe: keys, types, ranges, input files and the run directory. Nothing is written."
    )

    @OptionGroup var arguments: RecipeArguments

    func run() throws {
        do {
            let loaded = try arguments.load()
            print("ok  \(loaded.summary)")
        } catch {
            throw failWith(error)
        }
    }
}
