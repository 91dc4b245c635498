/// The k-quants: super-blocks of 256 values with 6- or 4-bit sub-block scales (ggml-common.h `block_q*_K`).
///
///   Q2_K {scales[16]; qs[64]; d; dmin}          84 bytes
///   Q3_K {hmask[32]; qs[64]; scales[12]; d}     110 bytes
///   Q4_K {d; dmin; scales[12]; qs[128]}         144 bytes
///   Q5_K {d; dmin; scales[12]; qh[32]; qs[128]} 176 bytes
///   Q6_K {ql[128]; qh[64]; scales[16] int8; d}  210 bytes
extension Dequantize {
    /// 2-bit values in 16 groups of 16; each group has a 4-bit scale and 4-bit min: y = (d·sc)·q − dmin·m.
    static func q2_K(_ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 84, out = y + b * 256
            let d = half(p, 80), dmin = half(p, 82)
            for i in 0 ..< 256 {
                let half128 = i >> 7, shift = (i >> 5) & 3, l = i & 31
                let sc = byte(p, i >> 4)
                let q = (byte(p, 16 + half128 * 32 + l) >> UInt8(2 * shift)) & 3
                let dl = d * Float(sc & 0x0F), ml = dmin * Float(sc >> 4)
                out[i] = dl * Float(q) - ml
            }
        }
    }

    /// 3-bit values: 2 low bits from qs, and 4 is subtracted when the hmask bit is clear; 6-bit signed scales.
    static func q3_K(_ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 110, out = y + b * 256
            let d = half(p, 108)
            var dl = SIMD16<Float>()
            for s in 0 ..< 16 {
                let low = s < 8 ? byte(p, 96 + s) & 0x0F : byte(p, 96 + s - 8) >> 4
                let high = (byte(p, 96 + 8 + s % 4) >> UInt8(2 * (s / 4))) & 3
                dl[s] = d * Float(Int32(low | high << 4) - 32)
            }
            for i in 0 ..< 256 {
                let half128 = i >> 7, shift = (i >> 5) & 3, l = i & 31
                let low = Int32((byte(p, 32 + half128 * 32 + l) >> UInt8(2 * shift)) & 3)
                let high = (byte(p, l) >> UInt8(i >> 5)) & 1
                out[i] = dl[i >> 4] * Float(low - (high == 0 ? 4 : 0))
            }
        }
    }

    /// The 8 (scale, min) pairs of Q4_K / Q5_K, 6 bits each, packed in 12 bytes (ggml `get_scale_min_k4`).
    @inline(__always)
    static func scaleMin(_ p: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
        if j < 4 { return (byte(p, j) & 63, byte(p, j + 4) & 63) }
        let scale = (byte(p, j + 4) & 0x0F) | ((byte(p, j - 4) >> 6) << 4)
        let min = (byte(p, j + 4) >> 4) | ((byte(p, j) >> 6) << 4)
        return (scale, min)
    }

    /// 4-bit values in 8 groups of 32: y = (d·sc)·q − dmin·m.
    static func q4_K(_ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 144, out = y + b * 256
            let d = half(p, 0), dmin = half(p, 2)
            for g in 0 ..< 8 {
                let (sc, m) = scaleMin(p + 4, g)
                let dl = d * Float(sc), ml = dmin * Float(m)
                let qs = p + 16 + (g >> 1) * 32, shift = UInt8(4 * (g & 1))
                for l in 0 ..< 32 {
                    out[g * 32 + l] = dl * Float((byte(qs, l) >> shift) & 0x0F) - ml
                }
            }
        }
    }

    /// 5-bit values: Q4_K nibbles plus bit g of qh[l] as bit 4.
    static func q5_K(_ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 176, out = y + b * 256
            let d = half(p, 0), dmin = half(p, 2)
            for g in 0 ..< 8 {
                let (sc, m) = scaleMin(p + 4, g)
                let dl = d * Float(sc), ml = dmin * Float(m)
                let qs = p + 48 + (g >> 1) * 32, shift = UInt8(4 * (g & 1))
                for l in 0 ..< 32 {
                    let q = ((byte(qs, l) >> shift) & 0x0F) | ((byte(p, 16 + l) >> UInt8(g)) & 1) << 4
                    out[g * 32 + l] = dl * Float(q) - ml
                }
            }
        }
    }

    /// 6-bit values (4 low bits in ql, 2 high in qh) minus 32, 16 groups of 16 with int8 scales: y = (d·sc)·q.
    static func q6_K(_ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0 ..< blocks {
            let p = src + b * 210, out = y + b * 256
            let d = half(p, 208)
            for i in 0 ..< 256 {
                let half128 = i >> 7, r = i & 127
                let low = (byte(p, half128 * 64 + (r & 63)) >> UInt8(4 * (r >> 6))) & 0x0F
                let high = (byte(p, 128 + half128 * 32 + (r & 31)) >> UInt8(2 * (r >> 5))) & 3
                let sc = Float(p.load(fromByteOffset: 192 + (i >> 4), as: Int8.self))
                out[i] = (d * sc) * Float(Int32(low | high << 4) - 32)
            }
        }
    }
}
