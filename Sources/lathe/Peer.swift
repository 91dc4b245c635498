import Foundation
import LatheFormats
import LatheTensors

/// The Python peers of `lathe bench`: each is a script in `Scripts/bench/` (see its README), run with the
/// interpreter in `$PYTHON` (default `python3`), offline, and prints one JSON object as its last line of
/// standard output — the measurement, or `{"error": "..."}` when it cannot run (a package missing).
enum Peer {
    /// The interpreter: `$PYTHON`, else `python3` from the PATH.
    static var python: String { ProcessInfo.processInfo.environment["PYTHON"] ?? "python3" }

    /// Runs `Scripts/bench/<script>` with `arguments` (and `environment` added to this process's) and decodes
    /// its result. Returns nil with the reason when the peer did not run or printed no result.
    static func run(script: String, arguments: [String],
                    environment extra: [String: String] = [:]) -> (result: JSONValue?, failure: String?) {
        guard let path = locate(script) else {
            return (nil, "Scripts/bench/\(script) not found; run lathe bench from the repository root")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, path] + arguments
        var environment = ProcessInfo.processInfo.environment
        for key in ["HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"] { environment[key] = "1" }
        for key in BLASCore.variablesSet { environment[key] = nil }   // the peer's libraries choose their own kernels
        environment.merge(extra) { _, new in new }
        process.environment = environment
        // Standard error goes to a file: a peer that logs a lot (datatrove) would otherwise fill the pipe and
        // block while this process waits on standard output.
        let errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-peer-\(getpid())-\(script).err")
        defer { try? FileManager.default.removeItem(at: errorLog) }
        guard FileManager.default.createFile(atPath: errorLog.path, contents: nil),
              let errors = FileHandle(forWritingAtPath: errorLog.path) else {
            return (nil, "cannot create \(errorLog.path)")
        }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errors
        do { try process.run() } catch { return (nil, "could not start \(python): \(error.localizedDescription)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? errors.close()
        let lastLine = String(decoding: data, as: UTF8.self).split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
        let json = (try? JSONValue.parse(Array(lastLine.utf8))).flatMap { $0.objectValue == nil ? nil : $0 }
        if let reason = json?["error"]?.stringValue { return (nil, "\(reason) (set PYTHON to an interpreter that has it)") }
        guard process.terminationStatus == 0, let json else {
            let log = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(2).joined(separator: " | ")
            return (nil, "\(python) \(path) failed (status \(process.terminationStatus)): \(tail)")
        }
        return (json, nil)
    }

    /// llama.cpp's single-stream greedy decode (`generate_peer.py`, llama-cpp-python) of `tokens` tokens after
    /// `promptIds` on the GGUF `model` with `threads` threads, prefill excluded: what `bench generate` and
    /// `bench serve` set beside Lathe's decode. Nil with the reason when it did not run.
    static func llamaCppDecode(model: String, promptIds: [Int32], tokens: Int,
                               threads: Int) -> (decode: LlamaCppDecode?, failure: String?) {
        let peer = run(script: "generate_peer.py", arguments: [model, "--prompt-ids", promptIds.map(String.init).joined(separator: ","),
                                                              "--tokens", "\(tokens)", "--threads", "\(threads)"])
        guard let result = peer.result, let rate = result["decode_tokens_per_s"]?.doubleValue else {
            return (nil, peer.failure ?? "generate_peer.py printed no decode_tokens_per_s")
        }
        let first = result["first_tokens"]?.arrayValue?.compactMap { $0.doubleValue.map { Int32($0) } } ?? []
        return (LlamaCppDecode(tokensPerSecond: rate, version: result["llama_cpp"]?.scalarText ?? "?", firstTokens: first), nil)
    }

    /// `Scripts/bench/<script>` under the working directory, else under the checkout that holds this binary
    /// (`.build/<configuration>/lathe`).
    static func locate(_ script: String) -> String? {
        let relative = "Scripts/bench/\(script)"
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var directory = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).standardizedFileURL.deletingLastPathComponent()
        for _ in 0..<4 {
            directory = directory.deletingLastPathComponent()
            candidates.append(directory)
        }
        return candidates.map { $0.appendingPathComponent(relative).path }.first { FileManager.default.fileExists(atPath: $0) }
    }
}

/// One llama.cpp decode measurement: its rate, the llama-cpp-python version, and its first greedy token ids.
struct LlamaCppDecode {
    let tokensPerSecond: Double
    let version: String
    let firstTokens: [Int32]
}

/// Resets the peak resident set size (`VmHWM`) to the current size, so the next reading measures what follows and
/// two measurements in one process each report their own peak (Linux: writing 5 to /proc/self/clear_refs). Does
/// nothing where unavailable.
func resetPeakResident() {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
    try? handle.write(contentsOf: Data("5".utf8))
    try? handle.close()
}

/// Peak resident set size of this process in bytes (Linux `VmHWM`), or nil where unavailable.
func peakResidentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        return kilobytes.map { $0 * 1024 }
    }
    return nil
}
