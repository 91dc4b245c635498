import Foundation
import LatheCheckpoints
import LatheSupport

/// The stages of a run, in order. Each is optional; a disabled stage is skipped and its successor reads its input.
public enum StageName: String, CaseIterable, Codable, Sendable {
    case clean, tokenize, train, evaluate, export

    /// Whether `recipe` runs this stage.
    public func isEnabled(in recipe: Recipe) -> Bool {
        switch self {
        case .clean: return recipe.clean.enabled
        case .tokenize, .train: return true
        case .evaluate: return recipe.evaluate.enabled && !recipe.evaluate.tasks.isEmpty
        case .export: return !recipe.export.formats.isEmpty
        }
    }
}

/// What a stage's cache key is the hash of.
public struct StageKeyMaterial<Config: Encodable & Sendable>: Encodable, Sendable {
    /// The stage.
    public let stage: StageName
    /// Content hashes of the inputs by label (`data/0`, `base_model`, `upstream:clean`, ...).
    public let inputs: [String: String]
    /// The stage's resolved configuration.
    public let config: Config
    /// The code version string (git commit and dirty flag).
    public let codeVersion: String

    /// Material for `stage`.
    public init(stage: StageName, inputs: [String: String], config: Config, codeVersion: String) {
        self.stage = stage
        self.inputs = inputs
        self.config = config
        self.codeVersion = codeVersion
    }

    /// SHA-256 (hex) of the canonical JSON of this material.
    public func key() throws -> String { SHA256.hex(try CanonicalJSON.string(self)) }

    enum CodingKeys: String, CodingKey { case stage, inputs, config, codeVersion = "code_version" }
}

/// Content-addressed stage outputs: `<run>/stages/<stage>-<first 16 hex digits of the key>/`, written to a temporary
/// directory and renamed into place, so a directory that exists is complete.
public struct StageCache: Sendable {
    /// Whether a stage's output was found or produced.
    public enum Outcome: String, Sendable { case hit, miss }

    /// The run directory.
    public let runDirectory: String

    /// A cache inside `runDirectory`.
    public init(runDirectory: String) { self.runDirectory = runDirectory }

    /// The output directory of `stage` for `key`.
    public func directory(_ stage: StageName, key: String) -> String {
        "\(runDirectory)/stages/\(stage.rawValue)-\(key.prefix(16))"
    }

    /// True when the output of `stage` for `key` exists.
    public func isCached(_ stage: StageName, key: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory(stage, key: key), isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Returns the cached directory (`hit`), or runs `body` on an empty temporary directory and renames it into
    /// place (`miss`). A failed `body` leaves nothing behind.
    public func produce(_ stage: StageName, key: String, _ body: (String) throws -> Void) throws -> (directory: String, outcome: Outcome) {
        let final = directory(stage, key: key)
        if isCached(stage, key: key) { return (final, .hit) }
        let stages = "\(runDirectory)/stages"
        try DurableFile.makeDirectories(stages)
        let temporary = "\(stages)/.tmp-\(stage.rawValue)-\(key.prefix(16))-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try DurableFile.makeDirectories(temporary)
        do {
            try body(temporary)
            try DurableFile.syncDirectory(temporary)
            if rename(temporary, final) != 0 {
                let error = errno
                try? FileManager.default.removeItem(atPath: temporary)
                // Another process finished the same stage first: its output is as good as ours.
                if isCached(stage, key: key) { return (final, .hit) }
                throw CheckpointError.io(path: final, reason: "cannot rename the stage output into place: \(String(cString: strerror(error)))")
            }
            try DurableFile.syncDirectory(stages)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        return (final, .miss)
    }

    /// Removes leftover temporary directories of interrupted stages.
    public func removeTemporaries() {
        let stages = "\(runDirectory)/stages"
        for name in DurableFile.list(stages) where name.hasPrefix(".tmp-") {
            try? FileManager.default.removeItem(atPath: "\(stages)/\(name)")
        }
    }
}
