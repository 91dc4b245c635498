// See lathe_kernels.h (`lathe_matvec_f32`). The default decode product over a base kept in Q4_0, Q4_1 or Q8_0:
// each block dequantised in registers to the values `Dequantize` writes, multiplied by fp32 activations, and summed
// exactly as `QuantizedMatrix.multiplyRows` sums the same matrix dequantised at load — so both decode to the same
// logits, to the bit. For one (row, vector) pair:
//     w_k = d·(q_k − 8) (Q4_0), d·q_k + m (Q4_1), q_k·d (Q8_0), each operation rounded to fp32 (d·q is exact: an
//     11-bit scale times an integer of at most 8 bits, so the AVX2 body's fused d·q + m rounds the same);
//     lane k (k = 0…31, the value's position in its block) sums w_k · x_k over a run of 8 blocks in block order,
//     the product and the sum each rounded to fp32;
//     a run's 32 lanes go into Double in the tree of `lanes_total`, and the runs' totals into Double in order;
//     the result is that total rounded to fp32.
// The portable body computes this one pair at a time; the AVX2 body holds a pair's 32 lanes in four 8-float
// registers, for one or two vectors at a time; the AVX-512 body in two 16-float registers, for up to four vectors
// (chosen at run time where the CPU reports AVX-512 F). All return the same bits: every lane's operations and their
// order are the same, only the register width differs.
#pragma STDC FP_CONTRACT OFF  // no fusing the compiler chose: every product and sum rounded as Swift rounds them
#include "lathe_kernels.h"
#include "half.h"
#include <stdatomic.h>
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define LATHE_F32_SIMD 1
#else
#define LATHE_F32_SIMD 0
#endif

static _Atomic int forced_f32 = -1;  // atomic: a test sets it while other threads read it

int lathe_f32_body_available(lathe_f32_body body) {
    switch (body) {
    case LATHE_F32_PORTABLE: return 1;
    case LATHE_F32_AVX2: return LATHE_F32_SIMD;
    case LATHE_F32_AVX512:
#if LATHE_F32_SIMD
        return __builtin_cpu_supports("avx512f");  // set only where the OS saves the 512-bit registers too
#else
        return 0;
#endif
    }
    return 0;
}

void lathe_f32_force_body(int body) { forced_f32 = body; }

#if LATHE_F32_SIMD
/// The body products run now: the forced one when it is available, else the fastest available.
static lathe_f32_body current_f32_body(void) {
    int f = forced_f32;
    if (f >= LATHE_F32_PORTABLE && f <= LATHE_F32_AVX512 && lathe_f32_body_available((lathe_f32_body)f)) return (lathe_f32_body)f;
    return lathe_f32_body_available(LATHE_F32_AVX512) ? LATHE_F32_AVX512 : LATHE_F32_AVX2;
}
#endif

/// Blocks whose lanes sum in fp32 before a run's total goes into Double (`QuantizedMatrix.span`).
enum { RUN = 8 };

