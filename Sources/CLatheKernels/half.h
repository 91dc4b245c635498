// IEEE binary16 → float for the kernels' block scales; shared by quant_dot.c and quant_dot_f32.c.
#ifndef LATHE_HALF_H
#define LATHE_HALF_H

#include <stdint.h>
#include <string.h>

/// The binary16 at `p` (little-endian) as a float, exactly (subnormals, infinities and NaNs included).
static inline float lathe_half_to_float(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {  // subnormal: normalise
        int shift = 0;
        while (!(mantissa & 0x400)) { mantissa <<= 1; shift++; }
        bits = sign | ((uint32_t)(113 - shift) << 23) | ((mantissa & 0x3FF) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/// Bytes of one block of each `lathe_weight_type`: Q4_0, Q4_1, Q8_0.
static const int64_t lathe_block_bytes[3] = {18, 20, 34};

#endif
