// IEEE binary16 → float for the kernels' block scales, and block sizes; shared by quant_dot.c and quant_dot_f32.c.
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

#if defined(__AVX2__) && defined(__F16C__)
#include <immintrin.h>

/// The binary16 at `p` in all eight lanes: broadcast as 16 bits, then converted in the vector unit. The scalar
/// conversion and broadcast cost the fp32 decode kernel over a quarter of its time (5.6 ns a Q4_1 block; 4.0 with
/// constant scales; 4.5 this way).
static inline __attribute__((always_inline)) __m256 lathe_half_lanes(const uint8_t *p) {
    int16_t h;
    memcpy(&h, p, 2);
    return _mm256_cvtph_ps(_mm_set1_epi16(h));
}
#endif

/// Bytes of one block of each `lathe_weight_type`: Q4_0, Q4_1, Q8_0.
static const int64_t lathe_block_bytes[3] = {18, 20, 34};

/// Where row `row` of a tile starts: rows at or past `end` (a tile's spare rows) repeat row `end − 1`, computed and
/// not stored; row r is stored at `order[r]` when `order` is not NULL.
static inline const uint8_t *lathe_tile_row(const uint8_t *base, int64_t row_bytes, const int32_t *order, int64_t row,
                                            int64_t end) {
    if (row >= end) row = end - 1;
    return base + (order ? (int64_t)order[row] : row) * row_bytes;
}

#endif
