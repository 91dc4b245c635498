import Foundation
import ArgumentParser
import LatheRecipes

/// `lathe explain RECIPE`: the resolved recipe and the stage plan (keys, and which stages are cached).
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the fully resolved recipe (defaults filled in) and the stage plan: each stage's cache key and whether its output exists."
    )

    @OptionGroup var arguments: RecipeArguments

    func run() throws {
        do {
            let loaded = try arguments.load()
            let version = CodeVersion.read(from: loaded.projectRoot)
            let plan = try StagePlanner.plan(loaded, codeVersion: version.description)
            print("# resolved recipe (\(loaded.file), SHA-256 \(try loaded.sha256()))")
            print(try loaded.yaml(), terminator: "")
            print("\n# stage plan (code version \(version); run directory \(loaded.runDirectory))")
            for stage in plan.stages {
                let name = stage.stage.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                guard stage.enabled else {
                    print("\(name) skipped (turned off in the recipe)")
                    continue
                }
                let state = stage.cached ? "cached" : "will run"
                print("\(name) \(state.padding(toLength: 8, withPad: " ", startingAt: 0)) key \(stage.key.prefix(16))  \(stage.directory)")
            }
        } catch {
            throw failWith(error)
        }
    }
}
