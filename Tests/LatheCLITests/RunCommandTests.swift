import Foundation
import Testing

/// `lathe run` end to end on the tiny Llama GGUF (it carries a byte-level tokenizer): clean → tokenize → train →
/// export, then a second run that finds every stage cached, then `lathe verify` before and after a hand edit.
@Suite struct RunCommandTests {
    let project: TinyProject
    var root: String { project.root }

    init() throws {
        let subjects = ["the lab", "the archive", "the north office", "the loading dock", "the clean room", "the library"]
        let texts = (0..<24).map { i in
            "Record \(i): the calibration of sensor \(i * 7) happens in \(subjects[i % subjects.count]) every \(i + 2) weeks."
        }
        project = try TinyProject(label: "run", model: "tiny-llama/tiny-llama-F32.gguf", texts: texts, name: "tiny", seed: 3,
                                  sections: TinyProject.sections(maxLength: 48, train: ["lora: {rank: 4, alpha: 8}", "micro_batch_size: 2", "max_steps: 3", "save_every: 2"],
                                                                 formats: "[peft, merged, gguf, gguf-lora]", export: ["base_model_id: org/tiny-llama"]))
    }

    @Test func runCachesVerifiesAndDetectsEdits() throws {
        defer { project.remove() }
        let recipe = "\(root)/Recipes/tiny.yaml"
        let first = try CLI.run(["run", recipe])
        #expect(first.status == 0, "\(first.stderr)")
        for stage in ["clean", "tokenize", "train", "export"] { #expect(first.stdout.contains("finished"), "\(stage)") }
        let run = "\(root)/Checkpoints/tiny"
        let files = try FileManager.default.subpathsOfDirectory(atPath: run)
        #expect(files.contains { $0.hasSuffix("peft/adapter_model.safetensors") })
        #expect(files.contains { $0.hasSuffix("merged/model.safetensors") })
        #expect(files.contains { $0.hasSuffix("merged.gguf") })
        #expect(files.contains { $0.hasSuffix("adapter.gguf") })
        #expect(files.contains { $0.hasSuffix("merged/tokenizer.json") } && files.contains { $0.hasSuffix("merged/tokenizer_config.json") })
        #expect(files.contains { $0.hasSuffix("step-2.safetensors.zst") })
        #expect(files.contains("MODEL_CARD.md") && files.contains("lineage.json"))
        let report = try String(contentsOfFile: "\(run)/report.html", encoding: .utf8)
        #expect(report.contains("<svg") && report.contains("training loss per step") && report.contains("cleaning funnel"))
        #expect(!report.contains("<script") && !report.contains("src=\"http") && !report.contains("href=\"http"),
                "the report loads nothing from the network")

        let second = try CLI.run(["run", recipe])
        #expect(second.status == 0)
        #expect(!second.stdout.contains("started"), "an unchanged recipe must do no work:\n\(second.stdout)")
        #expect(second.stdout.components(separatedBy: "cached").count - 1 == 4)

        let reproduced = try CLI.run(["reproduce", run])
        #expect(reproduced.status == 0, "\(reproduced.stdout)\(reproduced.stderr)")
        #expect(reproduced.stdout.contains("identical"))

        let verified = try CLI.run(["verify", run])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")

        // `lathe export` from the run directory (its adapter found through lineage.json), then from a PEFT directory.
        let exported = try CLI.run(["export", run, "--format", "gguf-lora", "--format", "peft", "--out", "\(root)/out"])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(root)/out/adapter.gguf"))
        #expect(exported.stderr.contains("warning: peft:") && exported.stderr.contains("names the base"),
                "a base recorded by path is warned about:\n\(exported.stderr)")
        let again = try CLI.run(["export", "\(root)/out/peft", "--base", "\(root)/Checkpoints/base/tiny.gguf",
                                 "--format", "merged", "--dtype", "bf16", "--out", "\(root)/out2"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(root)/out2/merged/model.safetensors"))
        // Importing the exported adapter to continue training it: its rank (4) wins over the --rank default (16).
        let continued = try CLI.run(["train", "--model", "\(root)/Checkpoints/base/tiny.gguf", "--data", "\(root)/Datasets/tiny/train.jsonl",
                                     "--from-adapter", "\(root)/out/peft", "--max-steps", "1", "--max-length", "48",
                                     "--out", "\(root)/continued"])
        #expect(continued.status == 0, "\(continued.stderr)")
        #expect(continued.stdout.contains("continuing") && continued.stdout.contains("rank=4"), "\(continued.stdout)")
        let refused = try CLI.run(["export", run, "--format", "merged", "--dtype", "q8_0", "--out", "\(root)/out3"])
        #expect(refused.status != 0 && refused.stderr.contains("q8_0"))
        #expect(!FileManager.default.fileExists(atPath: "\(root)/out3"))
        let cleaned = try #require(files.first { $0.hasSuffix("cleaned.jsonl") })
        try "{\"text\": \"edited by hand\"}\n".write(toFile: "\(run)/\(cleaned)", atomically: true, encoding: .utf8)
        let tampered = try CLI.run(["verify", run])
        #expect(tampered.status != 0)
        #expect((tampered.stdout + tampered.stderr).contains("cleaned.jsonl"))
    }

    /// Files an auditor can carry: the project (run directory and its inputs, same layout) copied to another folder,
    /// the original deleted, still verifies and reproduces; the card, report and lineage name no path of this machine.
    @Test func copiedRunVerifiesAndNamesNoAbsolutePath() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-copy-\(UUID())").path
        defer { project.remove(); try? FileManager.default.removeItem(atPath: copy) }
        let first = try CLI.run(["run", project.recipe])
        #expect(first.status == 0, "\(first.stderr)")
        try FileManager.default.copyItem(atPath: root, toPath: copy)
        project.remove()
        let run = "\(copy)/Checkpoints/tiny"
        let verified = try CLI.run(["verify", run, "--strict"])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("ok ") && !verified.stdout.contains("NOT CHECKED"), "\(verified.stdout)")
        for name in ["MODEL_CARD.md", "report.html", "lineage.json"] {
            let text = try String(contentsOfFile: "\(run)/\(name)", encoding: .utf8)
            #expect(!text.contains(root) && !text.contains(copy), "\(name) names the project's absolute path")
            for prefix in ["/home/", "/work/", "/tmp/", "/private/", "/Users/"] {
                #expect(!text.contains(prefix), "\(name) names an absolute path under \(prefix)")
            }
        }
        let card = try String(contentsOfFile: "\(run)/MODEL_CARD.md", encoding: .utf8)
        #expect(card.contains("`Datasets/tiny/train.jsonl`") && card.contains("`Checkpoints/base/tiny.gguf`"), "\(card)")
        let reproduced = try CLI.run(["reproduce", run])
        #expect(reproduced.status == 0 && reproduced.stdout.contains("identical"), "\(reproduced.stdout)\(reproduced.stderr)")
        // A file of the copy edited afterwards is still caught.
        try "{\"text\": \"edited\"}\n".write(toFile: "\(copy)/Datasets/tiny/train.jsonl", atomically: true, encoding: .utf8)
        let tampered = try CLI.run(["verify", run])
        #expect(tampered.status != 0 && tampered.stdout.contains("Datasets/tiny/train.jsonl"), "\(tampered.stdout)")
    }

    /// `train.eval_every`: the held-out loss after every N steps goes to the event stream, training_log.jsonl and
    /// report.html's loss chart; the last one is the stage's `eval_loss_adapter`.
    @Test func evalEveryRecordsHeldOutLoss() throws {
        defer { project.remove() }
        let recipe = "\(root)/Recipes/tiny.yaml"
        let text = try String(contentsOfFile: recipe, encoding: .utf8)
        try text.replacingOccurrences(of: "eval_fraction: 0\n", with: "eval_fraction: 0.25\n")
            .replacingOccurrences(of: "save_every: 2", with: "save_every: 2\n  eval_every: 2")
            .write(toFile: recipe, atomically: true, encoding: .utf8)
        let result = try CLI.run(["run", recipe, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let events = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let evaluations = events.filter { $0["event"] as? String == "eval_loss" }
        #expect(evaluations.compactMap { $0["step"] as? Int } == [2, 3], "after step 2 and the last step (3)")
        let run = "\(root)/Checkpoints/tiny"
        let log = try #require(try FileManager.default.subpathsOfDirectory(atPath: run).first { $0.hasSuffix("training_log.jsonl") })
        let lines = try String(contentsOfFile: "\(run)/\(log)", encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.contains("eval_loss") }.count == 2 && lines.count == 5)
        let report = try String(contentsOfFile: "\(run)/report.html", encoding: .utf8)
        #expect(report.contains("<circle") && report.contains("held-out loss"))
    }

    @Test func recipeWithATypoFailsWithFileLineAndSuggestion() throws {
        defer { project.remove() }
        let text = try String(contentsOfFile: "\(root)/Recipes/tiny.yaml", encoding: .utf8)
        try text.replacingOccurrences(of: "micro_batch_size", with: "micro_batch_sise")
            .write(toFile: "\(root)/Recipes/tiny.yaml", atomically: true, encoding: .utf8)
        let result = try CLI.run(["run", "\(root)/Recipes/tiny.yaml"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("tiny.yaml:15:"))
        #expect(result.stderr.contains("micro_batch_size"))
        #expect(!FileManager.default.fileExists(atPath: "\(root)/Checkpoints/tiny"), "nothing may be written")
    }
}
