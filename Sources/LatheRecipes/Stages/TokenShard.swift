import Foundation
import LatheCheckpoints
import LatheFormats
import LatheTraining

/// Tokenised examples on disk: one zstd frame (checksum on) holding
/// `"LTOK"`, u32 version (1), u32 example count, then per example u32 length, length × i32 token ids and
/// length × u8 target flags, all little-endian. Reading checks every length against the bytes left.
public enum TokenShard {
    static let magic: [UInt8] = Array("LTOK".utf8)
    static let version: UInt32 = 1
    /// Largest decompressed shard accepted (4 GiB): a bound against decompression bombs.
    static let maxBytes = 1 << 32

    /// Writes `examples` as a shard at `path` (through `TokenShardWriter`).
    public static func write(_ examples: [TrainingExample], to path: String) throws {
        let writer = try TokenShardWriter(path: path)
        for example in examples { try writer.append(example) }
        try writer.finish()
    }

    public static func read(_ path: String) throws -> [TrainingExample] {
        func fail(_ offset: Int, _ problem: String) -> RecipeError {
            .invalid(file: path, line: 0, key: "byte \(offset)", message: "\(problem); delete the tokenize stage's directory to rebuild it")
        }
        let packed = try DurableFile.read(path, limit: maxBytes, bound: "TokenShard.maxBytes (4 GiB; split the data into smaller shards)")
        // The frame header pins the decompressed size (the writer always records it); decompression stops at that
        // size, so a bomb is refused before it allocates more than it announced, and never past `maxBytes`.
        guard let size = Zstd.frameContentSize(packed) else {
            throw fail(0, "the zstd frame header records no content size (every shard Lathe writes has one)")
        }
        guard size <= maxBytes else {
            throw fail(0, "the zstd frame announces \(size) bytes, over the token-shard limit of \(maxBytes) bytes "
                + "(TokenShard.maxBytes); split the data into smaller shards")
        }
        let bytes = try Zstd.decompress(packed, limit: size, source: path)
        guard bytes.count == size else { throw fail(0, "decompressed to \(bytes.count) bytes, the frame header says \(size)") }
        var offset = 0
        func u32() throws -> UInt32 {
            guard offset + 4 <= bytes.count else { throw fail(offset, "token shard ends early") }
            defer { offset += 4 }
            return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        guard bytes.count >= 12, Array(bytes[0..<4]) == magic else { throw fail(0, "not a token shard (magic \"LTOK\" missing)") }
        offset = 4
        guard try u32() == version else { throw fail(4, "token shard version is not \(version)") }
        let count = Int(try u32())
        guard count <= bytes.count / 4 else { throw fail(8, "example count \(count) exceeds the shard's size") }
        var examples: [TrainingExample] = []
        examples.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try u32())
            guard length <= (bytes.count - offset) / 5 else { throw fail(offset, "example of \(length) tokens exceeds the shard's size") }
            var tokens = [Int32](repeating: 0, count: length)
            for i in 0..<length { tokens[i] = Int32(bitPattern: try u32()) }
            let mask = bytes[offset..<(offset + length)].map { $0 != 0 }
            offset += length
            examples.append(TrainingExample(tokens: tokens, targetMask: mask))
        }
        guard offset == bytes.count else { throw fail(offset, "\(bytes.count - offset) trailing bytes") }
        return examples
    }

    static func append(_ bytes: inout [UInt8], _ value: UInt32) {
        bytes += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }
}

/// Writes a token shard one example at a time in bounded memory: the decompressed shard grows in a temporary
/// file beside `path` (its example count patched at the end), which `finish` compresses in a stream into the
/// same bytes `Zstd.compress` gives and commits atomically (`DurableFile.commit`).
public final class TokenShardWriter {
    /// The shard being written.
    public let path: String
    private let partial: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var finished = false
    /// Examples appended.
    public private(set) var count = 0

    /// Starts a shard at `path`.
    public init(path: String) throws {
        self.path = path
        partial = "\(path).partial-\(getpid())"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw CheckpointError.io(path: partial, reason: "cannot create the temporary shard")
        }
        self.handle = handle
        buffer = TokenShard.magic
        TokenShard.append(&buffer, TokenShard.version)
        TokenShard.append(&buffer, 0)  // example count, patched by `finish`
    }

    deinit {
        try? handle.close()
        if !finished { unlink(partial) }
    }

    /// Appends one example: u32 length, the token ids, the target flags.
    public func append(_ example: TrainingExample) throws {
        TokenShard.append(&buffer, UInt32(example.tokens.count))
        for token in example.tokens { TokenShard.append(&buffer, UInt32(bitPattern: token)) }
        buffer += example.targetMask.map { $0 ? 1 : 0 }
        count += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        do { try handle.write(contentsOf: buffer) } catch { throw CheckpointError.io(path: partial, reason: "\(error)") }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Patches the count, compresses and commits the shard; removes the temporary files.
    public func finish() throws {
        guard count <= Int(UInt32.max) else { throw CheckpointError.io(path: path, reason: "more than \(UInt32.max) examples in one shard") }
        try flush()
        var header: [UInt8] = []
        TokenShard.append(&header, UInt32(count))
        do {
            try handle.seek(toOffset: 8)
            try handle.write(contentsOf: header)
            try handle.close()
        } catch { throw CheckpointError.io(path: partial, reason: "\(error)") }
        finished = true
        defer { unlink(partial) }
        let compressed = "\(path).tmp-\(getpid())"
        do { try Zstd.compressFile(partial, to: compressed) } catch { unlink(compressed); throw error }
        try DurableFile.commit(compressed, to: path)
    }
}
