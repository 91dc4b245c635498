import Foundation
@testable import LatheRecipes

/// A throwaway project directory: Recipes/, Datasets/, Checkpoints/base/ with tiny files.
struct TestProject {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "lathe-recipes-\(UInt32.random(in: 0 ... .max))"
        let fm = FileManager.default
        for dir in ["Recipes/evals/tiny", "Datasets/tiny", "Checkpoints/base"] {
            try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        try write("Datasets/tiny/train.jsonl", "{\"prompt\": \"2+2?\", \"completion\": \"4\"}\n")
        try write("Checkpoints/base/model.gguf", "GGUF tiny stand-in")
        try write("Recipes/evals/tiny/task.yaml", "task: tiny\n")
    }

    func write(_ relative: String, _ text: String) throws {
        try text.write(toFile: root + "/" + relative, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// A minimal valid recipe body, with `extra` appended.
    static func recipe(_ extra: String = "") -> String {
        """
        name: tiny
        base_model: ../Checkpoints/base/model.gguf
        data:
          inputs: [../Datasets/tiny/train.jsonl]
        evaluate:
          tasks: [evals/tiny]
        \(extra)
        """
    }

    /// Writes `text` as Recipes/r.yaml and loads it.
    func load(_ text: String, overrides: [String] = [], checkFiles: Bool = true) throws -> LoadedRecipe {
        try write("Recipes/r.yaml", text)
        return try RecipeLoader.load(path: root + "/Recipes/r.yaml",
                                     options: RecipeOptions(overrides: overrides, checkFiles: checkFiles))
    }

    /// The error `load` throws, or nil.
    func error(_ text: String, overrides: [String] = []) -> RecipeError? {
        do {
            _ = try load(text, overrides: overrides)
            return nil
        } catch let error as RecipeError {
            return error
        } catch {
            return .invalid(file: "?", line: 0, key: "?", message: "unexpected \(error)")
        }
    }
}

extension RecipeError {
    var line: Int { if case .invalid(_, let l, _, _) = self { return l }; return -1 }
    var key: String { if case .invalid(_, _, let k, _) = self { return k }; return "" }
    var file: String { if case .invalid(let f, _, _, _) = self { return f }; return "" }
    var message: String { if case .invalid(_, _, _, let m) = self { return m }; return "" }
}
