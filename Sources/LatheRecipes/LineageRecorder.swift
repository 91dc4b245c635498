import Foundation
import LatheCheckpoints
import LatheSupport

/// Appends chained entries to a run's `lineage.json`; the runner calls `record` once per stage, cached or not.
public final class LineageRecorder {
    /// The run directory.
    public let runDirectory: String
    /// The project root (the folder holding `Checkpoints/`) that project files are recorded relative to.
    public let projectRoot: String
    /// The record so far.
    public private(set) var lineage: Lineage
    private let hasher: FileHasher

    /// The path of `lineage.json` in `runDirectory`.
    public static func path(in runDirectory: String) -> String { runDirectory + "/lineage.json" }

    /// Starts a fresh record for `header` (an existing record of an earlier invocation is replaced: the chain
    /// describes one invocation of the recipe from the first stage).
    public init(runDirectory: String, header: LineageHeader, hasher: FileHasher = FileHasher()) throws {
        self.runDirectory = RunPaths.normalize(runDirectory)
        projectRoot = header.projectRoot(of: self.runDirectory) ?? self.runDirectory
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
        try FileRecord(hashing: path, runDirectory: runDirectory, projectRoot: projectRoot, hasher: hasher)
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

/// A file recorded outside the project that is not at its recorded path on this machine, so it was not checked.
public struct UnlocatedFile: Sendable, Equatable, CustomStringConvertible {
    /// The record (absolute path, hash, size).
    public let record: FileRecord
    /// Who recorded it ("stage tokenize", "the header (base model)").
    public let recordedBy: String

    public var description: String {
        "\(record.path): not found at recorded path; identified by sha256 \(record.sha256) "
            + "(\(record.name), \(record.bytes) bytes, recorded by \(recordedBy)); put the file there to check it"
    }
}

/// What `lathe verify` found: the chain and every recorded file it could locate, checked by hash.
public struct LineageCheck: Sendable, Equatable {
    /// Chain breaks, changed files and missing files of the run or project.
    public var mismatches: [LineageMismatch]
    /// Files outside the project that are not on this machine (identified by hash, not checked).
    public var unlocated: [UnlocatedFile]
    /// Distinct files hashed and found to match.
    public var matched: Int
}

/// Re-hashes every file a lineage names and re-checks the chain (`lathe verify`). Paths are resolved against the
/// run directory as it is now, so a project copied elsewhere (same layout below its root) verifies.
public enum LineageVerifier {
    /// All mismatches found in `runDirectory` (empty when everything that could be located matches).
    public static func verify(runDirectory: String) throws -> [LineageMismatch] {
        try check(runDirectory: runDirectory).mismatches
    }

    /// The chain, then every recorded file: hashed where found, reported as unlocated when recorded outside the
    /// project and absent, a mismatch when inside the run or project and absent or changed.
    public static func check(runDirectory: String) throws -> LineageCheck {
        let run = RecipeLoader.absolutePath(runDirectory, base: FileManager.default.currentDirectoryPath)
        let lineage = try Lineage.read(LineageRecorder.path(in: run))
        var result = LineageCheck(mismatches: try chainProblems(lineage), unlocated: [], matched: 0)
        let projectRoot = lineage.header.projectRoot(of: run)
        var files: [(FileRecord, String)] = lineage.header.baseModel.map { [($0, "the header (base model)")] } ?? []
        for entry in lineage.entries {
            files += (entry.inputs + entry.outputs).map { ($0, "stage \(entry.stage.rawValue)") }
        }
        let hasher = FileHasher()
        var seen = Set<String>()
        for (file, recordedBy) in files where seen.insert("\(file.anchor?.rawValue ?? "")|\(file.path)|\(file.sha256)").inserted {
            let path = file.expectedPath(runDirectory: run, projectRoot: projectRoot)
            guard FileManager.default.fileExists(atPath: path) else {
                if file.anchor == .absolute {
                    result.unlocated.append(UnlocatedFile(record: file, recordedBy: recordedBy))
                } else {
                    result.mismatches.append(LineageMismatch(path: file.path, problem: "missing: not at \(path) (recorded by \(recordedBy))"))
                }
                continue
            }
            if holdsRun(path, run) {   // `/`, the project root: hashing it would walk the run itself, or the whole disk
                result.mismatches.append(LineageMismatch(path: file.path, problem:
                    "names \(path), which holds the run directory itself; a lineage records only a run's inputs and outputs (recorded by \(recordedBy))"))
                continue
            }
            let actual: String
            do { actual = try hasher.hash(path) } catch let notAFile as FileHasher.NotAFile {
                result.mismatches.append(LineageMismatch(path: file.path, problem: "\(notAFile) (recorded by \(recordedBy))"))
                continue
            }
            if actual == file.sha256 {
                result.matched += 1
            } else {
                result.mismatches.append(LineageMismatch(path: file.path, problem:
                    "content changed: SHA-256 is \(actual), \(recordedBy) recorded \(file.sha256)"))
            }
        }
        return result
    }

    /// True when the directory `path` is `run` or one of its ancestors, symbolic links resolved.
    static func holdsRun(_ path: String, _ run: String) -> Bool {
        guard let holder = realpath(path, nil), let runPath = realpath(run, nil) else { return false }
        defer { free(holder); free(runPath) }
        let (outer, inner) = (String(cString: holder), String(cString: runPath))
        return inner == outer || inner.hasPrefix(outer.hasSuffix("/") ? outer : outer + "/")
    }

    /// Breaks in the hash chain from the header through every entry to `head`.
    static func chainProblems(_ lineage: Lineage) throws -> [LineageMismatch] {
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
        return problems
    }
}
