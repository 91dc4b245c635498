#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The weights of a Hugging Face model directory: `model.safetensors.index.json` with its shards, or a single
/// `model.safetensors` when there is no index.
///
/// Every shard is opened and validated up front; every name in `weight_map` must exist in the shard it points to,
/// and shard paths may not leave the directory (no absolute paths, no `..`, no symlinks pointing outside).
public final class ShardedSafetensors: TensorSource, Sendable {
    /// The directory.
    public let directory: String
    /// Tensor names: `weight_map` keys in index order, or the single file's names.
    public let tensorNames: [String]
    /// Open shards by file name (relative to `directory`).
    public let shards: [String: SafetensorsFile]
    private let shardOf: [String: String]

    /// Index file name Hugging Face uses for sharded checkpoints.
    public static let indexFileName = "model.safetensors.index.json"

    /// Opens the weights in `directory`.
    public init(directory: String) throws {
        self.directory = directory
        let indexPath = directory + "/" + Self.indexFileName
        if access(indexPath, F_OK) != 0 {
            let single = try SafetensorsFile(path: directory + "/model.safetensors")
            shards = ["model.safetensors": single]
            tensorNames = single.tensorNames
            shardOf = Dictionary(uniqueKeysWithValues: single.tensorNames.map { ($0, "model.safetensors") })
            return
        }
        let weightMap = try Self.readWeightMap(indexPath)
        let root = try Self.realPath(directory, for: indexPath)
        var shards: [String: SafetensorsFile] = [:]
        for shardName in Set(weightMap.values) {
            let shardPath = directory + "/" + shardName
            guard try Self.isInside(root: root, candidate: Self.realPath(shardPath, for: indexPath)) else {
                throw FormatError(.invalidValue, file: indexPath, "shard \"\(shardName)\" resolves outside the model directory",
                                  fix: "shards must be files inside the model directory")
            }
            shards[shardName] = try SafetensorsFile(path: shardPath)
        }
        for (i, name) in weightMap.keys.enumerated() {
            let shardName = weightMap.values[i]
            guard let shard = shards[shardName], (try? shard.info(name)) != nil else {
                throw FormatError(.notFound, file: indexPath, "weight_map puts \"\(name)\" in \(shardName), which has no such tensor",
                                  fix: "re-download the shards; the index and the shards do not match")
            }
        }
        self.shards = shards
        tensorNames = weightMap.keys
        shardOf = Dictionary(uniqueKeysWithValues: zip(weightMap.keys, weightMap.values))
    }

    /// Parses the index and checks each shard path is a plain relative path.
    private static func readWeightMap(_ indexPath: String) throws -> (keys: [String], values: [String]) {
        let mapped = try MappedBytes(path: indexPath)
        let json: JSONValue
        do {
            json = try JSONParser.parse(mapped.buffer)
        } catch {
            throw FormatError(error.duplicateKey == nil ? .badHeader : .duplicate, file: indexPath, offset: error.offset,
                              "line \(error.line), column \(error.column): \(error.message)",
                              fix: "fix or re-download the index file")
        }
        guard let map = json["weight_map"]?.objectValue else {
            throw FormatError(.badHeader, file: indexPath, "no \"weight_map\" object", fix: "fix or re-download the index file")
        }
        var values: [String] = []
        for (name, value) in zip(map.keys, map.values) {
            guard let shard = value.stringValue else {
                throw FormatError(.invalidValue, file: indexPath, "weight_map entry \"\(name)\" is not a file name",
                                  fix: "fix or re-download the index file")
            }
            let parts = shard.split(separator: "/", omittingEmptySubsequences: false)
            guard !shard.isEmpty, !shard.hasPrefix("/"), !parts.contains(".."), !parts.contains(""), !shard.contains("\0") else {
                throw FormatError(.invalidValue, file: indexPath, "shard path \"\(shard)\" for \"\(name)\" escapes the model directory",
                                  fix: "shard names must be relative paths inside the model directory")
            }
            values.append(shard)
        }
        return (map.keys, values)
    }

    private static func realPath(_ path: String, for file: String) throws -> String {
        guard let resolved = realpath(path, nil) else {
            throw FormatError(.io, file: file, "cannot resolve \(path): \(MappedBytes.errnoText())",
                              fix: "check that every shard listed in the index exists")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func isInside(root: String, candidate: String) -> Bool {
        candidate.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    private func shard(for name: String) throws -> SafetensorsFile {
        guard let shardName = shardOf[name], let file = shards[shardName] else {
            throw FormatError(.notFound, file: directory, "no tensor named \"\(name)\"", fix: "check the tensor name")
        }
        return file
    }

    /// The header entry for `name` in its shard.
    public func info(_ name: String) throws -> SafetensorsTensorInfo { try shard(for: name).info(name) }

    /// Row-major shape of `name`.
    public func shape(of name: String) throws -> [Int] { try shard(for: name).shape(of: name) }

    /// The dtype string, e.g. "BF16".
    public func storageType(of name: String) throws -> String { try shard(for: name).storageType(of: name) }

    /// The values of `name` converted to fp32.
    public func floats(_ name: String) throws -> [Float] { try shard(for: name).floats(name) }

    /// Converts `name` to fp32 into `out`, which must hold exactly its element count.
    public func floats(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        try shard(for: name).floats(name, into: out)
    }

    /// The 2-D F32, F16 or BF16 tensor `name` read in place from its shard.
    public func quantizedMatrix(_ name: String) throws -> QuantizedMatrix { try shard(for: name).quantizedMatrix(name) }
}
