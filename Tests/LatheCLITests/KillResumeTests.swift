import Foundation
import Testing

/// A training run killed with SIGKILL at random moments (some during checkpoint writes, since every step writes
/// one) and restarted until it finishes ends with the same adapter, bit for bit, as a run never interrupted.
@Suite struct KillResumeTests {
    func project(_ name: String) throws -> String {
        let texts = (0..<40).map { "Sample \($0): valve \($0 * 3) opens at \($0 + 10) bar in plant \($0 % 5)." }
        // Short text records: instruction rules, no MinHash (the defaults before `auto`).
        return try TinyProject(label: "kill-\(name)", model: "tiny-qwen2/tiny-qwen2-F32.gguf", texts: texts, name: "kill", seed: 5,
                               sections: TinyProject.sections(maxLength: 64, train: [
                                   "lora: {rank: 4, alpha: 8, dropout: 0.1}", "micro_batch_size: 4", "gradient_accumulation: 2",
                                   "max_steps: 600"] + TinyProject.checkpointEveryStep)).root
    }

    func adapterBytes(_ root: String) throws -> Data {
        let run = "\(root)/Checkpoints/kill"
        let path = try #require(try FileManager.default.subpathsOfDirectory(atPath: run)
            .first { $0.hasPrefix("stages/export-") && $0.hasSuffix("peft/adapter_model.safetensors") })
        return try Data(contentsOf: URL(fileURLWithPath: "\(run)/\(path)"))
    }

    /// (step, loss) of every step line in the run's training_log.jsonl.
    func loggedLosses(_ root: String) throws -> [(step: Int, loss: Double)] {
        let run = "\(root)/Checkpoints/kill"
        let path = try #require(try FileManager.default.subpathsOfDirectory(atPath: run)
            .first { $0.hasPrefix("stages/train-") && $0.hasSuffix("training_log.jsonl") })
        return try String(contentsOfFile: "\(run)/\(path)", encoding: .utf8).split(separator: "\n").compactMap { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            guard let step = object?["step"] as? Int, let loss = (object?["loss"] as? NSNumber)?.doubleValue else { return nil }
            return (step, loss)
        }
    }

    @Test func killedRunsResumeToTheSameAdapter() throws {
        let reference = try project("reference")
        let interrupted = try project("interrupted")
        defer {
            try? FileManager.default.removeItem(atPath: reference)
            try? FileManager.default.removeItem(atPath: interrupted)
        }
        let started = Date()
        let whole = try CLI.run(["run", "\(reference)/Recipes/kill.yaml"])
        #expect(whole.status == 0, "\(whole.stderr)")
        // Kill moments scale with how long a whole run takes on this machine now, so kills land under any load.
        let wholeMicroseconds = max(5_000_000, Date().timeIntervalSince(started) * 1e6)
        let earliest = UInt32(0.02 * wholeMicroseconds), latest = UInt32(0.06 * wholeMicroseconds)

        var random = SystemRandomNumberGenerator()
        var kills = 0, resumes = 0, attempts = 0
        while attempts < 40 {
            attempts += 1
            let process = Process()
            process.executableURL = CLI.binary
            process.arguments = ["run", "\(interrupted)/Recipes/kill.yaml"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let outputReader = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }
            if kills < 10 {
                usleep(UInt32.random(in: earliest...latest, using: &random))
                if process.isRunning { kill(process.processIdentifier, SIGKILL); kills += 1 }
            }
            process.waitUntilExit()
            let text = String(decoding: await_(outputReader), as: UTF8.self)
            if text.contains("resumed") { resumes += 1 }
            if process.terminationReason == .exit && process.terminationStatus == 0 { break }
        }
        #expect(kills >= 10, "only \(kills) kills landed")
        #expect(resumes >= 1, "no run resumed from a checkpoint")
        #expect(try adapterBytes(interrupted) == adapterBytes(reference), "after \(kills) kills and \(resumes) resumes")
        // The training log of the interrupted run is whole: every step once, in order, with the reference's losses.
        let (logged, expected) = (try loggedLosses(interrupted), try loggedLosses(reference))
        #expect(logged.map(\.step) == Array(1...600))
        #expect(logged.map(\.loss) == expected.map(\.loss))
    }
}

extension KillResumeTests {
    /// A damaged newest checkpoint is detected by its checksum, reported, and the previous one is used; the run
    /// still ends with the reference adapter.
    @Test func corruptNewestCheckpointFallsBackToThePreviousOne() throws {
        let root = try project("corrupt")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let checkpoints = "\(root)/Checkpoints/kill/checkpoints"
        func steps() -> [String] {
            let folders = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []
            return folders.flatMap { folder in
                ((try? FileManager.default.contentsOfDirectory(atPath: "\(checkpoints)/\(folder)")) ?? [])
                    .filter { $0.hasSuffix(".safetensors.zst") }.map { "\(checkpoints)/\(folder)/\($0)" }
            }
        }
        var attempts = 0
        while steps().count < 2 && attempts < 20 {
            attempts += 1
            let process = Process()
            process.executableURL = CLI.binary
            process.arguments = ["run", "\(root)/Recipes/kill.yaml"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(400_000 * attempts))    // longer each time, so a loaded machine still gets to a checkpoint
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let files = steps()
        try #require(files.count >= 2, "no two checkpoints were written")
        let step = { (path: String) in Int(path.split(separator: "-").last!.split(separator: ".").first!)! }
        let newest = files.max { step($0) < step($1) }!
        var bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
        bytes[bytes.count / 2] ^= 0x5A
        try bytes.write(to: URL(fileURLWithPath: newest))
        let result = try CLI.run(["run", "\(root)/Recipes/kill.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        let resumed = result.stdout.split(separator: "\n").first { $0.hasPrefix("resumed") }.map(String.init) ?? ""
        #expect(resumed.contains("step \(step(newest))"), "the damaged step-\(step(newest)) must be reported: \(resumed)")
        #expect(!resumed.contains("step=\(step(newest))"), "resume must not use the damaged checkpoint: \(resumed)")
    }
}

/// Waits for a detached task's result from synchronous test code.
func await_<T: Sendable>(_ task: Task<T, Never>) -> T {
    let semaphore = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    Task.detached { box.value = await task.value; semaphore.signal() }
    semaphore.wait()
    return box.value!
}

final class ResultBox<T>: @unchecked Sendable { var value: T? }
