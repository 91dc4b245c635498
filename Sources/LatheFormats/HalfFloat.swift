/// Conversions between fp32 and the two 16-bit float formats in model files, bit-exact with ggml
/// (`GGML_FP16_TO_FP32`, `GGML_FP32_TO_FP16`, `ggml_compute_fp32_to_bf16`) and with numpy / PyTorch.
public enum HalfFloat {
    /// IEEE binary16 bits → fp32 (exact; NaN payloads are kept).
    @inline(__always)
    public static func float(fromF16 h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        if exponent == 0 {
            // Subnormal or zero: mantissa × 2⁻²⁴, exact in fp32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// fp32 → IEEE binary16 bits, rounding to nearest even; overflow gives ±infinity, NaN stays NaN.
    public static func f16(from x: Float) -> UInt16 {
        let bits = x.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF {
            return sign | 0x7C00 | (mantissa == 0 ? 0 : 0x200 | UInt16(mantissa >> 13))
        }
        let e = exponent - 112   // re-biased exponent for binary16
        if e >= 0x1F { return sign | 0x7C00 }
        if e <= 0 {
            if e < -10 { return sign }   // below 2⁻²⁵: rounds to zero
            let m = mantissa | 0x80_0000
            let shift = UInt32(14 - e)
            var h = m >> shift
            let rest = m & ((1 << shift) - 1)
            let half = UInt32(1) << (shift - 1)
            if rest > half || (rest == half && h & 1 == 1) { h += 1 }
            return sign | UInt16(h)
        }
        var h = UInt32(e) << 10 | (mantissa >> 13)
        let rest = mantissa & 0x1FFF
        if rest > 0x1000 || (rest == 0x1000 && h & 1 == 1) { h += 1 }   // a carry may reach infinity, correctly
        return sign | UInt16(h)
    }

    /// bfloat16 bits → fp32 (exact).
    @inline(__always)
    public static func float(fromBF16 b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// fp32 → bfloat16 bits, rounding to nearest even; NaN is made quiet (as ggml and PyTorch do).
    public static func bf16(from x: Float) -> UInt16 {
        let bits = x.bitPattern
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(bits >> 16) | 64 }
        return UInt16((UInt64(bits) + 0x7FFF + UInt64((bits >> 16) & 1)) >> 16)
    }

    /// All 65 536 fp16 values as fp32, for tight conversion loops.
    static let f16Table: [Float] = (0 ... 0xFFFF).map { float(fromF16: UInt16($0)) }
}
