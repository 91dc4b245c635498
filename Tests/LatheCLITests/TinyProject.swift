import Foundation

/// A throwaway project for `lathe run` on a tiny test model: `Recipes/<name>.yaml`, `Datasets/tiny/train.jsonl`
/// (one `{"text": …}` record per line) and the model fixture copied to `Checkpoints/base/tiny.gguf`.
struct TinyProject {
    /// The project root (a fresh folder under the temporary directory).
    let root: String
    /// The recipe file.
    let recipe: String

    /// Writes the project. `model` is a fixture below Tests/LatheModelsTests/Fixtures (e.g.
    /// "tiny-llama/tiny-llama-F32.gguf"); `sections` is the recipe text after `base_model` and `data`.
    init(label: String, model: String, texts: [String], name: String, seed: Int, sections: String) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-\(label)-\(UUID())").path
        recipe = "\(root)/Recipes/\(name).yaml"
        let fm = FileManager.default
        for folder in ["Recipes", "Datasets/tiny", "Checkpoints/base"] {
            try fm.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: CLI.packageRoot.appendingPathComponent("Tests/LatheModelsTests/Fixtures/\(model)").path,
                        toPath: "\(root)/Checkpoints/base/tiny.gguf")
        let lines = texts.map { "{\"text\": \"\($0)\"}\n" }.joined()
        try lines.write(toFile: "\(root)/Datasets/tiny/train.jsonl", atomically: true, encoding: .utf8)
        let head = "name: \(name)\nseed: \(seed)\nbase_model: ../Checkpoints/base/tiny.gguf\ndata:\n  inputs: [../Datasets/tiny/train.jsonl]\n"
        try (head + sections).write(toFile: recipe, atomically: true, encoding: .utf8)
    }

    /// The run directory of the recipe named `name`.
    func run(_ name: String) -> String { "\(root)/Checkpoints/\(name)" }

    /// Deletes the project.
    func remove() { try? FileManager.default.removeItem(atPath: root) }
}
