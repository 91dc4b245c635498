import LatheFormats
import LatheSupport

/// One fp32 tensor of a checkpoint: row-major values, `shape` outermost first.
public struct CheckpointTensor: Sendable, Equatable {
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// Row-major values; `values.count` is the product of `shape`.
    public var values: [Float]

    /// A tensor of `values` with `shape`.
    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

/// Everything needed to resume training exactly: named tensors (LoRA parameters, AdamW m and v, in PEFT naming
/// with `.exp_avg` / `.exp_avg_sq` suffixes for the moments) and trainer state as `__metadata__` strings.
///
/// The keys in `Key` are the documented trainer-state fields (see FORMAT.md); callers may add their own.
public struct TrainingCheckpoint: Sendable, Equatable {
    /// Named tensors.
    public var tensors: [String: CheckpointTensor]
    /// Trainer state; `format_version`, `step` and `payload_sha256` are written by the encoder.
    public var metadata: [String: String]

    /// A checkpoint of `tensors` and `metadata`.
    public init(tensors: [String: CheckpointTensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Metadata keys documented in FORMAT.md.
    public enum Key {
        /// Format version of the container ("1").
        public static let formatVersion = "format_version"
        /// Optimizer steps completed.
        public static let step = "step"
        /// Lowercase hex SHA-256 of the safetensors data section (all tensor bytes, in name order).
        public static let payloadSHA256 = "payload_sha256"
        /// Learning-rate scheduler state (steps taken by the scheduler).
        public static let schedulerStep = "scheduler_step"
        /// Counter of the dropout / sampling random stream.
        public static let rngCounter = "rng_counter"
        /// Data cursor: epoch index (0-based).
        public static let dataEpoch = "data_epoch"
        /// Data cursor: position of the next example within the epoch's shuffled order.
        public static let dataPosition = "data_position"
        /// Data cursor: seed of the epoch's shuffle.
        public static let shuffleSeed = "shuffle_seed"
        /// SHA-256 of the resolved recipe that produced this run.
        public static let recipeSHA256 = "recipe_sha256"
    }

    /// The format version this build writes and reads.
    public static let formatVersion = "1"

    /// The uncompressed safetensors image with `step`, `format_version` and `payload_sha256` filled in.
    public func safetensorsBytes(step: Int) throws -> [UInt8] {
        var writer = SafetensorsWriter()
        for name in tensors.keys.sorted() {
            let t = tensors[name]!
            do { try writer.add(name, shape: t.shape, values: t.values) } catch {
                throw CheckpointError.invalid(name: name, reason: "\(error)")
            }
        }
        var body = try writer.serialized()
        let headerLength = Self.headerLength(body)
        var meta = metadata
        meta[Key.formatVersion] = Self.formatVersion
        meta[Key.step] = String(step)
        meta[Key.payloadSHA256] = SHA256.hex(Array(body[(8 + headerLength)...]))
        writer.metadata = meta
        body = try writer.serialized()
        return body
    }

    /// Compresses `safetensorsBytes(step:)` into one zstd frame (content checksum on, content size recorded).
    public func encoded(step: Int, level: Int32 = 3) throws -> [UInt8] {
        try Zstd.compress(safetensorsBytes(step: step), level: level, source: "checkpoint step \(step)")
    }

    /// Decodes a compressed checkpoint: bounded decompression, safetensors validation, version and payload hash checks.
    /// `limit` caps the decompressed size whatever the frame header says; `bound` names it for the error.
    public static func decode(_ compressed: [UInt8], name: String, limit: Int,
                              bound: String = "the caller's cap on a checkpoint's decompressed size") throws -> TrainingCheckpoint {
        guard let size = Zstd.frameContentSize(compressed) else {
            throw CheckpointError.corrupt(path: name, reason: "the zstd frame header has no valid content size")
        }
        guard size <= limit else { throw CheckpointError.tooLarge(path: name, size: size, limit: limit, bound: bound) }
        let raw: [UInt8]
        do { raw = try Zstd.decompress(compressed, limit: size, source: name) } catch {
            throw CheckpointError.corrupt(path: name, reason: "\(error)")
        }
        guard raw.count == size else {
            throw CheckpointError.corrupt(path: name, reason: "decompressed to \(raw.count) bytes, the header says \(size)")
        }
        return try fromSafetensors(raw, name: name)
    }

    /// Parses an uncompressed checkpoint image and verifies its version and payload hash.
    public static func fromSafetensors(_ raw: [UInt8], name: String) throws -> TrainingCheckpoint {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(bytes: raw, name: name) } catch {
            throw CheckpointError.corrupt(path: name, reason: "\(error)")
        }
        let meta = file.metadata ?? [:]
        guard let version = meta[Key.formatVersion] else {
            throw CheckpointError.corrupt(path: name, reason: "no format_version in __metadata__")
        }
        guard version == formatVersion else { throw CheckpointError.unsupportedVersion(path: name, version: version) }
        let actual = SHA256.hex(Array(raw[file.dataStart...]))
        guard meta[Key.payloadSHA256] == actual else {
            throw CheckpointError.corrupt(path: name, reason: "payload SHA-256 is \(actual), the metadata says \(meta[Key.payloadSHA256] ?? "nothing")")
        }
        var tensors: [String: CheckpointTensor] = [:]
        for info in file.tensors {
            guard info.dtype == .f32 else {
                throw CheckpointError.corrupt(path: name, reason: "tensor \(info.name) is \(info.dtype.rawValue), expected F32")
            }
            do { tensors[info.name] = CheckpointTensor(shape: info.shape, values: try file.floats(info.name)) } catch {
                throw CheckpointError.corrupt(path: name, reason: "\(error)")
            }
        }
        return TrainingCheckpoint(tensors: tensors, metadata: meta)
    }

    /// The step recorded in the metadata.
    public var step: Int? { metadata[Key.step].flatMap { Int($0) } }

    private static func headerLength(_ bytes: [UInt8]) -> Int {
        var n = 0
        for i in 0 ..< 8 { n |= Int(bytes[i]) << (8 * i) }
        return n
    }
}
