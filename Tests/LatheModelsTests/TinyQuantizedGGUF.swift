import Foundation
import LatheFormats

/// A tiny Llama GGUF whose matrices are random blocks of one ggml type, written here for the quantised-base
/// tests: width 256 (whole K-quant super-blocks), MLP 1280, 4 heads over 2 KV heads, 2 layers, vocabulary 1100, tied
/// embeddings — the MLP and LM-head matrices are larger than one 1 MiB dequantisation tile, so products run over
/// several tiles. Block bytes are random; each block's fp16 scales are set so that weights stay near ±0.05.
enum TinyQuantizedGGUF {
    static let (width, mlp, heads, kvHeads, layers, vocab) = (256, 1280, 4, 2, 2, 1100)

    /// Writes the model to a temporary file and returns its path.
    static func write(_ type: GGMLType, seed: UInt64) throws -> String {
        var random = Random(seed)
        var writer = GGUFWriter()
        let meta: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")), ("llama.block_count", .uint32(UInt32(layers))),
            ("llama.context_length", .uint32(64)), ("llama.embedding_length", .uint32(UInt32(width))),
            ("llama.feed_forward_length", .uint32(UInt32(mlp))), ("llama.attention.head_count", .uint32(UInt32(heads))),
            ("llama.attention.head_count_kv", .uint32(UInt32(kvHeads))), ("llama.vocab_size", .uint32(UInt32(vocab))),
            ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)), ("llama.rope.freq_base", .float32(10000)),
        ]
        for (key, value) in meta { try writer.set(key, value) }
        func matrix(_ name: String, rows: Int, columns: Int) throws {
            if type == .f16 || type == .bf16 || type == .f32 {
                let values = (0..<(rows * columns)).map { _ in (random.unit() - 0.5) * 0.1 }
                try writer.addTensor(name, shape: [rows, columns], values: values, as: type)
            } else {
                try writer.addRawTensor(name, ne: [columns, rows], type: type, bytes: blocks(type, rows * columns, &random))
            }
        }
        func vector(_ name: String) throws {
            try writer.addTensor(name, shape: [width], values: (0..<width).map { _ in 0.8 + 0.4 * random.unit() })
        }
        try matrix("token_embd.weight", rows: vocab, columns: width)
        let d = width / heads
        for l in 0..<layers {
            try vector("blk.\(l).attn_norm.weight")
            try matrix("blk.\(l).attn_q.weight", rows: heads * d, columns: width)
            try matrix("blk.\(l).attn_k.weight", rows: kvHeads * d, columns: width)
            try matrix("blk.\(l).attn_v.weight", rows: kvHeads * d, columns: width)
            try matrix("blk.\(l).attn_output.weight", rows: width, columns: heads * d)
            try vector("blk.\(l).ffn_norm.weight")
            try matrix("blk.\(l).ffn_gate.weight", rows: mlp, columns: width)
            try matrix("blk.\(l).ffn_up.weight", rows: mlp, columns: width)
            try matrix("blk.\(l).ffn_down.weight", rows: width, columns: mlp)
        }
        try vector("output_norm.weight")
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("lathe-tiny-\(type.name)-\(seed)-\(ProcessInfo.processInfo.processIdentifier).gguf").path
        try writer.write(to: path)
        return path
    }

    /// Random blocks of `type` for `count` values, with the fp16 scale fields (offset, value) of each block fixed.
    static func blocks(_ type: GGMLType, _ count: Int, _ random: inout Random) -> [UInt8] {
        let scales: [(Int, Float)]
        switch type {
        case .q4_0: scales = [(0, 0.006)]
        case .q4_1: scales = [(0, 0.006), (2, -0.045)]
        case .q5_0: scales = [(0, 0.003)]
        case .q5_1: scales = [(0, 0.003), (2, -0.045)]
        case .q8_0: scales = [(0, 0.0004)]
        case .q2_K: scales = [(80, 0.0015), (82, 0.0015)]
        case .q3_K: scales = [(108, 0.0004)]
        case .q4_K: scales = [(0, 0.00005), (2, 0.0005)]
        case .q5_K: scales = [(0, 0.00003), (2, 0.0005)]
        case .q6_K: scales = [(208, 0.00002)]
        default: preconditionFailure("no block recipe for \(type.name)")
        }
        var bytes = (0..<(count / type.blockSize * type.blockBytes)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for block in 0..<(count / type.blockSize) {
            for (offset, value) in scales {
                let bits = HalfFloat.f16(from: value * (0.5 + random.unit()))
                bytes[block * type.blockBytes + offset] = UInt8(bits & 0xFF)
                bytes[block * type.blockBytes + offset + 1] = UInt8(bits >> 8)
            }
        }
        return bytes
    }

    /// SplitMix64, so the files are the same on every run.
    struct Random {
        var state: UInt64
        init(_ seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
    }
}
