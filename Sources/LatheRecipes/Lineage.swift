import Foundation
import LatheCheckpoints
import LatheFormats
import LatheSupport

/// What a recorded path is relative to. Records of format 1 have none: their paths are relative to the run
/// directory, or absolute.
public enum PathAnchor: String, Codable, Sendable {
    /// Inside the run directory (stage outputs): relative to it.
    case runDirectory = "run_directory"
    /// Inside the project (data, recipe, evaluation tasks, a base model under Checkpoints/base): relative to the
    /// project root, the folder that holds `Checkpoints/`.
    case projectRoot = "project_root"
    /// Outside the project (e.g. a shared `/models/x.gguf`): the absolute path as given; the hash is its identity.
    case absolute
}

/// A file and its content hash as recorded in `lineage.json`. The hash is the file's identity; the path says where
/// it was, relative to the run directory or the project root so that a project copied elsewhere still verifies.
public struct FileRecord: Codable, Sendable, Equatable {
    /// Relative to `anchor`'s directory (absolute for `.absolute`).
    public var path: String
    /// Lowercase hex SHA-256 of the content.
    public var sha256: String
    /// Size in bytes.
    public var bytes: Int
    /// What `path` is relative to; nil in records of format 1 (run directory when relative, else absolute).
    public var anchor: PathAnchor?

    /// A record with the given fields.
    public init(path: String, sha256: String, bytes: Int, anchor: PathAnchor? = nil) {
        self.path = path
        self.sha256 = sha256
        self.bytes = bytes
        self.anchor = anchor
    }

    /// The record of the file at `path` for the run in `runDirectory`: located as `locate` says, hashed with `hasher`.
    public init(hashing path: String, runDirectory: String, projectRoot: String, hasher: FileHasher) throws {
        let (recorded, anchor) = Self.locate(path, runDirectory: runDirectory, projectRoot: projectRoot)
        self.init(path: recorded, sha256: try hasher.hash(path), bytes: try FileHasher.size(path), anchor: anchor)
    }

    /// The path and anchor `lineage.json` records for the absolute file `path` of a run.
    public static func locate(_ path: String, runDirectory: String, projectRoot: String) -> (path: String, anchor: PathAnchor) {
        if let inRun = RunPaths.relative(path, to: runDirectory) { return (inRun, .runDirectory) }
        if let inProject = RunPaths.relative(path, to: projectRoot) { return (inProject, .projectRoot) }
        return (RunPaths.normalize(path), .absolute)
    }

    /// Where the file is expected now, for a run directory (and its project root) wherever they have been copied.
    public func expectedPath(runDirectory: String, projectRoot: String?) -> String {
        switch anchor {
        case .projectRoot: return RunPaths.normalize((projectRoot ?? runDirectory) + "/" + path)
        case .absolute: return path
        case .runDirectory, nil: return path.hasPrefix("/") ? path : RunPaths.normalize(runDirectory + "/" + path)
        }
    }

    /// The file's name (last path component), which with the hash identifies a file recorded outside the project.
    public var name: String { String(path.split(separator: "/").last ?? Substring(path)) }

    enum CodingKeys: String, CodingKey { case path, sha256, bytes, anchor = "relative_to" }
}

/// Where and with what the run was made. Library versions the recipes module cannot link (OpenBLAS) are given by the caller.
public struct LineageEnvironment: Codable, Sendable, Equatable {
    /// Git commit and dirty flag of the code.
    public var codeVersion: CodeVersion
    /// The Swift compiler the code was built with.
    public var swiftVersion: String
    /// `openblas_get_config()` as reported by the caller, or "unknown".
    public var openblasVersion: String
    /// The linked libzstd version.
    public var zstdVersion: String
    /// The machine's host name.
    public var host: String
    /// Worker threads of the training loop.
    public var threads: Int
    /// Threads OpenBLAS was told to use.
    public var blasThreads: Int
    /// Processes (MPI ranks) that trained; nil in records written before multi-process runs. `threads` is per rank.
    public var ranks: Int?
    /// The distinct hosts of the job's ranks, in rank order; nil in records written before multi-process runs.
    public var hosts: [String]?

    /// An environment; `zstdVersion`, `swiftVersion` and `host` default to this process's.
    public init(codeVersion: CodeVersion, openblasVersion: String = "unknown", threads: Int, blasThreads: Int,
                swiftVersion: String = LineageEnvironment.compilerVersion, zstdVersion: String = Zstd.version,
                host: String = LineageEnvironment.hostName, ranks: Int = 1, hosts: [String]? = nil) {
        self.codeVersion = codeVersion
        self.swiftVersion = swiftVersion
        self.openblasVersion = openblasVersion
        self.zstdVersion = zstdVersion
        self.host = host
        self.threads = threads
        self.blasThreads = blasThreads
        self.ranks = ranks
        self.hosts = hosts ?? [host]
    }

