import Foundation

/// Runs a Python peer benchmark script with the interpreter in `$PYTHON` (default `python3`) and decodes the
/// one JSON object it prints last. Returns nil with a reason when the peer could not run (e.g. torch missing).
enum Peer {
    static var python: String { ProcessInfo.processInfo.environment["PYTHON"] ?? "python3" }

    static func run(script: String, arguments: [String]) -> (result: [String: Any]?, failure: String?) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["HF_HUB_OFFLINE"] = "1"
        environment["HF_DATASETS_OFFLINE"] = "1"
        environment["TRANSFORMERS_OFFLINE"] = "1"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return (nil, "could not start \(python): \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lastLine = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard process.terminationStatus == 0,
              let json = try? JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any] else {
            let tail = String(decoding: errors, as: UTF8.self).split(separator: "\n").suffix(2).joined(separator: " | ")
            return (nil, "\(python) \(script) failed (status \(process.terminationStatus)): \(tail)")
        }
        return (json, nil)
    }
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
