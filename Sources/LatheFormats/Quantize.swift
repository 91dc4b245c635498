/// fp32 → ggml block encodings used when writing GGUF, bit-exact with ggml's reference quantisers.
enum Quantize {
    /// Q8_0 as ggml `quantize_row_q8_0_ref`: d = max|x|/127 (stored as fp16), q = roundf(x/d) (half away from zero).
    static func q8_0(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        let blocks = x.count / 32
        for b in 0 ..< blocks {
            let values = x.baseAddress! + b * 32
            var amax: Float = 0
            for j in 0 ..< 32 { amax = max(amax, abs(values[j])) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            out.storeBytes(of: HalfFloat.f16(from: d).littleEndian, toByteOffset: b * 34, as: UInt16.self)
            for j in 0 ..< 32 {
                let q = (values[j] * id).rounded(.toNearestOrAwayFromZero)
                out.storeBytes(of: Int8(q), toByteOffset: b * 34 + 2 + j, as: Int8.self)
            }
        }
    }
}

extension Quantize {
    /// True for the types `encode` writes.
    static func canEncode(_ type: GGMLType) -> Bool {
        switch type {
        case .f32, .f16, .bf16, .q8_0: return true
        default: return false
        }
    }

    /// `x` (whole blocks of `type`) encoded into `out`, which holds exactly the encoded bytes.
    static func encode(_ x: UnsafeBufferPointer<Float>, as type: GGMLType, into out: UnsafeMutableRawBufferPointer) {
        switch type {
        case .f32:
            for i in 0 ..< x.count { out.storeBytes(of: x[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        case .f16:
            for i in 0 ..< x.count { out.storeBytes(of: HalfFloat.f16(from: x[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        case .bf16:
            for i in 0 ..< x.count { out.storeBytes(of: HalfFloat.bf16(from: x[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        case .q8_0: q8_0(x, into: out)
        default: preconditionFailure("Quantize.encode: \(type.name) is not an encodable type")
        }
    }
}
