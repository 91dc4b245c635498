import LatheCheckpoints
import LatheTraining

/// Tokenised examples on disk: one zstd frame (checksum on) holding
/// `"LTOK"`, u32 version (1), u32 example count, then per example u32 length, length × i32 token ids and
/// length × u8 target flags, all little-endian. Reading checks every length against the bytes left.
public enum TokenShard {
    static let magic: [UInt8] = Array("LTOK".utf8)
    static let version: UInt32 = 1
    /// Largest decompressed shard accepted (4 GiB): a bound against decompression bombs.
    static let maxBytes = 1 << 32

    public static func write(_ examples: [TrainingExample], to path: String) throws {
        var bytes = magic
        append(&bytes, version)
        append(&bytes, UInt32(examples.count))
        for example in examples {
            append(&bytes, UInt32(example.tokens.count))
            for token in example.tokens { append(&bytes, UInt32(bitPattern: token)) }
            bytes += example.targetMask.map { $0 ? 1 : 0 }
        }
        try DurableFile.write(try Zstd.compress(bytes, source: path), to: path)
    }

    public static func read(_ path: String) throws -> [TrainingExample] {
        func fail(_ offset: Int, _ problem: String) -> RecipeError {
            .invalid(file: path, line: 0, key: "byte \(offset)", message: "\(problem); delete the tokenize stage's directory to rebuild it")
        }
        let packed = try DurableFile.read(path, limit: maxBytes)
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

    private static func append(_ bytes: inout [UInt8], _ value: UInt32) {
        bytes += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }
}
