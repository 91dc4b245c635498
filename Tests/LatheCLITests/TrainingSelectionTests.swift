import Foundation
import Testing

/// `evaluate.every` / `evaluate.select` / `evaluate.patience` on the tiny Llama GGUF: the recipe's task runs during
/// training, the adapter of the best evaluation step is the one written as `adapter/` (and exported), and patience
/// stops training early.
@Suite struct TrainingSelectionTests {
    static func project(_ evaluate: [String], label: String = "select", steps: Int = 6, saveEvery: Int = 3,
                        documents: Int = 4) throws -> TinyProject {
        let texts = (0..<16).map { "Record \($0): the pump in hall \($0 % 4) is checked every \($0 + 2) days." }
        let sections = TinyProject.sections(maxLength: 48, train: ["lora: {rank: 4, alpha: 8}", "optimizer: {lr: 0.01}", "micro_batch_size: 2",
                                                                   "max_steps: \(steps)", "save_every: \(saveEvery)", "threads: 1"],
                                            evaluate: TinyProject.loglikelihoodEvaluation + evaluate)
        let project = try TinyProject(label: label, model: "tiny-llama/tiny-llama-F32.gguf", texts: texts, name: "tiny", seed: 5, sections: sections)
        try project.writeLoglikelihoodTask((0..<documents).map { ("Record \($0): the pump in hall \($0) is", " checked every \($0 + 2) days.") })
        return project
    }