/// The 32 lanes of a run in Double: element i of ((L0 + L1) + (L2 + L3)) + ((L4 + L5) + (L6 + L7)), Lj being lanes
/// 4j…4j+3, then (s0 + s1) + (s2 + s3) — `QuantizedMatrix.exactSum`'s tree.
static double lanes_total(const float lanes[32]) {
    double s[4];
    for (int i = 0; i < 4; i++)
        s[i] = (((double)lanes[i] + lanes[4 + i]) + ((double)lanes[8 + i] + lanes[12 + i]))
               + (((double)lanes[16 + i] + lanes[20 + i]) + ((double)lanes[24 + i] + lanes[28 + i]));
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/// Value k of a block, dequantised as `Dequantize` does.
static float weight(lathe_weight_type type, const uint8_t *block, int k) {
    float d = lathe_half_to_float(block);
    switch (type) {
    case LATHE_Q4_0: return d * (float)((k < 16 ? block[2 + k] & 0x0F : block[2 + k - 16] >> 4) - 8);
    case LATHE_Q4_1:
        return d * (float)(k < 16 ? block[4 + k] & 0x0F : block[4 + k - 16] >> 4) + lathe_half_to_float(block + 2);
    default: return (float)(int8_t)block[2 + k] * d;
    }
}

static float pair_portable(lathe_weight_type type, const uint8_t *row, const float *x, int64_t blocks) {
    const int64_t stride = lathe_block_bytes[type];
    double total = 0;
    for (int64_t first = 0; first < blocks; first += RUN) {
        float lanes[32] = {0};
        for (int64_t b = first; b < first + RUN && b < blocks; b++)
            for (int k = 0; k < 32; k++) lanes[k] = lanes[k] + weight(type, row + b * stride, k) * x[32 * b + k];
        total += lanes_total(lanes);
    }
    return (float)total;
}

#if LATHE_F32_SIMD
#define INLINE static inline __attribute__((always_inline))

/// A block's quants as int32 in position order: positions 8j…8j+7 in q[j]. Each 8 bytes are widened straight from
/// memory; a 4-bit block's low nibbles are then masked, its high nibbles shifted down (bytes zero-extended to int32).
INLINE void quants_avx2(lathe_weight_type type, const uint8_t *block, __m256i q[4]) {
    if (type == LATHE_Q8_0) {
        for (int j = 0; j < 4; j++) q[j] = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(block + 2 + 8 * j)));
        return;
    }
    const uint8_t *packed = block + (type == LATHE_Q4_1 ? 4 : 2);
    __m256i first = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)packed));
    __m256i second = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(packed + 8)));
    q[0] = _mm256_and_si256(first, _mm256_set1_epi32(0x0F)), q[1] = _mm256_and_si256(second, _mm256_set1_epi32(0x0F));
    q[2] = _mm256_srli_epi32(first, 4), q[3] = _mm256_srli_epi32(second, 4);
}

/// A block's 32 dequantised values, positions 8j…8j+7 in w[j]. d · q is exact in fp32 (an 11-bit scale times an
/// integer of at most 8 bits), so Q4_1's d · q + m in one fused multiply-add rounds once, as the two operations do.
INLINE void values_avx2(lathe_weight_type type, const uint8_t *block, __m256 w[4]) {
    __m256i q[4];
    quants_avx2(type, block, q);
    const __m256 d = lathe_half_lanes(block);
    for (int j = 0; j < 4; j++) {
        if (type == LATHE_Q4_0) w[j] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_sub_epi32(q[j], _mm256_set1_epi32(8))));
        else if (type == LATHE_Q4_1) w[j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(q[j]), lathe_half_lanes(block + 2));
        else w[j] = _mm256_mul_ps(_mm256_cvtepi32_ps(q[j]), d);
    }
}

/// `lanes_total` of lanes held as four registers of eight (positions 8j…8j+7 in a[j]).
INLINE double total_avx2(const __m256 a[4]) {
    __m256d l[8];
    for (int j = 0; j < 4; j++) {
        l[2 * j] = _mm256_cvtps_pd(_mm256_castps256_ps128(a[j]));
        l[2 * j + 1] = _mm256_cvtps_pd(_mm256_extractf128_ps(a[j], 1));
    }
    __m256d s = _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(l[0], l[1]), _mm256_add_pd(l[2], l[3])),
                              _mm256_add_pd(_mm256_add_pd(l[4], l[5]), _mm256_add_pd(l[6], l[7])));
    __m128d low = _mm256_castpd256_pd128(s), high = _mm256_extractf128_pd(s, 1);
    __m128d pairs = _mm_hadd_pd(low, high);  // (s0 + s1, s2 + s3)
    return _mm_cvtsd_f64(_mm_add_sd(pairs, _mm_unpackhi_pd(pairs, pairs)));
}

