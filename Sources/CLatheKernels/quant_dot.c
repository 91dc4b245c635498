// See lathe_kernels.h. Block layouts are ggml's: Q4_0 {f16 d; u8 qs[16]} (value = (nibble − 8) · d),
// Q4_1 {f16 d; f16 m; u8 qs[16]} (value = nibble · d + m), Q8_0 {f16 d; i8 qs[32]} (value = q · d); value k < 16 is
// the low nibble of qs[k], value k ≥ 16 the high nibble of qs[k − 16].
//
// A block's dot is Σ_k w_k · x_k with w_k = d_w · v_k (+ m) and x_k = d_x · q_k: d_w · d_x · Σ v_k q_k (+ m · s_x).
// The integer sum of values 4j..4j+3 goes to float lane j (j < 8) as lane_j += (d_w · d_x) · sum, fused, with even
// and odd blocks in two sets of lanes (two independent chains of fused multiply-adds); at the end l = even + odd,
// added as ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)), then Q4_1's m · s_x terms, summed separately.
#include "lathe_kernels.h"
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define LATHE_SIMD 1
#else
#define LATHE_SIMD 0
#endif

static _Atomic int portable = 0;  // atomic: a test flips it while other threads read it

void lathe_q8_force_portable(int on) { portable = on; }

int lathe_q8_has_simd(void) { return LATHE_SIMD; }

static const int64_t block_bytes[3] = {18, 20, 34};

/// IEEE binary16 → float, exactly (subnormals, infinities and NaNs included).
static float half_to_float(const uint8_t *p) {
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

static float reduce_lanes(const float l[8]) {
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

static void quantize_portable(const float *x, int64_t blocks, lathe_q8_block *out) {
    for (int64_t b = 0; b < blocks; b++) {
        const float *v = x + 32 * b;
        float amax = 0;
        for (int k = 0; k < 32; k++) amax = fmaxf(amax, fabsf(v[k]));
        float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int k = 0; k < 32; k++) {
            // |x · id| ≤ 127 for finite blocks; a NaN (or an infinity, which makes id 0) gives 0 here rather than
            // the undefined behaviour of converting it to int. Such a block's result is not finite either way.
            float r = nearbyintf(v[k] * id);
            int q = r >= 127 ? 127 : r <= -127 ? -127 : r == r ? (int)r : 0;
            out[b].q[k] = (int8_t)q;
            sum += q;
        }
        out[b].d = d;
        out[b].s = d * (float)sum;
    }
}

/// Value k of a weight block as a small integer.
static int weight_value(lathe_weight_type type, const uint8_t *block, int k) {
    switch (type) {
    case LATHE_Q4_0: return (k < 16 ? block[2 + k] & 0x0F : block[2 + k - 16] >> 4) - 8;
    case LATHE_Q4_1: return k < 16 ? block[4 + k] & 0x0F : block[4 + k - 16] >> 4;
    default: return (int8_t)block[2 + k];
    }
}

static float dot_portable(lathe_weight_type type, const uint8_t *row, const lathe_q8_block *x, int64_t blocks) {
    float lanes[2][8] = {{0}}, offsets = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *block = row + b * block_bytes[type];
        float scale = half_to_float(block) * x[b].d;
        for (int j = 0; j < 8; j++) {
            int sum = 0;
            for (int k = 4 * j; k < 4 * j + 4; k++) sum += weight_value(type, block, k) * x[b].q[k];
            lanes[b & 1][j] = fmaf(scale, (float)sum, lanes[b & 1][j]);
        }
        if (type == LATHE_Q4_1) offsets = fmaf(half_to_float(block + 2), x[b].s, offsets);
    }
    float total[8];
    for (int j = 0; j < 8; j++) total[j] = lanes[0][j] + lanes[1][j];
    return reduce_lanes(total) + offsets;
}

#if LATHE_SIMD
#define NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)  // half to even, as nearbyintf

static void quantize_simd(const float *x, int64_t blocks, lathe_q8_block *out) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < blocks; b++) {
        const float *v = x + 32 * b;
        __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8), v2 = _mm256_loadu_ps(v + 16), v3 = _mm256_loadu_ps(v + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        float amax = _mm_cvtss_f32(h);
        float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
        const __m256 scale = _mm256_set1_ps(id);
        __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, scale), NEAREST));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, scale), NEAREST));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, scale), NEAREST));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, scale), NEAREST));
        __m256i total = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        __m128i t = _mm_add_epi32(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
        // Pack to bytes: packs works within 128-bit halves, so the dwords come out permuted; put them back.
        __m256i w01 = _mm256_packs_epi32(i0, i1), w23 = _mm256_packs_epi32(i2, i3);
        __m256i bytes = _mm256_packs_epi16(w01, w23);
        bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)out[b].q, bytes);
        out[b].d = d;
        out[b].s = d * (float)_mm_cvtsi128_si32(t);
    }
}

/// The 32 values of a weight block as bytes in value order: unsigned nibbles for Q4_1, signed otherwise.
static inline __attribute__((always_inline)) __m256i weight_bytes(lathe_weight_type type, const uint8_t *block) {
    if (type == LATHE_Q8_0) return _mm256_loadu_si256((const __m256i *)(block + 2));
    __m128i packed = _mm_loadu_si128((const __m128i *)(block + (type == LATHE_Q4_1 ? 4 : 2)));
    __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    __m256i nibbles = _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
    return type == LATHE_Q4_0 ? _mm256_sub_epi8(nibbles, _mm256_set1_epi8(8)) : nibbles;
}

