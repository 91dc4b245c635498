import Foundation
import LatheCheckpoints

/// Appends chained entries to a run's `lineage.json`; the runner calls `record` once per stage, cached or not.
public final class LineageRecorder {
    /// The run directory.
    public let runDirectory: String
    /// The record so far.
    public private(set) var lineage: Lineage
    private let hasher: FileHasher

    /// The path of `lineage.json` in `runDirectory`.
    public static func path(in runDirectory: String) -> String { runDirectory + "/lineage.json" }

    /// Starts a fresh record for `header` (an existing record of an earlier invocation is replaced: the chain
    /// describes one invocation of the recipe from the first stage).
    public init(runDirectory: String, header: LineageHeader, hasher: FileHasher = FileHasher()) throws {
        self.runDirectory = runDirectory
        self.hasher = hasher
        lineage = Lineage(header: header, entries: [], head: "")
        lineage.head = try lineage.tip()
    }

    /// Hashes `inputs` (files or directories) and the files under `outputDirectory` plus `outputs`, appends an entry
    /// and rewrites `lineage.json` durably. Returns the entry.
    @discardableResult
    public func record<Config: Encodable>(stage: StageName, key: String, cached: Bool, config: Config,
                                          inputs: [String], outputDirectory: String? = nil, outputs: [String] = [],
                                          counts: [String: Int] = [:], metrics: [String: Double] = [:]) throws -> LineageEntry {
        try record(stage: stage, key: key, cached: cached, configJSON: CanonicalJSON.string(config), inputs: inputs,
                   outputDirectory: outputDirectory, outputs: outputs, counts: counts, metrics: metrics)
    }

    /// `record` with the configuration already rendered as canonical JSON (as `PlannedStage.config` is).
    @discardableResult
    public func record(stage: StageName, key: String, cached: Bool, configJSON: String,
                       inputs: [String], outputDirectory: String? = nil, outputs: [String] = [],
                       counts: [String: Int] = [:], metrics: [String: Double] = [:]) throws -> LineageEntry {
        var outputFiles = outputs
        if let outputDirectory {
            outputFiles += try hasher.files(under: outputDirectory).map { outputDirectory + "/" + $0 }
        }
        let entry = LineageEntry(index: lineage.entries.count, stage: stage, key: key, cached: cached,
                                 config: configJSON,
                                 inputs: try records(inputs), outputs: try records(outputFiles),
                                 counts: counts, metrics: metrics, previous: try lineage.tip())
        lineage.entries.append(entry)
        lineage.head = try lineage.tip()
        try DurableFile.makeDirectories(runDirectory)
        try lineage.write(Self.path(in: runDirectory))
        return entry
    }

    private func records(_ paths: [String]) throws -> [FileRecord] {
        var out: [FileRecord] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                for name in try hasher.files(under: path) { out.append(try record(path + "/" + name)) }
            } else {
                out.append(try record(path))
            }
        }
        return out
    }

    private func record(_ path: String) throws -> FileRecord {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        return FileRecord(path: LineageVerifier.relative(path, to: runDirectory), sha256: try hasher.hash(path), bytes: size)
    }
}

/// One difference between a run directory and its `lineage.json`.
public struct LineageMismatch: Sendable, Equatable, CustomStringConvertible {
    /// The file, or "lineage.json" for chain problems.
    public let path: String
    /// What differs.
    public let problem: String

    public var description: String { "\(path): \(problem)" }
}

/// Re-hashes every file a lineage names and re-checks the chain (`lathe verify`).
public enum LineageVerifier {
    /// All mismatches found in `runDirectory` (empty when everything matches).
    public static func verify(runDirectory: String) throws -> [LineageMismatch] {
        let lineage = try Lineage.read(LineageRecorder.path(in: runDirectory))
        var problems: [LineageMismatch] = []
        var expected = SHA256.hex(try CanonicalJSON.string(lineage.header))
        for entry in lineage.entries {
            if entry.previous != expected {
                problems.append(LineageMismatch(path: "lineage.json", problem:
                    "entry \(entry.index) (\(entry.stage.rawValue)) does not chain to the one before it: an earlier entry or the header was edited"))
            }
            expected = SHA256.hex(try CanonicalJSON.string(entry))
        }
        if lineage.head != expected {
            problems.append(LineageMismatch(path: "lineage.json", problem: "head hash does not match the last entry: the record was edited"))
        }
        let hasher = FileHasher()
        var seen = Set<String>()
        for entry in lineage.entries {
            for file in entry.inputs + entry.outputs where seen.insert(file.path + file.sha256).inserted {
                let absolute = file.path.hasPrefix("/") ? file.path : runDirectory + "/" + file.path
                guard FileManager.default.fileExists(atPath: absolute) else {
                    problems.append(LineageMismatch(path: file.path, problem: "missing (recorded by stage \(entry.stage.rawValue))"))
                    continue
                }
                let actual = try hasher.hash(absolute)
                if actual != file.sha256 {
                    problems.append(LineageMismatch(path: file.path, problem:
                        "content changed: SHA-256 is \(actual), stage \(entry.stage.rawValue) recorded \(file.sha256)"))
                }
            }
        }
        return problems
    }

    /// `path` relative to `directory` when inside it, else unchanged.
    static func relative(_ path: String, to directory: String) -> String {
        let base = RunPaths.normalize(directory) + "/"
        let full = RunPaths.normalize(path)
        return full.hasPrefix(base) ? String(full.dropFirst(base.count)) : full
    }
}
