/// Dequantisation of ggml blocks to fp32, bit-exact with ggml's `dequantize_row_*` (ggml-quants.c) as mirrored by
/// gguf-py's `gguf.quants`: every product is rounded to fp32 in the same order, and no multiply-add is fused.
///
/// Block layouts (ggml-common.h), little-endian, `d`/`m`/`dmin` are fp16:
///   Q4_0 {d; qs[16]}  Q4_1 {d; m; qs[16]}  Q5_0 {d; qh[4]; qs[16]}  Q5_1 {d; m; qh[4]; qs[16]}  Q8_0 {d; qs[32] int8}
enum Dequantize {
    /// Converts `source` (whole blocks of `type`) into `out`; the caller has checked sizes and that the type is supported.
    static func run(_ type: GGMLType, _ source: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        guard let src = source.baseAddress, let dst = out.baseAddress, !out.isEmpty else { return }
        let blocks = out.count / type.blockSize
        switch type {
        case .f32: PlainFloatConversion.f32(source, into: out)
        case .f16: PlainFloatConversion.f16(source, into: out)
        case .bf16: PlainFloatConversion.bf16(source, into: out)
        case .q4_0: q4_0(src, dst, blocks)
        case .q4_1: q4_1(src, dst, blocks)
        case .q5_0: q5_0(src, dst, blocks)
        case .q5_1: q5_1(src, dst, blocks)
        case .q8_0: q8_0(src, dst, blocks)
        case .q2_K: q2_K(src, dst, blocks)
        case .q3_K: q3_K(src, dst, blocks)
        case .q4_K: q4_K(src, dst, blocks)
        case .q5_K: q5_K(src, dst, blocks)
        case .q6_K: q6_K(src, dst, blocks)
        default: break
        }
    }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        HalfFloat.float(fromF16: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    @inline(__always)
    static func byte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
        p.load(fromByteOffset: offset, as: UInt8.self)
    }

    /// y[j] = d·(lo nibble − 8), y[j+16] = d·(hi nibble − 8).
    static func q4_0(_ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 18, out = y + b * 32
            let d = half(p, 0)
            for j in 0 ..< 16 {
                let q = byte(p, 2 + j)
                out[j] = d * Float(Int32(q & 0x0F) - 8)
                out[j + 16] = d * Float(Int32(q >> 4) - 8)
            }
        }
    }

    /// y = d·nibble + m.
    static func q4_1(_ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 20, out = y + b * 32
            let d = half(p, 0), m = half(p, 2)
            for j in 0 ..< 16 {
                let q = byte(p, 4 + j)
                out[j] = d * Float(q & 0x0F) + m
                out[j + 16] = d * Float(q >> 4) + m
            }
        }
    }

    /// 5-bit values: nibble plus bit j (or j+16) of qh as bit 4; y = d·(q − 16).
    static func q5_0(_ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 22, out = y + b * 32
            let d = half(p, 0)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            for j in 0 ..< 16 {
                let q = byte(p, 6 + j)
                let lo = Int32(q & 0x0F) | Int32((qh >> UInt32(j)) & 1) << 4
                let hi = Int32(q >> 4) | Int32((qh >> UInt32(j + 16)) & 1) << 4
                out[j] = d * Float(lo - 16)
                out[j + 16] = d * Float(hi - 16)
            }
        }
    }

    /// 5-bit values as Q5_0; y = d·q + m.
    static func q5_1(_ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 24, out = y + b * 32
            let d = half(p, 0), m = half(p, 2)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            for j in 0 ..< 16 {
                let q = byte(p, 8 + j)
                let lo = UInt32(q & 0x0F) | ((qh >> UInt32(j)) & 1) << 4
                let hi = UInt32(q >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
                out[j] = d * Float(lo) + m
                out[j + 16] = d * Float(hi) + m
            }
        }
    }

    /// y = q·d with q an int8.
    static func q8_0(_ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 34, out = y + b * 32
            let d = half(p, 0)
            for j in 0 ..< 32 {
                out[j] = Float(p.load(fromByteOffset: 2 + j, as: Int8.self)) * d
            }
        }
    }
}
