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

extension TinyProject {
    /// The cleaning most recipes here use: instruction rules on short text records, no MinHash, no held-out split.
    static let instructionClean = ["kind: instruction", "dedup: {minhash: false}", "eval_fraction: 0"]

    /// The recipe text after `data`: `clean` keys, tokenize to `maxLength` tokens training on all of them, `train`
    /// keys, `evaluate` keys (default: off) and the export `formats` (then any further `export` keys).
    static func sections(clean: [String] = instructionClean, maxLength: Int, train: [String], evaluate: [String] = ["enabled: false"],
                         formats: String = "[peft]", export: [String] = []) -> String {
        func section(_ name: String, _ keys: [String]) -> String { "\(name):\n" + keys.map { "  \($0)\n" }.joined() }
        return section("clean", clean) + section("tokenize", ["max_length: \(maxLength)", "train_on: all"]) + section("train", train)
            + section("evaluate", evaluate) + section("export", ["formats: \(formats)"] + export)
    }

    /// `train` keys of the runs the resume tests kill or cut short: a checkpoint every step, the last two kept, one thread.
    static let checkpointEveryStep = ["save_every: 1", "keep_last: 2", "threads: 1"]

    /// `evaluate` keys running the log-likelihood task `tiny_ll` that `writeLoglikelihoodTask` writes.
    static let loglikelihoodEvaluation = ["tasks: [evals/tiny_ll.yaml]", "compare_with_base: false"]

    /// Writes the lm-eval task `Recipes/evals/tiny_ll.yaml` (log-likelihood of `a` after `q`, perplexity and
    /// accuracy) over `documents` in `tiny_ll.jsonl` (plain texts: no quotes or backslashes to escape).
    func writeLoglikelihoodTask(_ documents: [(q: String, a: String)]) throws {
        let folder = "\(root)/Recipes/evals"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let lines = documents.map { "{\"q\": \"\($0.q)\", \"a\": \"\($0.a)\"}\n" }
        try lines.joined().write(toFile: "\(folder)/tiny_ll.jsonl", atomically: true, encoding: .utf8)
        try """
        task: tiny_ll
        dataset_path: json
        dataset_kwargs: {data_files: {test: tiny_ll.jsonl}}
        test_split: test
        output_type: loglikelihood
        doc_to_text: "{{q}}"
        doc_to_target: "{{a}}"
        metric_list: [{metric: perplexity}, {metric: acc}]

        """.write(toFile: "\(folder)/tiny_ll.yaml", atomically: true, encoding: .utf8)
    }
}
