import Foundation
import Testing

/// A recipe that adds tokens (`train.new_tokens`) trains their embedding and LM-head rows beside LoRA; the rows and
/// their AdamW moments are checkpointed, so a run resumed from a checkpoint ends with the same adapter, bit for bit,
/// as one never interrupted; the exports carry the tokens.
@Suite struct NewTokensResumeTests {
    func project(_ label: String) throws -> TinyProject {
        let texts = (0..<12).map { "Case \($0): <diagnosis> valve \($0 * 3) stuck <tool_call> open plant \($0 % 5)." }
        return try TinyProject(label: "newtok-\(label)", model: "tiny-llama/tiny-llama-F32.gguf", texts: texts, name: "newtok", seed: 7,
                               sections: TinyProject.sections(clean: ["enabled: false"], maxLength: 32, train: [
                                   "new_tokens: [\"<diagnosis>\", \"<tool_call>\"]", "lora: {rank: 2, alpha: 4, targets: [q_proj, v_proj]}",
                                   "optimizer: {lr: 2.0e-2}", "micro_batch_size: 2", "max_steps: 4"] + TinyProject.checkpointEveryStep,
                                                              formats: "[peft, merged]"))
    }

    /// The file at `suffix` under the run's stage folder starting `stage`.
    func stageFile(_ run: String, _ stage: String, _ suffix: String) throws -> String {
        let path = try #require(try FileManager.default.subpathsOfDirectory(atPath: run)
            .first { $0.hasPrefix("stages/\(stage)-") && $0.hasSuffix(suffix) })
        return "\(run)/\(path)"
    }

    @Test func tokenRowsResumeExactlyAndExport() throws {
        let reference = try project("reference"), resumed = try project("resumed")
        defer { reference.remove(); resumed.remove() }
        for project in [reference, resumed] {
            let result = try CLI.run(["run", project.recipe])
            #expect(result.status == 0, "\(result.stderr)")
        }
        // Drop the resumed project's last checkpoint and its train and export outputs: the run resumes from step 3.
        let run = resumed.run("newtok")
        let fm = FileManager.default
        for folder in try fm.contentsOfDirectory(atPath: "\(run)/checkpoints") {
            try? fm.removeItem(atPath: "\(run)/checkpoints/\(folder)/step-4.safetensors.zst")
        }
        for stage in try fm.contentsOfDirectory(atPath: "\(run)/stages") where stage.hasPrefix("train-") || stage.hasPrefix("export-") {
            try fm.removeItem(atPath: "\(run)/stages/\(stage)")
        }
        let again = try CLI.run(["run", resumed.recipe])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("resumed"), "\(again.stdout)")

        let referenceRun = reference.run("newtok")
        for file in ["peft/adapter_model.safetensors", "peft/added_tokens.json", "merged/model.safetensors"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: try stageFile(referenceRun, "export", file)))
            let b = try Data(contentsOf: URL(fileURLWithPath: try stageFile(run, "export", file)))
            #expect(a == b, "\(file) differs after resuming")
        }
        let config = try String(contentsOfFile: try stageFile(referenceRun, "export", "peft/adapter_config.json"), encoding: .utf8)
        #expect(config.contains("\"trainable_token_indices\""), "\(config)")
        let tokenizer = try String(contentsOfFile: try stageFile(referenceRun, "export", "merged/tokenizer.json"), encoding: .utf8)
        #expect(tokenizer.contains("\"<diagnosis>\"") && tokenizer.contains("\"<tool_call>\""))
        let merged = try String(contentsOfFile: try stageFile(referenceRun, "export", "merged/config.json"), encoding: .utf8)
        #expect(merged.contains("\"vocab_size\": 322") || merged.contains("\"vocab_size\":322"), "\(merged)")
    }
}