static inline float reduce_simd(__m256 lanes) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(lanes), _mm256_extractf128_ps(lanes, 1));  // l_j + l_{j+4}
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));                                                // (s0+s2), (s1+s3)
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

#define INLINE static inline __attribute__((always_inline))

/// The eight lane sums Σ v_k q_k (k = 4j..4j+3) of weight bytes `w` and one activation block, as floats (exact:
/// each is at most 4 · 128 · 127).
INLINE __m256 block_sums(lathe_weight_type type, __m256i w, const lathe_q8_block *x) {
    __m256i q = _mm256_loadu_si256((const __m256i *)x->q);
    __m256i pairs = type == LATHE_Q4_1 ? _mm256_maddubs_epi16(w, q)  // unsigned nibbles × signed
                                       : _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(q, w));
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

INLINE float half_at(const uint8_t *p) { return _cvtsh_ss((unsigned short)(p[0] | (p[1] << 8))); }

/// `group` (1…3) vectors at once, each `blocks` blocks after the last: every weight block is unpacked once for all
/// of them (three keep their six accumulators and both weight blocks in registers; four spilled), and each
/// vector's sums run exactly as they would alone. `type` and `group` are constants at each call
/// below, so their branches and loops fold away.
INLINE void dots_simd(lathe_weight_type type, int group, const uint8_t *row, const lathe_q8_block *x, int64_t blocks,
                      float *out, int64_t out_stride) {
    const int64_t stride = block_bytes[type];
    __m256 even[3], odd[3];
    float offsets[3];
    for (int g = 0; g < group; g++) { even[g] = odd[g] = _mm256_setzero_ps(); offsets[g] = 0; }
    int64_t b = 0;
    for (; b + 1 < blocks; b += 2) {
        const uint8_t *first = row + b * stride, *second = first + stride;
        __m256i w1 = weight_bytes(type, first), w2 = weight_bytes(type, second);
        float d1 = half_at(first), d2 = half_at(second);
        for (int g = 0; g < group; g++) {
            const lathe_q8_block *xg = x + g * blocks + b;
            even[g] = _mm256_fmadd_ps(_mm256_set1_ps(d1 * xg[0].d), block_sums(type, w1, xg), even[g]);
            odd[g] = _mm256_fmadd_ps(_mm256_set1_ps(d2 * xg[1].d), block_sums(type, w2, xg + 1), odd[g]);
            if (type == LATHE_Q4_1) {
                offsets[g] = fmaf(half_at(first + 2), xg[0].s, offsets[g]);
                offsets[g] = fmaf(half_at(second + 2), xg[1].s, offsets[g]);
            }
        }
    }
    if (b < blocks) {
        const uint8_t *last = row + b * stride;
        __m256i w = weight_bytes(type, last);
        float d = half_at(last);
        for (int g = 0; g < group; g++) {
            const lathe_q8_block *xg = x + g * blocks + b;
            even[g] = _mm256_fmadd_ps(_mm256_set1_ps(d * xg->d), block_sums(type, w, xg), even[g]);
            if (type == LATHE_Q4_1) offsets[g] = fmaf(half_at(last + 2), xg->s, offsets[g]);
        }
    }
    for (int g = 0; g < group; g++) out[g * out_stride] = reduce_simd(_mm256_add_ps(even[g], odd[g])) + offsets[g];
}

#define GROUPS(type)                                                                                               \
    static void dots_simd_##type(const uint8_t *row, const lathe_q8_block *x, int64_t blocks, int group,          \
                                 float *out, int64_t out_stride) {                                                 \
        switch (group) {                                                                                           \
        case 1: dots_simd(LATHE_##type, 1, row, x, blocks, out, out_stride); break;                                \
        case 2: dots_simd(LATHE_##type, 2, row, x, blocks, out, out_stride); break;                                \
        default: dots_simd(LATHE_##type, 3, row, x, blocks, out, out_stride); break;                               \
        }                                                                                                          \
    }
GROUPS(Q4_0)
GROUPS(Q4_1)
GROUPS(Q8_0)
#endif

void lathe_quantize_q8(const float *x, int64_t blocks, lathe_q8_block *out) {
#if LATHE_SIMD
    if (!portable) { quantize_simd(x, blocks, out); return; }
#endif
    quantize_portable(x, blocks, out);
}

void lathe_dots_q8(lathe_weight_type type, const void *row, const lathe_q8_block *x, int64_t blocks, int64_t count,
                   float *out, int64_t out_stride) {
    for (int64_t first = 0; first < count; first += 3) {
        int group = count - first < 3 ? (int)(count - first) : 3;
        const lathe_q8_block *xs = x + first * blocks;
        float *ys = out + first * out_stride;
#if LATHE_SIMD
        if (!portable) {
            switch (type) {
            case LATHE_Q4_0: dots_simd_Q4_0((const uint8_t *)row, xs, blocks, group, ys, out_stride); break;
            case LATHE_Q4_1: dots_simd_Q4_1((const uint8_t *)row, xs, blocks, group, ys, out_stride); break;
            default: dots_simd_Q8_0((const uint8_t *)row, xs, blocks, group, ys, out_stride); break;
            }
            continue;
        }
#endif
        for (int g = 0; g < group; g++) ys[g * out_stride] = dot_portable(type, (const uint8_t *)row, xs + g * blocks, blocks);
    }
}
