import Foundation
import Testing

/// The CLI and a recipe share one vocabulary: `lathe train` and a recipe that sets no LoRA key train the same
/// adapter shape (one `LoRAConfig`, one set of defaults), and `clean.normalize: none` cleans text exactly as
/// `lathe clean --unicode none` does (one Unicode-form option, not "NFC without whitespace collapsing").
@Suite struct SharedDefaultsTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-shared-\(UUID())").path

    /// Decomposed "é" (e + U+0301) and doubled spaces: `none` keeps the first and still collapses the second.
    static let decomposed = "Cafe\u{301}  menu:  the calibration of sensor 7 happens in the lab every 3 weeks."

    /// A project with the tiny GGUF, a few text records, and a recipe with no `train.lora` keys.
    func makeProject() throws -> (recipe: String, model: String, data: String) {
        let fm = FileManager.default
        for folder in ["Recipes", "Datasets", "Checkpoints/base"] {
            try fm.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
        }
        let model = "\(root)/Checkpoints/base/tiny.gguf"
        try fm.copyItem(atPath: CLI.packageRoot.appendingPathComponent("Tests/LatheModelsTests/Fixtures/tiny-llama/tiny-llama-F32.gguf").path,
                        toPath: model)
        let texts = [Self.decomposed] + (0..<7).map { "Record \($0): the archive opens at \($0 + 8) and closes at \($0 + 16) on weekdays." }
        let data = "\(root)/Datasets/train.jsonl"
        let lines = try texts.map { String(decoding: try JSONSerialization.data(withJSONObject: ["text": $0]), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: data, atomically: true, encoding: .utf8)
        let recipe = "\(root)/Recipes/defaults.yaml"
        try """
        name: defaults
        base_model: ../Checkpoints/base/tiny.gguf
        data:
          inputs: [../Datasets/train.jsonl]
        clean:
          kind: instruction          # short text records: instruction rules (text records get web rules by default)
          normalize: none
          eval_fraction: 0
        tokenize:
          max_length: 48
        train:
          max_steps: 1
        evaluate:
          enabled: false
        export:
          formats: []
        """.write(toFile: recipe, atomically: true, encoding: .utf8)
        return (recipe, model, data)
    }

    /// The one file under `directory` whose path ends with `suffix`.
    func file(in directory: String, endingWith suffix: String) throws -> String {
        let found = try FileManager.default.subpathsOfDirectory(atPath: directory).filter { $0.hasSuffix(suffix) }
        #expect(found.count == 1, "\(suffix) in \(directory): \(found)")
        return "\(directory)/\(try #require(found.first))"
    }

    @Test func trainFlagsAndARecipeWithoutLoRAKeysWriteTheSameAdapterConfig() throws {
        let (recipe, model, data) = try makeProject()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let run = try CLI.run(["run", recipe, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let trained = try CLI.run(["train", "--model", model, "--data", data, "--max-steps", "1", "--max-length", "48",
                                   "--out", "\(root)/flags", "--json"])
        #expect(trained.status == 0, "\(trained.stderr)")

        let fromRecipe = try Data(contentsOf: URL(fileURLWithPath: try file(in: "\(root)/Checkpoints/defaults",
                                                                             endingWith: "adapter/adapter_config.json")))
        let fromFlags = try Data(contentsOf: URL(fileURLWithPath: "\(root)/flags/adapter_config.json"))
        #expect(fromRecipe == fromFlags, """
            adapter_config.json differs:
            recipe: \(String(decoding: fromRecipe, as: UTF8.self))
            flags:  \(String(decoding: fromFlags, as: UTF8.self))
            """)
        // Not two equal accidents: the shared defaults are the documented ones.
        let config = try #require(try JSONSerialization.jsonObject(with: fromFlags) as? [String: Any])
        #expect(config["r"] as? Int == 16 && config["lora_alpha"] as? Double == 32)
        #expect(config["target_modules"] as? [String] == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    }

    @Test func recipeNormalizeNoneMeansCleanUnicodeNone() throws {
        let (recipe, _, data) = try makeProject()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let run = try CLI.run(["run", recipe, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let cleaned = try CLI.run(["clean", data, "--out", "\(root)/cleaned", "--unicode", "none", "--kind", "instruction"])
        #expect(cleaned.status == 0, "\(cleaned.stderr)")

        func cafeText(_ path: String) throws -> String {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let line = try #require(text.split(separator: "\n").first { $0.contains("menu") }, "no menu record in \(path)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(object["text"] as? String)
        }
        let fromRecipe = try cafeText(try file(in: "\(root)/Checkpoints/defaults", endingWith: "cleaned.jsonl"))
        let fromCLI = try cafeText("\(root)/cleaned/cleaned.jsonl")
        // Swift's String == compares canonical equivalence, which would hide the difference under test: compare bytes.
        #expect(Array(fromRecipe.utf8) == Array(fromCLI.utf8), "recipe: \(fromRecipe.debugDescription), CLI: \(fromCLI.debugDescription)")
        let expected = "Cafe\u{301} menu: the calibration of sensor 7 happens in the lab every 3 weeks."
        #expect(Array(fromCLI.utf8) == Array(expected.utf8), "none keeps e + U+0301 and still collapses spaces")
    }
}
