import Foundation
import Testing

/// `lathe train` and `lathe run` as two Open MPI ranks (`mpirun -np 2`, one thread each) end with the adapter a
/// single process trains, byte for byte; a rank killed mid-run ends the job non-zero, and running again — on one
/// process — resumes from the last checkpoint to the same adapter. `lathe clean` and `lathe eval` on two ranks write
/// the files one process writes.
@Suite(.serialized) struct MPITests {
    /// `mpirun`, installed with libopenmpi-dev by Scripts/install-deps.sh (`make deps`).
    static let mpirun = "/usr/bin/mpirun"

    /// `mpirun -np ranks lathe arguments…`, on this host only, as root where the tests run as root (CI).
    static func launch(ranks: Int, _ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun)
        process.arguments = ["--oversubscribe", "--allow-run-as-root", "--bind-to", "none", "-np", "\(ranks)",
                             CLI.binary.path] + arguments
        process.currentDirectoryURL = CLI.packageRoot
        return process
    }

    /// A file the launched job writes its standard output or error to. Files, not pipes read by tasks: a test that
    /// blocks on a task's result can starve the cooperative thread pool while other suites run in parallel.
    static func outputFile(_ label: String) throws -> (path: String, handle: FileHandle) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-mpi-\(label)-\(UUID()).log").path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return (path, handle)
    }

    static func mpiRun(ranks: Int, _ arguments: [String]) throws -> CLIResult {
        let process = launch(ranks: ranks, arguments)
        let (out, err) = (try outputFile("out"), try outputFile("err"))
        defer { for path in [out.path, err.path] { try? FileManager.default.removeItem(atPath: path) } }
        process.standardOutput = out.handle
        process.standardError = err.handle
        try process.run()
        process.waitUntilExit()
        try out.handle.close()
        try err.handle.close()
        return CLIResult(status: process.terminationStatus, stdout: try String(contentsOfFile: out.path, encoding: .utf8),
                         stderr: try String(contentsOfFile: err.path, encoding: .utf8))
    }

    /// A recipe project; with `evaluate`, its evaluate stage runs a loglikelihood task of five documents.
    static func project(_ label: String, steps: Int, saveEvery: Int, evaluate: Bool = false) throws -> TinyProject {
        let texts = (0..<30).map { "Entry \($0): pump \($0 * 7) holds \($0 + 3) litres at station \($0 % 4)." }
        let sections = TinyProject.sections(maxLength: 48, train: [
            "lora: {rank: 4, alpha: 8, dropout: 0.1}", "micro_batch_size: 2", "gradient_accumulation: 3", "max_steps: \(steps)",
            "save_every: \(saveEvery)", "keep_last: 2", "threads: 1"], evaluate: evaluate ? TinyProject.loglikelihoodEvaluation : ["enabled: false"])
        let project = try TinyProject(label: "mpi-\(label)", model: "tiny-llama/tiny-llama-F32.gguf", texts: texts, name: "mpi",
                                      seed: 11, sections: sections)
        if evaluate { try project.writeLoglikelihoodTask((0..<5).map { ("Entry \($0): pump \($0 * 7) holds", " \($0 + 3) litres.") }) }
        return project
    }

    /// The file of the run's stage output whose path ends with `suffix`.
    static func stageFile(_ project: TinyProject, _ suffix: String) throws -> Data {
        let run = project.run("mpi")
        let path = try #require(try FileManager.default.subpathsOfDirectory(atPath: run)
            .first { $0.hasPrefix("stages/") && $0.hasSuffix(suffix) }, "no stage file \(suffix)")
        return try Data(contentsOf: URL(fileURLWithPath: "\(run)/\(path)"))
    }

    static func adapter(_ project: TinyProject) throws -> Data {
        let run = project.run("mpi")
        let path = try #require(try FileManager.default.subpathsOfDirectory(atPath: run)
            .first { $0.hasPrefix("stages/export-") && $0.hasSuffix("peft/adapter_model.safetensors") })
        return try Data(contentsOf: URL(fileURLWithPath: "\(run)/\(path)"))
    }

    @Test func twoRanksTrainTheSingleProcessAdapter() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-mpi-train-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let data = "\(folder)/train.jsonl"
        try (0..<20).map { "{\"text\": \"Line \($0): gauge \($0 * 5) reads \($0 + 1) bar.\"}\n" }.joined()
            .write(toFile: data, atomically: true, encoding: .utf8)
        let model = CLI.packageRoot.appendingPathComponent("Tests/LatheModelsTests/Fixtures/tiny-llama/tiny-llama-F32.gguf").path
        // Three micro-batches per step on two ranks: an uneven split (1 and 2).
        func arguments(_ out: String) -> [String] {
            ["train", "--model", model, "--data", data, "--out", "\(folder)/\(out)", "--rank", "4", "--batch-size", "2",
             "--grad-accum", "3", "--max-length", "32", "--max-steps", "4", "--dropout", "0.1", "--threads", "1", "--train-on", "all"]
        }
        let single = try CLI.run(arguments("single"))
        #expect(single.status == 0, "\(single.stderr)")
        let pair = try Self.mpiRun(ranks: 2, arguments("pair"))
        #expect(pair.status == 0, "\(pair.stderr)")
        let read = { (name: String) in try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)/adapter_model.safetensors")) }
        #expect(try read("single") == read("pair"))
        // Rank 0 alone prints: one line per step, as one process prints them.
        #expect(pair.stdout.components(separatedBy: "saved").count == 2, "\(pair.stdout)")
    }

    /// Ranks that see different inputs refuse to train: here rank 1 is given other data (an MPMD launch).
    @Test func ranksWithDifferentInputsRefuse() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-mpi-refuse-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, word) in [("a", "alpha"), ("b", "beta")] {
            try (0..<6).map { "{\"text\": \"\(word) line \($0)\"}\n" }.joined().write(toFile: "\(folder)/\(name).jsonl", atomically: true, encoding: .utf8)
        }
        let model = CLI.packageRoot.appendingPathComponent("Tests/LatheModelsTests/Fixtures/tiny-llama/tiny-llama-F32.gguf").path
        let common = ["--model", model, "--out", "\(folder)/out", "--max-steps", "1", "--threads", "1"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.mpirun)
        process.arguments = ["--oversubscribe", "--allow-run-as-root", "--bind-to", "none",
                             "-np", "1", CLI.binary.path, "train", "--data", "\(folder)/a.jsonl"] + common
            + [":", "-np", "1", CLI.binary.path, "train", "--data", "\(folder)/b.jsonl"] + common
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0, "\(text)")
        #expect(text.contains("rank 1: its arguments and input hashes"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/out/adapter_model.safetensors"))
    }

    /// The whole recipe on two ranks: cleaning, training and evaluation shared, the same files as one process.
    @Test func twoRanksRunTheRecipeToTheSingleProcessAdapter() throws {
        let single = try Self.project("single", steps: 5, saveEvery: 2, evaluate: true)
        let pair = try Self.project("pair", steps: 5, saveEvery: 2, evaluate: true)
        defer { single.remove(); pair.remove() }
        let one = try CLI.run(["run", single.recipe])
        #expect(one.status == 0, "\(one.stderr)")
        let two = try Self.mpiRun(ranks: 2, ["run", pair.recipe])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(try Self.adapter(single) == Self.adapter(pair))
        let lineage = try String(contentsOfFile: "\(pair.run("mpi"))/lineage.json", encoding: .utf8)
        #expect(lineage.contains("\"ranks\" : 2") && lineage.contains("\"hosts\""), "lineage records the ranks and hosts")
        for suffix in ["cleaned.jsonl", "rejected.jsonl", "adapter/samples_tiny_ll.jsonl"] {
            #expect(try Self.stageFile(single, suffix) == Self.stageFile(pair, suffix), "\(suffix) differs")
        }
        // `lathe reproduce` of the two-rank run, on one process, gives its adapter bit for bit.
        let reproduced = try CLI.run(["reproduce", pair.run("mpi")])
        #expect(reproduced.status == 0 && reproduced.stdout.contains("identical"), "\(reproduced.stdout)\n\(reproduced.stderr)")
    }

    /// A fixture with every kind of decision over two inputs: kept records, exact and near duplicates (also across
    /// the inputs and across the ranks' halves of a batch), unreadable and empty lines, PII, a contaminated record.
    static func cleaningInputs(_ folder: String) throws -> (inputs: [String], evaluation: String) {
        let words = ["the", "pump", "and", "valve", "of", "station", "to", "pressure", "with", "gauge", "that", "crew", "is",
                     "shift", "in", "tank", "for", "line", "was", "meter", "on", "hall", "report", "north", "water", "cold",
                     "checked", "daily", "before", "noon", "team", "logged", "reading", "filter", "spare", "part"]
        func document(_ i: Int, changed: Bool = false) -> String {
            var state = UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15
            return (0..<60).map { j in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                if changed && j == 30 { return "replaced" }
                return words[Int(state >> 33) % words.count]
            }.joined(separator: " ") + "."
        }
        var first: [String] = [], second: [String] = []
        for i in 0..<40 {
            first.append("{\"text\": \"\(document(i))\", \"id\": \(i)}")
            if i % 6 == 0 { first.append("{\"text\": \"\(document(i))\", \"id\": \(i)}") }        // exact duplicate
            if i % 5 == 1 { second.append("{\"text\": \"\(document(i, changed: true))\"}") }       // near duplicate
        }
        first.insert("{\"text\": \"write to crew.lead@example.com about \(document(90))\"}", at: 7)
        first.insert("{not json", at: 11)
        first.insert("", at: 12)
        second += (40..<46).map { "{\"text\": \"\(document($0))\", \"id\": \($0)}" } + ["{\"text\": \"\(document(3))\", \"id\": 3}"]
        let paths = ["\(folder)/a.jsonl", "\(folder)/b.jsonl"]
        for (path, lines) in zip(paths, [first, second]) {
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        let evaluation = "\(folder)/eval.jsonl"
        try "{\"text\": \"\(document(42))\"}\n".write(toFile: evaluation, atomically: true, encoding: .utf8)
        return (paths, evaluation)
    }

    @Test func twoRanksCleanToTheSingleProcessFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-mpi-clean-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (inputs, evaluation) = try Self.cleaningInputs(folder)
        func arguments(_ out: String) -> [String] {
            ["clean"] + inputs + ["--out", "\(folder)/\(out)", "--decontaminate", evaluation, "--threads", "1", "--eval-fraction", "0.2"]
        }
        let single = try CLI.run(arguments("single"))
        #expect(single.status == 0, "\(single.stderr)")
        let pair = try Self.mpiRun(ranks: 2, arguments("pair"))
        #expect(pair.status == 0, "\(pair.stderr)")
        #expect(pair.stdout.contains("cleaned on 2 ranks"), "\(pair.stdout)")
        for name in ["cleaned.jsonl", "rejected.jsonl", "clean_report.json", "train.jsonl", "eval.jsonl"] {
            let one = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/single/\(name)"))
            let two = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/pair/\(name)"))
            #expect(one == two, "\(name) differs between one process and two ranks")
        }
        // The fixture exercises every global decision, so equality above is not the trivial kind.
        let rejected = try String(contentsOfFile: "\(folder)/pair/rejected.jsonl", encoding: .utf8)
        for reason in ["exact_duplicate", "near_duplicate", "contaminated", "invalid_json"] {
            #expect(rejected.contains("\"\(reason)\""), "no \(reason) in rejected.jsonl:\n\(rejected)")
        }
    }

    /// Multiple-choice, loglikelihood, generation (three documents: an uneven split) and rolling-loglikelihood tasks.
    @Test func twoRanksEvaluateToTheSingleProcessResults() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-mpi-eval-\(UUID())").path
        let fixtures = CLI.packageRoot.appendingPathComponent("Tests/LatheEvaluationTests/Fixtures").path
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(folder)/tasks", withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: folder) }
        try fm.copyItem(atPath: "\(fixtures)/fewshot", toPath: "\(folder)/fewshot")
        for name in ["lathe_out_mc", "lathe_out_ll", "lathe_out_gen"] {
            try fm.copyItem(atPath: "\(fixtures)/outputs/\(name).yaml", toPath: "\(folder)/tasks/\(name).yaml")
        }
        for name in ["lathe_ppl.yaml", "lathe_ppl.jsonl", "lathe_mc.jsonl"] { try fm.copyItem(atPath: "\(fixtures)/tasks/\(name)", toPath: "\(folder)/tasks/\(name)") }
        let model = CLI.packageRoot.appendingPathComponent("Tests/LatheModelsTests/Fixtures/tiny-llama/tiny-llama-F32.gguf").path
        func arguments(_ out: String) -> [String] {
            ["eval", "--model", model, "--tasks", "\(folder)/tasks", "--out", "\(folder)/\(out)", "--threads", "1"]
        }
        let single = try CLI.run(arguments("single"))
        #expect(single.status == 0, "\(single.stderr)")
        let pair = try Self.mpiRun(ranks: 2, arguments("pair"))
        #expect(pair.status == 0, "\(pair.stderr)")
        let samples = try fm.contentsOfDirectory(atPath: "\(folder)/single").filter { $0.hasPrefix("samples_") }.sorted()
        #expect(samples.count == 4, "\(samples)")
        for name in samples + ["table.md"] {
            let one = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/single/\(name)"))
            let two = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/pair/\(name)"))
            #expect(one == two, "\(name) differs between one process and two ranks")
        }
        // results.json equal but for the wall-clock keys.
        func results(_ run: String) throws -> Data {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(run)/results.json"))
            var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            for key in ["date", "total_evaluation_time_seconds"] { object[key] = nil }
            return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        }
        #expect(try results("single") == results("pair"))
        // Rank 0 alone prints the table.
        #expect(pair.stdout.components(separatedBy: "lathe_out_mc").count == single.stdout.components(separatedBy: "lathe_out_mc").count,
                "\(pair.stdout)")
    }

    /// The pid of the process whose environment holds both `marker` and OMPI_COMM_WORLD_RANK=`rank`.
    static func rankProcess(_ rank: Int, marker: String) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry), let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let variables = Set(environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
            if variables.contains(marker) && variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }

    @Test func aKilledRankEndsTheJobAndARerunResumesToTheSameAdapter() throws {
        let steps = 100
        let reference = try Self.project("reference", steps: steps, saveEvery: 1)
        let killed = try Self.project("killed", steps: steps, saveEvery: 1)
        defer { reference.remove(); killed.remove() }
        let whole = try CLI.run(["run", reference.recipe])
        #expect(whole.status == 0, "\(whole.stderr)")

        // The ranks inherit a variable unique to this job, by which the test finds rank 1 among the processes.
        let job = UUID().uuidString, marker = "LATHE_MPI_TEST=\(job)"
        let process = Self.launch(ranks: 2, ["run", killed.recipe])
        process.environment = ProcessInfo.processInfo.environment.merging(["LATHE_MPI_TEST": job]) { $1 }
        let log = try Self.outputFile("kill")
        defer { try? FileManager.default.removeItem(atPath: log.path) }
        process.standardOutput = log.handle
        process.standardError = log.handle
        try process.run()
        // Kill rank 1 once the job has written a few checkpoints.
        let checkpoints = "\(killed.run("mpi"))/checkpoints"
        func checkpointCount() -> Int {
            let folders = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []
            return folders.reduce(0) { sum, folder in
                sum + ((try? FileManager.default.contentsOfDirectory(atPath: "\(checkpoints)/\(folder)")) ?? []).filter { $0.hasSuffix(".safetensors.zst") }.count
            }
        }
        var victim: pid_t?
        for _ in 0..<600 where process.isRunning {
            if checkpointCount() >= 1, let pid = Self.rankProcess(1, marker: marker) { victim = pid; break }
            usleep(50_000)
        }
        let pid = try #require(victim, "rank 1 was not found while the job ran")
        kill(pid, SIGKILL)
        process.waitUntilExit()
        try log.handle.close()
        let output = String(decoding: FileManager.default.contents(atPath: log.path) ?? Data(), as: UTF8.self)
        #expect(process.terminationStatus != 0, "a job that lost a rank must fail:\n\(output)")
        #expect(output.contains("rank 0 of 2") || output.contains("exited on signal 9"), "the job says which rank ended it:\n\(output)")
        #expect(!output.contains("finished stage=train"), "the job was killed during training:\n\(output)")

        // Running again — on one process — resumes from the newest checkpoint and ends with the reference adapter.
        let rerun = try CLI.run(["run", killed.recipe])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("resumed"), "\(rerun.stdout)")
        #expect(try Self.adapter(killed) == Self.adapter(reference))
    }
}