/// One row with V ≤ 2 vectors (`x[v]`), each block unpacked once for both; `result[v]` receives each pair's result.
/// (Two pairs are eight accumulators: more would spill the sixteen registers.)
INLINE void row_avx2(lathe_weight_type type, int V, const uint8_t *row, const float *const x[2], int64_t blocks,
                     float *result) {
    const int64_t stride = lathe_block_bytes[type];
    double total[2] = {0, 0};
    for (int64_t first = 0; first < blocks; first += RUN) {
        __m256 acc[2][4];
        for (int v = 0; v < V; v++)
            for (int j = 0; j < 4; j++) acc[v][j] = _mm256_setzero_ps();
        const int64_t end = first + RUN < blocks ? first + RUN : blocks;
        for (int64_t b = first; b < end; b++) {
            __m256 w[4];
            values_avx2(type, row + b * stride, w);
            for (int v = 0; v < V; v++)
                for (int j = 0; j < 4; j++)
                    acc[v][j] = _mm256_add_ps(acc[v][j], _mm256_mul_ps(w[j], _mm256_loadu_ps(x[v] + 32 * b + 8 * j)));
        }
        for (int v = 0; v < V; v++) total[v] += total_avx2(acc[v]);
    }
    for (int v = 0; v < V; v++) result[v] = (float)total[v];
}

typedef void (*row_function)(const uint8_t *, const float *const[2], int64_t, float *);
#define ROW(type, V)                                                                                              \
    static void row_##type##_##V(const uint8_t *row, const float *const x[2], int64_t blocks, float *result) {     \
        row_avx2(LATHE_##type, V, row, x, blocks, result);                                                        \
    }
ROW(Q4_0, 1) ROW(Q4_0, 2) ROW(Q4_1, 1) ROW(Q4_1, 2) ROW(Q8_0, 1) ROW(Q8_0, 2)
/// By type, then vectors − 1.
static const row_function rows_f32[3][2] = {{row_Q4_0_1, row_Q4_0_2}, {row_Q4_1_1, row_Q4_1_2}, {row_Q8_0_1, row_Q8_0_2}};

// The AVX-512 body, compiled for AVX-512 F whatever the package targets and run only where the CPU has it.
#define AVX512 __attribute__((target("avx512f")))

/// A half-precision scale in all sixteen lanes (the conversion is exact, as `lathe_half_lanes`'s).
INLINE AVX512 __m512 half_lanes_avx512(const uint8_t *p) {
    int16_t h;
    memcpy(&h, p, 2);
    return _mm512_cvtph_ps(_mm256_set1_epi16(h));
}

/// A block's 32 dequantised values, positions 0…15 in w[0] and 16…31 in w[1]: lane for lane the operations of
/// `values_avx2` (a 4-bit block's byte i holds position i in its low nibble and i + 16 in its high one).
INLINE AVX512 void values_avx512(lathe_weight_type type, const uint8_t *block, __m512 w[2]) {
    __m512i q[2];
    if (type == LATHE_Q8_0) {
        q[0] = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(block + 2)));
        q[1] = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(block + 18)));
    } else {
        __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(block + (type == LATHE_Q4_1 ? 4 : 2))));
        q[0] = _mm512_and_si512(bytes, _mm512_set1_epi32(0x0F));
        q[1] = _mm512_srli_epi32(bytes, 4);
    }
    const __m512 d = half_lanes_avx512(block);
    for (int j = 0; j < 2; j++) {
        if (type == LATHE_Q4_0) w[j] = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(q[j], _mm512_set1_epi32(8))));
        else if (type == LATHE_Q4_1) w[j] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(q[j]), half_lanes_avx512(block + 2));
        else w[j] = _mm512_mul_ps(_mm512_cvtepi32_ps(q[j]), d);
    }
}

/// `total_avx2` of a pair's lanes held as two registers of sixteen.
INLINE AVX512 double total_avx512(__m512 low, __m512 high) {
    const __m256 a[4] = {_mm512_castps512_ps256(low), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(low), 1)),
                         _mm512_castps512_ps256(high), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(high), 1))};
    return total_avx2(a);
}