    /// The training log's task evaluations: step and the `select` value.
    static func selections(_ run: String) throws -> [(step: Int, value: Double)] {
        let log = try #require(try FileManager.default.subpathsOfDirectory(atPath: run).first {
            $0.hasSuffix("training_log.jsonl") && !$0.hasPrefix("checkpoints")
        })
        return try String(contentsOfFile: "\(run)/\(log)", encoding: .utf8).split(separator: "\n").compactMap { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = object["step"] as? Int, let value = object["selected"] as? Double else { return nil }
            return (step, value)
        }
    }

    static func file(_ run: String, _ suffix: String) throws -> Data {
        let path = try #require(try FileManager.default.subpathsOfDirectory(atPath: run).first { $0.hasSuffix(suffix) })
        return try Data(contentsOf: URL(fileURLWithPath: "\(run)/\(path)"))
    }

    @Test func bestStepIsTheAdapterThatIsWrittenAndExported() throws {
        let project = try Self.project(["every: 2", "select: tiny_ll/perplexity", "better: lower"])
        defer { project.remove() }
        let result = try CLI.run(["run", project.recipe, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let run = project.run("tiny")
        let evaluations = try Self.selections(run)
        #expect(evaluations.map(\.step) == [2, 4, 6])
        let best = try #require(evaluations.min { $0.value < $1.value })
        let stageFiles = try FileManager.default.subpathsOfDirectory(atPath: run)
        let adapter = try #require(stageFiles.first { $0.hasSuffix("/adapter/adapter_model.safetensors") && $0.contains("train") })
        let kept = try #require(stageFiles.first { $0.hasSuffix("best-adapter/adapter_model.safetensors") })
        let last = try #require(stageFiles.first { $0.hasSuffix("last-adapter/adapter_model.safetensors") })
        let written = try Data(contentsOf: URL(fileURLWithPath: "\(run)/\(adapter)"))
        #expect(written == (try Data(contentsOf: URL(fileURLWithPath: "\(run)/\(kept)"))))
        #expect((written == (try Data(contentsOf: URL(fileURLWithPath: "\(run)/\(last)")))) == (best.step == 6))
        let lineage = try String(contentsOfFile: "\(run)/lineage.json", encoding: .utf8)
        #expect(lineage.contains("\"selected_step\""), "the train stage reports the chosen step")
        let card = try #require(try FileManager.default.subpathsOfDirectory(atPath: run).first { $0.hasSuffix("MODEL_CARD.md") || $0.hasSuffix("model_card.md") })
        #expect(try String(contentsOfFile: "\(run)/\(card)", encoding: .utf8).contains("is the one of step \(best.step)"))
        let report = try String(contentsOfFile: "\(run)/report.html", encoding: .utf8)
        #expect(report.contains("Task metrics during training") && report.contains("tiny_ll/perplexity,none at steps 2, 4, 6"))
        let exported = try #require(stageFiles.first { $0.hasSuffix("peft/adapter_model.safetensors") })
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(run)/\(exported)")) == written, "export uses the chosen adapter")
    }

    @Test func patienceStopsTraining() throws {
        // Perplexity falls as the adapter learns the records; asking for a higher one, nothing after step 2 improves.
        let project = try Self.project(["every: 2", "select: tiny_ll/perplexity", "better: higher", "patience: 1"])
        defer { project.remove() }
        let result = try CLI.run(["run", project.recipe, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let evaluations = try Self.selections(project.run("tiny"))
        #expect(evaluations.map(\.step) == [2, 4], "stopped after one evaluation without improvement")
        #expect(evaluations[1].value < evaluations[0].value)
    }
}

extension TrainingSelectionTests {
    /// Killed at random moments (during task evaluations too: they take most of each run's time) and restarted
    /// until done, a run with `evaluate.select` logs the same task values, chooses the same step and exports the
    /// same adapter, bit for bit, as an uninterrupted one.
    @Test func killedRunsChooseAndExportTheSameAdapter() throws {
        let settings = ["every: 10", "select: tiny_ll/perplexity", "better: lower"]
        let reference = try Self.project(settings, label: "select-reference", steps: 60, saveEvery: 1, documents: 24)
        let interrupted = try Self.project(settings, label: "select-killed", steps: 60, saveEvery: 1, documents: 24)
        defer { reference.remove(); interrupted.remove() }
        let started = Date()
        let whole = try CLI.run(["run", reference.recipe])
        #expect(whole.status == 0, "\(whole.stderr)")
        // Kill moments scale with how long a whole run takes on this machine now, so kills land under any load.
        let wholeMicroseconds = max(200_000, Date().timeIntervalSince(started) * 1e6)
        let earliest = UInt32(0.08 * wholeMicroseconds), latest = UInt32(0.3 * wholeMicroseconds)
        var random = SystemRandomNumberGenerator()
        var kills = 0, attempts = 0
        while attempts < 30 {
            attempts += 1
            let process = Process()
            process.executableURL = CLI.binary
            process.arguments = ["run", interrupted.recipe]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if kills < 8 {
                usleep(UInt32.random(in: earliest...latest, using: &random))
                if process.isRunning { kill(process.processIdentifier, SIGKILL); kills += 1 }
            }
            process.waitUntilExit()
            if process.terminationReason == .exit && process.terminationStatus == 0 { break }
        }
        #expect(kills >= 2, "only \(kills) kills landed")
        let (ours, theirs) = (try Self.selections(interrupted.run("tiny")), try Self.selections(reference.run("tiny")))
        #expect(ours.map(\.step) == Array(stride(from: 10, through: 60, by: 10)))
        #expect(ours.map(\.step) == theirs.map(\.step) && ours.map(\.value) == theirs.map(\.value))
        #expect(try Self.file(interrupted.run("tiny"), "peft/adapter_model.safetensors")
                    == Self.file(reference.run("tiny"), "peft/adapter_model.safetensors"), "after \(kills) kills")
    }
}

extension TrainingSelectionTests {
    @Test func selectingAMetricTheTasksDoNotGiveFailsNamingThem() throws {
        let project = try Self.project(["every: 2", "select: tiny_ll/acc_norm"])
        defer { project.remove() }
        let result = try CLI.run(["run", project.recipe])
        #expect(result.status != 0)
        #expect(result.stderr.contains("evaluate.select") && result.stderr.contains("tiny_ll/acc,none"), "\(result.stderr)")
    }
}
