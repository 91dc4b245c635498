#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import LatheFormats

/// A problem found with one checkpoint file while looking for one to resume from.
public struct CheckpointProblem: Sendable, Equatable, CustomStringConvertible {
    /// The step the file name claims.
    public let step: Int
    /// What is wrong with it.
    public let error: CheckpointError

    public var description: String { "step \(step): \(error)" }
}

/// A directory of `step-N.safetensors.zst` checkpoints: atomic saves, pruning to the last K plus the best,
/// and resumption from the newest file that verifies.
public struct CheckpointStore: Sendable {
    /// The directory holding the checkpoints.
    public let directory: String
    /// How many of the newest checkpoints to keep (at least 1).
    public let keepLast: Int
    /// When true a smaller metric is better (a loss); when false a larger one is (an accuracy).
    public let lowerMetricIsBetter: Bool
    /// Hard cap on one checkpoint's decompressed size, whatever its header announces.
    public let maxDecompressedBytes: Int

    /// The store's cap, as errors name it.
    private var capName: String {
        "CheckpointStore.maxDecompressedBytes (\(maxDecompressedBytes >> 20) MiB; a caller of the library passes a larger one to raise it)"
    }

    /// A store in `directory` (created on first save).
    public init(directory: String, keepLast: Int = 3, lowerMetricIsBetter: Bool = true,
                maxDecompressedBytes: Int = 16 << 30) {
        self.directory = directory
        self.keepLast = max(1, keepLast)
        self.lowerMetricIsBetter = lowerMetricIsBetter
        self.maxDecompressedBytes = maxDecompressedBytes
    }

    /// The file name of the checkpoint for `step`.
    public static func fileName(step: Int) -> String { "step-\(step).safetensors.zst" }

    /// The path of the checkpoint for `step`.
    public func path(step: Int) -> String { "\(directory)/\(Self.fileName(step: step))" }

    /// Writes `checkpoint` as step `step` (temporary file, fsync, rename, fsync of the directory), records its
    /// decompressed size and `metric` (when given) in `manifest.json`, and prunes all but the newest `keepLast` and
    /// the best. Returns the written path.
    @discardableResult
    public func save(_ checkpoint: TrainingCheckpoint, step: Int, metric: Double? = nil) throws -> String {
        try DurableFile.makeDirectories(directory)
        let target = path(step: step)
        let raw = try checkpoint.safetensorsBytes(step: step)
        try DurableFile.write(try Zstd.compress(raw, source: target), to: target)
        var manifest = readManifest()
        manifest[step] = ManifestEntry(bytes: raw.count, metric: metric)
        try prune(&manifest)
        try writeManifest(manifest)
        return target
    }

    /// Steps with a checkpoint file, ascending (names only; contents are not checked).
    public func steps() -> [Int] {
        DurableFile.list(directory).compactMap { name -> Int? in
            guard name.hasPrefix("step-"), name.hasSuffix(".safetensors.zst") else { return nil }
            return Int(name.dropFirst(5).dropLast(16))
        }.sorted()
    }

    /// Loads and verifies the checkpoint of `step`.
    public func load(step: Int) throws -> TrainingCheckpoint {
        let p = path(step: step)
        // A zstd frame is never smaller than ~1/32768 of its content; the read cap only guards memory.
        let compressed = try DurableFile.read(p, limit: maxDecompressedBytes, bound: capName)
        // The manifest, when it knows this step, pins the exact size; the frame header must agree with it.
        let pinned = readManifest()[step]?.bytes
        let limit = min(pinned ?? maxDecompressedBytes, maxDecompressedBytes)
        let bound = pinned == nil || pinned! > maxDecompressedBytes ? capName
            : "the size \(directory)/manifest.json pinned for step \(step) when it was saved (the file changed since; resume from another step)"
        if let announced = Zstd.frameContentSize(compressed), announced > limit {
            throw CheckpointError.tooLarge(path: p, size: announced, limit: limit, bound: bound)
        }
        let checkpoint = try TrainingCheckpoint.decode(compressed, name: p, limit: limit, bound: bound)
        guard checkpoint.step == step else {
            throw CheckpointError.corrupt(path: p, reason: "metadata step is \(checkpoint.step.map(String.init) ?? "missing"), the name says \(step)")
        }
        return checkpoint
    }