/// One row with V ≤ 4 vectors, each block unpacked once for all of them: 2·V accumulators and two values of 32.
INLINE AVX512 void row_avx512(lathe_weight_type type, int V, const uint8_t *row, const float *const x[4], int64_t blocks,
                              float *result) {
    const int64_t stride = lathe_block_bytes[type];
    double total[4] = {0, 0, 0, 0};
    for (int64_t first = 0; first < blocks; first += RUN) {
        __m512 acc[4][2];
        for (int v = 0; v < V; v++) acc[v][0] = acc[v][1] = _mm512_setzero_ps();
        const int64_t end = first + RUN < blocks ? first + RUN : blocks;
        for (int64_t b = first; b < end; b++) {
            __m512 w[2];
            values_avx512(type, row + b * stride, w);
            for (int v = 0; v < V; v++)
                for (int j = 0; j < 2; j++)
                    acc[v][j] = _mm512_add_ps(acc[v][j], _mm512_mul_ps(w[j], _mm512_loadu_ps(x[v] + 32 * b + 16 * j)));
        }
        for (int v = 0; v < V; v++) total[v] += total_avx512(acc[v][0], acc[v][1]);
    }
    for (int v = 0; v < V; v++) result[v] = (float)total[v];
}

typedef void (*row_function_4)(const uint8_t *, const float *const[4], int64_t, float *);
#define ROW512(type, V)                                                                                           \
    static AVX512 void row512_##type##_##V(const uint8_t *row, const float *const x[4], int64_t blocks, float *result) { \
        row_avx512(LATHE_##type, V, row, x, blocks, result);                                                      \
    }
ROW512(Q4_0, 1) ROW512(Q4_0, 2) ROW512(Q4_0, 3) ROW512(Q4_0, 4) ROW512(Q4_1, 1) ROW512(Q4_1, 2) ROW512(Q4_1, 3)
ROW512(Q4_1, 4) ROW512(Q8_0, 1) ROW512(Q8_0, 2) ROW512(Q8_0, 3) ROW512(Q8_0, 4)
/// By type, then vectors − 1.
static const row_function_4 rows_f32_512[3][4] = {{row512_Q4_0_1, row512_Q4_0_2, row512_Q4_0_3, row512_Q4_0_4},
                                                  {row512_Q4_1_1, row512_Q4_1_2, row512_Q4_1_3, row512_Q4_1_4},
                                                  {row512_Q8_0_1, row512_Q8_0_2, row512_Q8_0_3, row512_Q8_0_4}};
#endif

void lathe_matvec_f32(lathe_weight_type type, const void *matrix, int64_t row_bytes, const int32_t *order,
                      int64_t first_row, int64_t row_count, const float *x, int64_t blocks, int64_t count,
                      float *out, int64_t ldy) {
    const uint8_t *base = (const uint8_t *)matrix;
    const int64_t end = first_row + row_count;
#if LATHE_F32_SIMD
    const lathe_f32_body body = current_f32_body();
    if (body == LATHE_F32_AVX512) {  // vectors in fours, each row's blocks unpacked once per four
        for (int64_t v0 = 0; v0 < count; v0 += 4) {
            const int V = count - v0 < 4 ? (int)(count - v0) : 4;
            const float *vectors[4];
            for (int v = 0; v < 4; v++) vectors[v] = x + (v0 + (v < V ? v : V - 1)) * 32 * blocks;
            for (int64_t row = first_row; row < end; row++) {
                float result[4];
                rows_f32_512[type][V - 1](base + (order ? (int64_t)order[row] : row) * row_bytes, vectors, blocks, result);
                for (int v = 0; v < V; v++) out[(v0 + v) * ldy + row] = result[v];
            }
        }
        return;
    }
    if (body == LATHE_F32_AVX2) {  // vectors in pairs, each row's blocks unpacked once per pair
        for (int64_t v0 = 0; v0 < count; v0 += 2) {
            const int V = count - v0 < 2 ? 1 : 2;
            const float *vectors[2] = {x + v0 * 32 * blocks, x + (v0 + V - 1) * 32 * blocks};
            for (int64_t row = first_row; row < end; row++) {
                float result[2];
                rows_f32[type][V - 1](base + (order ? (int64_t)order[row] : row) * row_bytes, vectors, blocks, result);
                for (int v = 0; v < V; v++) out[(v0 + v) * ldy + row] = result[v];
            }
        }
        return;
    }
#endif
    for (int64_t v = 0; v < count; v++)
        for (int64_t row = first_row; row < end; row++)
            out[v * ldy + row] = pair_portable(type, base + (order ? (int64_t)order[row] : row) * row_bytes,
                                               x + v * 32 * blocks, blocks);
}
