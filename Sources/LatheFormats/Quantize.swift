/// fp32 → ggml block encodings used when writing GGUF and quantising a base on load. Q8_0 is bit-exact with
/// ggml's reference quantiser; Q4_K uses a plainer scale search than llama.cpp's (bytes differ, format is the same).
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
    /// Q4_K: super-blocks of 256 values in 8 groups of 32, each group y = (d·sc)·q − dmin·m with q in 0…15 and
    /// 6-bit sc, m. A group's grid spans its minimum (clipped to ≤ 0, as ggml does) to its maximum; the super-block
    /// scales d, dmin are the largest group scale and min over 63, stored as fp16; the nibbles are then chosen
    /// against the stored scales, so a value is off by at most half a step plus what rounding sc and m costs.
    static func q4_K(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        for b in 0 ..< x.count / 256 {
            let values = x.baseAddress! + b * 256
            var scales = [Float](repeating: 0, count: 8), mins = [Float](repeating: 0, count: 8)
            for g in 0 ..< 8 {
                var low: Float = 0, high = -Float.infinity
                for l in 0 ..< 32 { low = min(low, values[g * 32 + l]); high = max(high, values[g * 32 + l]) }
                scales[g] = (high - low) / 15
                mins[g] = -low
            }
            let d = HalfFloat.float(fromF16: HalfFloat.f16(from: (scales.max() ?? 0) / 63))
            let dmin = HalfFloat.float(fromF16: HalfFloat.f16(from: (mins.max() ?? 0) / 63))
            let block = b * 144
            out.storeBytes(of: HalfFloat.f16(from: d).littleEndian, toByteOffset: block, as: UInt16.self)
            out.storeBytes(of: HalfFloat.f16(from: dmin).littleEndian, toByteOffset: block + 2, as: UInt16.self)
            var packed = [UInt8](repeating: 0, count: 12)
            for g in 0 ..< 8 {
                // Round the scale up so the group's maximum stays on the grid; round the min to nearest.
                let sc = d > 0 ? UInt8(min(63, (scales[g] / d).rounded(.up))) : 0
                let m = dmin > 0 ? UInt8(min(63, (mins[g] / dmin).rounded(.toNearestOrAwayFromZero))) : 0
                if g < 4 {
                    packed[g] = sc
                    packed[g + 4] = m
                } else {
                    packed[g + 4] = (sc & 0x0F) | (m & 0x0F) << 4
                    packed[g - 4] |= (sc >> 4) << 6
                    packed[g] |= (m >> 4) << 6
                }
                let dl = d * Float(sc), ml = dmin * Float(m)
                for l in 0 ..< 32 {
                    let q = dl > 0 ? min(15, max(0, ((values[g * 32 + l] + ml) / dl).rounded(.toNearestOrAwayFromZero))) : 0
                    let at = block + 16 + (g >> 1) * 32 + l
                    let nibble = UInt8(q) << (4 * UInt8(g & 1))
                    out.storeBytes(of: (g & 1 == 0 ? 0 : out.load(fromByteOffset: at, as: UInt8.self)) | nibble,
                                   toByteOffset: at, as: UInt8.self)
                }
            }
            for i in 0 ..< 12 { out.storeBytes(of: packed[i], toByteOffset: block + 4 + i, as: UInt8.self) }
        }
    }

    /// True for the types `encode` writes.
    static func canEncode(_ type: GGMLType) -> Bool {
        switch type {
        case .f32, .f16, .bf16, .q8_0, .q4_K: return true
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
        case .q4_K: q4_K(x, into: out)
        default: preconditionFailure("Quantize.encode: \(type.name) is not an encodable type")
        }
    }
}