    /// The newest checkpoint that loads and verifies, and the problems of newer ones that were skipped.
    public func latestValid() -> (checkpoint: TrainingCheckpoint?, step: Int?, problems: [CheckpointProblem]) {
        var problems: [CheckpointProblem] = []
        for step in steps().reversed() {
            do {
                return (try load(step: step), step, problems)
            } catch let error as CheckpointError {
                problems.append(CheckpointProblem(step: step, error: error))
            } catch {
                problems.append(CheckpointProblem(step: step, error: .corrupt(path: path(step: step), reason: "\(error)")))
            }
        }
        return (nil, nil, problems)
    }

    /// The step with the best recorded metric, if any metric was recorded.
    public func bestStep() -> Int? {
        let ranked = readManifest().compactMap { step, entry in entry.metric.map { (step, $0) } }
            .sorted { lowerMetricIsBetter ? ($0.1, $0.0) < ($1.1, $1.0) : ($0.1, -$0.0) > ($1.1, -$1.0) }
        return ranked.first?.0
    }

    private func prune(_ manifest: inout [Int: ManifestEntry]) throws {
        let all = steps()
        var keep = Set(all.suffix(keepLast))
        if let best = bestStep(in: manifest, among: all) { keep.insert(best) }
        var removed = false
        for step in all where !keep.contains(step) {
            if unlink(path(step: step)) != 0, errno != ENOENT {
                throw CheckpointError.io(path: path(step: step), reason: "cannot remove an old checkpoint: \(errnoText())")
            }
            manifest[step] = nil
            removed = true
        }
        if removed { try DurableFile.syncDirectory(directory) }
    }

    private func bestStep(in manifest: [Int: ManifestEntry], among steps: [Int]) -> Int? {
        manifest.filter { steps.contains($0.key) }.compactMap { step, entry in entry.metric.map { (step, $0) } }
            .sorted { lowerMetricIsBetter ? ($0.1, $0.0) < ($1.1, $1.0) : ($0.1, -$0.0) > ($1.1, -$1.0) }.first?.0
    }

    /// One manifest row: the decompressed size and the metric recorded at save time.
    struct ManifestEntry { var bytes: Int; var metric: Double? }

    private var manifestPath: String { "\(directory)/manifest.json" }

    /// `manifest.json`: {"<step>": {"bytes": n, "metric": x}}; missing or damaged means no entries (the reader then
    /// falls back to the store's cap and pruning keeps the last K).
    private func readManifest() -> [Int: ManifestEntry] {
        guard let bytes = try? DurableFile.read(manifestPath, limit: 1 << 24, bound: "the 16 MiB cap on a checkpoint manifest"),
              let object = (try? JSONValue.parse(bytes))?.objectValue else { return [:] }
        var manifest: [Int: ManifestEntry] = [:]
        for (key, value) in object.members {
            if let step = Int(key), let size = value["bytes"]?.intValue, size >= 0 {
                manifest[step] = ManifestEntry(bytes: size, metric: value["metric"]?.doubleValue)
            }
        }
        return manifest
    }

    private func writeManifest(_ manifest: [Int: ManifestEntry]) throws {
        let object = JSONObject(manifest.keys.sorted().map { step -> (String, JSONValue) in
            var row: [(String, JSONValue)] = [("bytes", .integer(manifest[step]!.bytes))]
            if let metric = manifest[step]!.metric { row.append(("metric", .double(metric))) }
            return (String(step), .object(JSONObject(row)))
        })
        try DurableFile.write(Array(JSONValue.object(object).serialized().utf8), to: manifestPath)
    }
}
