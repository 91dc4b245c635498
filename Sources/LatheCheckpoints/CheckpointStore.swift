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

    /// Writes `checkpoint` as step `step` (temporary file, fsync, rename, fsync of the directory), records `metric`
    /// when given, and prunes all but the newest `keepLast` and the best. Returns the written path.
    @discardableResult
    public func save(_ checkpoint: TrainingCheckpoint, step: Int, metric: Double? = nil) throws -> String {
        try DurableFile.makeDirectories(directory)
        let target = path(step: step)
        try DurableFile.write(checkpoint.encoded(step: step), to: target)
        var metrics = readMetrics()
        if let metric { metrics[step] = metric }
        try prune(metrics: &metrics)
        try writeMetrics(metrics)
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
        let compressed = try DurableFile.read(p, limit: maxDecompressedBytes)
        let checkpoint = try TrainingCheckpoint.decode(compressed, name: p, limit: maxDecompressedBytes)
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
        let metrics = readMetrics()
        let ordered = metrics.sorted { lowerMetricIsBetter ? $0.value < $1.value : $0.value > $1.value }
        return ordered.first?.key
    }

    private func prune(metrics: inout [Int: Double]) throws {
        let all = steps()
        var keep = Set(all.suffix(keepLast))
        let ranked = metrics.filter { all.contains($0.key) }
            .sorted { lowerMetricIsBetter ? ($0.value, $0.key) < ($1.value, $1.key) : ($0.value, -$0.key) > ($1.value, -$1.key) }
        if let best = ranked.first?.key { keep.insert(best) }
        var removed = false
        for step in all where !keep.contains(step) {
            if unlink(path(step: step)) != 0, errno != ENOENT {
                throw CheckpointError.io(path: path(step: step), reason: "cannot remove an old checkpoint: \(errnoText())")
            }
            metrics[step] = nil
            removed = true
        }
        if removed { try DurableFile.syncDirectory(directory) }
    }

    private var metricsPath: String { "\(directory)/metrics.json" }

    /// `metrics.json`: {"<step>": metric}; a missing or damaged file means no metrics (pruning then keeps the last K).
    private func readMetrics() -> [Int: Double] {
        guard let bytes = try? DurableFile.read(metricsPath, limit: 1 << 24),
              let object = (try? JSONValue.parse(bytes))?.objectValue else { return [:] }
        var metrics: [Int: Double] = [:]
        for (key, value) in object.members {
            if let step = Int(key), let metric = value.doubleValue { metrics[step] = metric }
        }
        return metrics
    }

    private func writeMetrics(_ metrics: [Int: Double]) throws {
        let object = JSONObject(metrics.keys.sorted().map { (String($0), JSONValue.number(metrics[$0]!)) })
        try DurableFile.write(Array(JSONValue.object(object).serialized().utf8), to: metricsPath)
    }
}