    /// The compiler version, from compile-time checks.
    public static var compilerVersion: String {
        #if compiler(>=6.3)
        return "6.3 or later"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    /// This machine's host name.
    public static var hostName: String { ProcessInfo.processInfo.hostName }

    enum CodingKeys: String, CodingKey {
        case host, threads, ranks, hosts
        case codeVersion = "code_version", swiftVersion = "swift_version", openblasVersion = "openblas_version"
        case zstdVersion = "zstd_version", blasThreads = "blas_threads"
    }
}

/// What a run is: recipe, base model, seed and environment. Its canonical JSON hash anchors the entry chain.
public struct LineageHeader: Codable, Sendable, Equatable {
    /// Format version of `lineage.json`: 2 records paths relative to the run directory or project root (1: absolute).
    public var formatVersion = 2
    /// Run name.
    public var run: String
    /// The recipe file, relative to the project root when inside it (format 1: as given on the command line).
    public var recipeFile: String
    /// The run directory relative to the project root (e.g. `Checkpoints/quickstart`); nil in format 1.
    public var runDirectory: String?
    /// The base model file and its hash, located like every other input; nil in format 1 or when it was absent.
    public var baseModel: FileRecord?
    /// SHA-256 of the resolved recipe's canonical JSON.
    public var recipeSHA256: String
    /// The resolved recipe as canonical JSON.
    public var recipe: String
    /// Seed.
    public var seed: Int
    /// Versions, host and threads.
    public var environment: LineageEnvironment

    /// A header for `loaded` in `environment`; the base model is hashed with `hasher` when it exists.
    public init(_ loaded: LoadedRecipe, environment: LineageEnvironment, hasher: FileHasher = FileHasher()) throws {
        run = loaded.recipe.name
        recipeFile = loaded.recordedPath(loaded.file)
        runDirectory = RunPaths.relative(loaded.runDirectory, to: loaded.projectRoot)
        if FileManager.default.fileExists(atPath: loaded.baseModelPath) {
            baseModel = try FileRecord(hashing: loaded.baseModelPath, runDirectory: loaded.runDirectory,
                                       projectRoot: loaded.projectRoot, hasher: hasher)
        }
        recipe = try loaded.canonicalJSON()
        recipeSHA256 = SHA256.hex(recipe)
        seed = loaded.recipe.seed
        self.environment = environment
    }

    /// The project root of `runDirectory` (this record's run, wherever it now lies): the run directory with as many
    /// trailing components removed as `runDirectory` records; nil in format 1.
    public func projectRoot(of runDirectory: String) -> String? {
        guard let recorded = self.runDirectory else { return nil }
        let depth = recorded.split(separator: "/").count   // a count: no string as long as the record's is built
        let run = RunPaths.normalize(runDirectory)
        let parts = run.split(separator: "/")
        return (run.hasPrefix("/") ? "/" : "") + parts.dropLast(min(depth, parts.count)).joined(separator: "/")
    }

    enum CodingKeys: String, CodingKey {
        case run, recipe, seed, environment
        case formatVersion = "format_version", recipeFile = "recipe_file", recipeSHA256 = "recipe_sha256"
        case runDirectory = "run_directory", baseModel = "base_model"
    }
}

/// One stage execution (or cache hit). `previous` is the SHA-256 of the previous entry's canonical JSON (of the
/// header for the first entry), so editing any earlier entry breaks every later link.
public struct LineageEntry: Codable, Sendable, Equatable {
    /// Position in the chain, from 0.
    public var index: Int
    /// The stage.
    public var stage: StageName
    /// Its cache key.
    public var key: String
    /// True when the output came from the cache.
    public var cached: Bool
    /// The stage's resolved configuration as canonical JSON.
    public var config: String
    /// Input files and their hashes.
    public var inputs: [FileRecord]
    /// Output files and their hashes.
    public var outputs: [FileRecord]
    /// Counts reported by the stage (records kept, dropped per reason, tokens, steps).
    public var counts: [String: Int]
    /// Metrics reported by the stage (losses, eval scores).
    public var metrics: [String: Double]
    /// SHA-256 of the previous entry's (or the header's) canonical JSON.
    public var previous: String

    enum CodingKeys: String, CodingKey { case index, stage, key, cached, config, inputs, outputs, counts, metrics, previous }
}

/// The content of `Checkpoints/<run>/lineage.json`.
public struct Lineage: Codable, Sendable, Equatable {
    /// The run.
    public var header: LineageHeader
    /// Stage entries, chained.
    public var entries: [LineageEntry]
    /// SHA-256 of the last entry's canonical JSON (of the header when there is none).
    public var head: String

    /// The hash the next entry's `previous` must hold.
    public func tip() throws -> String {
        if let last = entries.last { return SHA256.hex(try CanonicalJSON.string(last)) }
        return SHA256.hex(try CanonicalJSON.string(header))
    }

    /// Reads `lineage.json`.
    public static func read(_ path: String) throws -> Lineage {
        let bytes: [UInt8]
        do { bytes = try DurableFile.read(path, limit: 1 << 28, bound: "the 256 MiB cap on a lineage record (Lineage.read)") } catch CheckpointError.notFound {
            throw RecipeError.run(path: path, message: "no lineage record; pass a run directory that `lathe run` finished (e.g. Checkpoints/quickstart)")
        }
        do { return try JSONNode.parse(bytes, file: path).decode(Lineage.self) } catch {
            throw RecipeError.run(path: path, message: "not a valid lineage record (\(error)); restore it from a backup or re-run the recipe")
        }
    }

    /// Writes `lineage.json` durably (pretty-printed with sorted keys, so diffs are readable).
    public func write(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try DurableFile.write(Array(try encoder.encode(self)), to: path)
    }
}
