import Foundation
import LatheCheckpoints
import LatheSupport

/// One stage of the plan: whether it runs, its cache key, where its output lives and whether that output exists.
public struct PlannedStage: Sendable {
    /// The stage.
    public let stage: StageName
    /// False when the recipe turns the stage off.
    public let enabled: Bool
    /// SHA-256 cache key (empty when disabled).
    public let key: String
    /// Output directory (empty when disabled).
    public let directory: String
    /// True when the output for this key already exists.
    public let cached: Bool
    /// Content hashes the key covers, by label.
    public let inputs: [String: String]
    /// The stage's resolved configuration as canonical JSON.
    public let config: String
}

/// The stage graph clean → tokenize → train → evaluate → export with keys chained: each stage's key covers the key
/// of the stage before it, so changing one stage's config re-runs it and everything after it, nothing before.
public struct StagePlan: Sendable {
    /// Stages in order.
    public let stages: [PlannedStage]

    /// The planned stage `name`.
    public func stage(_ name: StageName) -> PlannedStage? { stages.first { $0.stage == name } }
}

/// Builds the plan for a loaded recipe. The runner asks it for keys; `lathe explain` prints it.
public enum StagePlanner {
    struct CleanKeyMaterial: Encodable, Sendable { let format: DataFormat; let fields: [String: String]; let clean: CleanConfig; let seed: Int }
    /// `newTokens` (`train.new_tokens`, which the tokenizer gains) is left out when empty, so other keys stay as they were.
    struct TokenizeKeyMaterial: Encodable, Sendable {
        let format: DataFormat; let fields: [String: String]; let tokenize: TokenizeConfig; var newTokens: [String]? = nil
    }
    /// `evaluation` is the evaluate section when tasks run during training (`evaluate.every`), nil otherwise (then the
    /// key is the one it always was).
    struct TrainKeyMaterial: Encodable, Sendable { let train: TrainConfig; let seed: Int; var evaluation: EvaluateConfig? = nil }
    struct EvaluateKeyMaterial: Encodable, Sendable { let evaluate: EvaluateConfig; let seed: Int }
    struct ExportKeyMaterial: Encodable, Sendable { let export: ExportConfig }

    /// The plan for `loaded`, hashing its input files with `hasher`.
    public static func plan(_ loaded: LoadedRecipe, codeVersion: String, hasher: FileHasher = FileHasher()) throws -> StagePlan {
        let r = loaded.recipe
        let cache = StageCache(runDirectory: loaded.runDirectory)
        var data: [String: String] = [:]
        for (i, file) in loaded.dataFiles.enumerated() { data["data/\(i)"] = try hasher.hash(file) }
        let model = try hasher.hash(loaded.baseModelPath)
        var stages: [PlannedStage] = []
        var upstream = data

        func add<C: Encodable & Sendable>(_ stage: StageName, _ config: C, _ inputs: [String: String]) throws {
            guard stage.isEnabled(in: r) else {
                stages.append(PlannedStage(stage: stage, enabled: false, key: "", directory: "", cached: false, inputs: [:], config: "{}"))
                return
            }
            let material = StageKeyMaterial(stage: stage, inputs: inputs, config: config, codeVersion: codeVersion)
            let key = try material.key()
            stages.append(PlannedStage(stage: stage, enabled: true, key: key, directory: cache.directory(stage, key: key),
                                       cached: cache.isCached(stage, key: key), inputs: inputs,
                                       config: try CanonicalJSON.string(config)))
        }

        var clean = r.clean
        clean.memoryBudget = nil  // the outputs do not depend on it, so neither does the cache key
        try add(.clean, CleanKeyMaterial(format: r.data.format, fields: r.data.fields, clean: clean, seed: r.seed), data)
        if let clean = stages.last, clean.enabled { upstream = ["upstream:clean": clean.key] }
        try add(.tokenize, TokenizeKeyMaterial(format: r.data.format, fields: r.data.fields, tokenize: r.tokenize,
                                               newTokens: r.train.newTokens.isEmpty ? nil : r.train.newTokens),
                upstream.merging(["tokenizer": model]) { a, _ in a })
        let tokens = ["upstream:tokenize": stages.last!.key, "base_model": model]
        var trainInputs = tokens
        if r.evaluate.every > 0 {
            for (i, task) in loaded.taskPaths.enumerated() { trainInputs["task/\(i)"] = try hasher.hash(task) }
        }
        try add(.train, TrainKeyMaterial(train: r.train, seed: r.seed, evaluation: r.evaluate.every > 0 ? r.evaluate : nil), trainInputs)
        let adapter = stages.last!.key
        var evalInputs = ["upstream:train": adapter, "base_model": model]
        for (i, task) in loaded.taskPaths.enumerated() { evalInputs["task/\(i)"] = try hasher.hash(task) }
        try add(.evaluate, EvaluateKeyMaterial(evaluate: r.evaluate, seed: r.seed), evalInputs)
        try add(.export, ExportKeyMaterial(export: r.export), ["upstream:train": adapter, "base_model": model])
        return StagePlan(stages: stages)
    }
}

/// SHA-256 of files and directories, remembered per (path, size, modification time) within a process.
public final class FileHasher: @unchecked Sendable {
    // @unchecked: the memo is guarded by `lock`.
    private var memo: [String: (size: Int, mtime: Double, hash: String)] = [:]
    private let lock = NSLock()

    /// A hasher with an empty memo.
    public init() {}

    /// A path that is neither a regular file nor a directory: a device, pipe or socket (`/dev/zero` would be read
    /// forever). Lathe records and verifies only files and directories.
    public struct NotAFile: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "not a regular file or directory at \(path); a lineage record names only files and directories"
        }
    }

    /// The hex SHA-256 of a file, or for a directory the SHA-256 of "relative-path NUL file-hash LF" lines in name
    /// order. Throws `NotAFile` for anything else, also when a directory holds it.
    public func hash(_ path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CheckpointError.notFound(path: path) }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFDIR else { throw NotAFile(path: path) }
        if kind == S_IFDIR {
            var listing = ""
            for name in try files(under: path) { listing += "\(name)\u{0}\(try hash(path + "/" + name))\n" }
            return SHA256.hex(listing)
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
        let mtime = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
        lock.lock()
        let known = memo[path]
        lock.unlock()
        if let known, known.size == size, known.mtime == mtime { return known.hash }
        let digest = try SHA256.hex(fileAt: path)
        lock.lock()
        memo[path] = (size, mtime, digest)
        lock.unlock()
        return digest
    }

    /// The size in bytes of the file at `path`.
    static func size(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Regular files below `directory`, as sorted relative paths (hidden entries skipped).
    func files(under directory: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { throw CheckpointError.notFound(path: directory) }
        var names: [String] = []
        while let name = walker.nextObject() as? String {
            if name.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue {
                names.append(name)
            }
        }
        return names.sorted()
    }
}
