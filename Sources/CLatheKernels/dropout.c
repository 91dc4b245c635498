// LoRA dropout's eight-wide Swift loops (LatheTensors/Dropout.swift) emulate each 64-bit multiply of the SplitMix64
// hash with three 32-bit ones when the package targets Haswell. AVX-512 DQ multiplies eight 64-bit lanes in one
// instruction (`vpmullq`); these bodies decide sixteen elements per step with it and make the same decisions:
// element i is dropped when the top 24 bits of SplitMix64's draw number i + 1 under `key` are below `threshold`.
#include "lathe_kernels.h"

// `dx += v · k` rounds the product, then the sum, as Swift does: no fused multiply-add in the scalar tails, whose
// results must equal the vector bodies' (and the Swift ops') bit for bit.
#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define DQ __attribute__((target("avx512f,avx512dq")))

static const uint64_t increment = 0x9E3779B97F4A7C15ull;

/// The 24-bit draw of element `i`: SplitMix64's finaliser of key + (i + 1)·increment, shifted right by 40.
static uint32_t draw_bits(uint64_t key, int64_t i) {
    uint64_t z = key + ((uint64_t)i + 1) * increment;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) >> 40);
}

/// The draws of the eight elements whose `i + 1` are the lanes of `next`.
static inline __attribute__((always_inline, target("avx512f,avx512dq"))) __m256i draw_bits8(__m512i key, __m512i next) {
    __m512i z = _mm512_add_epi64(key, _mm512_mullo_epi64(next, _mm512_set1_epi64((long long)increment)));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ull));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), _mm512_set1_epi64((long long)0x94D049BB133111EBull));
    return _mm512_cvtepi64_epi32(_mm512_srli_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 31)), 40));
}

/// The dropped elements among i ..< i + 16, bit j for element i + j.
static inline __attribute__((always_inline, target("avx512f,avx512dq"))) __mmask16 drops16(uint64_t key, int64_t i,
                                                                                            __m512i threshold) {
    __m512i keys = _mm512_set1_epi64((long long)key);
    __m512i next = _mm512_add_epi64(_mm512_set1_epi64(i + 1), _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
    __m256i low = draw_bits8(keys, next), high = draw_bits8(keys, _mm512_add_epi64(next, _mm512_set1_epi64(8)));
    __m512i bits = _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
    return _mm512_cmplt_epu32_mask(bits, threshold);
}

DQ void lathe_dropout_forward(uint64_t key, uint32_t threshold, int64_t first, int64_t count, const float *x,
                              float *out, float scale) {
    const __m512i limit = _mm512_set1_epi32((int)threshold);
    const __m512 factor = _mm512_set1_ps(scale);
    int64_t i = first, end = first + count;
    for (; i + 16 <= end; i += 16) {
        __mmask16 dropped = drops16(key, i, limit);
        _mm512_storeu_ps(out + i, _mm512_maskz_mul_ps((__mmask16)~dropped, _mm512_loadu_ps(x + i), factor));
    }
    for (; i < end; i++) out[i] = draw_bits(key, i) < threshold ? 0.0f : x[i] * scale;
}

DQ void lathe_dropout_add(uint64_t key, uint32_t threshold, int64_t first, int64_t count, const float *values,
                          float *dx, float kept, float dropped, int adds_dropped) {
    const __m512i limit = _mm512_set1_epi32((int)threshold);
    const __m512 keptFactor = _mm512_set1_ps(kept), droppedFactor = _mm512_set1_ps(dropped);
    int64_t i = first, end = first + count;
    for (; i + 16 <= end; i += 16) {
        __mmask16 drops = drops16(key, i, limit);
        __m512 old = _mm512_loadu_ps(dx + i), v = _mm512_loadu_ps(values + i);
        __m512 factor = _mm512_mask_mov_ps(keptFactor, drops, droppedFactor);
        __m512 sum = _mm512_add_ps(old, _mm512_mul_ps(v, factor));
        _mm512_storeu_ps(dx + i, adds_dropped ? sum : _mm512_mask_mov_ps(sum, drops, old));
    }
    for (; i < end; i++) {
        if (draw_bits(key, i) >= threshold) dx[i] += values[i] * kept;
        else if (adds_dropped) dx[i] += values[i] * dropped;
    }
}

#else

void lathe_dropout_forward(uint64_t key, uint32_t threshold, int64_t first, int64_t count, const float *x,
                           float *out, float scale) {
    (void)key; (void)threshold; (void)first; (void)count; (void)x; (void)out; (void)scale;
}
void lathe_dropout_add(uint64_t key, uint32_t threshold, int64_t first, int64_t count, const float *values,
                       float *dx, float kept, float dropped, int adds_dropped) {
    (void)key; (void)threshold; (void)first; (void)count; (void)values; (void)dx; (void)kept; (void)dropped;
    (void)adds_dropped;
}

#endif
