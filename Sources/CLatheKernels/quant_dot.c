// See lathe_kernels.h. Block layouts are ggml's: Q4_0 {f16 d; u8 qs[16]} (value = (nibble − 8) · d),
// Q4_1 {f16 d; f16 m; u8 qs[16]} (value = nibble · d + m), Q8_0 {f16 d; i8 qs[32]} (value = q · d); value k < 16 is
// the low nibble of qs[k], value k ≥ 16 the high nibble of qs[k − 16].
//
// A block's dot is Σ_k w_k · x_k with w_k = d_w · v_k (+ m) and x_k = d_x · q_k, that is d_w · d_x · I + m · s_x,
// where I = Σ v_k q_k is an exact integer and s_x = d_x · Σ q_k (rounded to fp32 once). One (row, vector) pair's result is the recurrence
//     acc = fma(float(I_b), d_w,b · d_x,b, acc)    over blocks b = 0, 1, … in order, from acc = 0,
//     off = fma(m_b, s_x,b, off)                   (Q4_1 only, from off = 0),
//     result = acc + off for Q4_1, acc otherwise,
// whatever is computed beside it. The SIMD body runs eight pairs at once, one per float lane: a tile of R rows × V
// vectors (R · V = 8) whose integer block sums are each reduced from their own register, so lanes never mix pairs.
// Hence a vector's results are the same bits alone as in a batch, and the portable body (one pair at a time)
// returns the same bits as the SIMD one. The VNNI512 body hands each group of 9 to 16 vectors to the 16-lane tile of
// quant_dot_wide.c, which computes the same recurrence with one lane per pair.
#include "lathe_kernels.h"
#include "half.h"
#include "quant_dot_wide.h"
#include <math.h>
#include <stdlib.h>
#include <stdatomic.h>
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define LATHE_SIMD 1
#else
#define LATHE_SIMD 0
#endif

static _Atomic int forced = -1;  // atomic: a test sets it while other threads read it

int lathe_q8_body_available(lathe_q8_body body) {
    switch (body) {
    case LATHE_Q8_PORTABLE: return 1;
    case LATHE_Q8_AVX2: return LATHE_SIMD;
    case LATHE_Q8_VNNI:
#if LATHE_SIMD
        return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl");
#else
        return 0;
#endif
    case LATHE_Q8_VNNI512: return lathe_q8_body_available(LATHE_Q8_VNNI) && lathe_q8_wide_available();
    }
    return 0;
}

void lathe_q8_force_body(int body) { forced = body; }

#if LATHE_SIMD
/// The body products run now: the forced one when it is available, else the fastest available.
static lathe_q8_body current_body(void) {
    int f = forced;
    if (f >= LATHE_Q8_PORTABLE && f <= LATHE_Q8_VNNI512 && lathe_q8_body_available((lathe_q8_body)f)) return (lathe_q8_body)f;
    return lathe_q8_body_available(LATHE_Q8_VNNI512) ? LATHE_Q8_VNNI512
           : lathe_q8_body_available(LATHE_Q8_VNNI)  ? LATHE_Q8_VNNI
                                                     : LATHE_Q8_AVX2;
}
#endif

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
        out[b].sum = sum;
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

/// One (row, vector) pair, by the recurrence in the header comment.
static float pair_portable(lathe_weight_type type, const uint8_t *row, const lathe_q8_block *x, int64_t blocks) {
    float acc = 0, off = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *block = row + b * lathe_block_bytes[type];
        int sum = 0;
        for (int k = 0; k < 32; k++) sum += weight_value(type, block, k) * x[b].q[k];
        float scale = lathe_half_to_float(block) * x[b].d;
        acc = fmaf((float)sum, scale, acc);
        if (type == LATHE_Q4_1) off = fmaf(lathe_half_to_float(block + 2), x[b].d * (float)x[b].sum, off);
    }
    return type == LATHE_Q4_1 ? acc + off : acc;
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
        out[b].sum = _mm_cvtsi128_si32(t);
    }
}

#define INLINE static inline __attribute__((always_inline))

/// The 32 values of a weight block as bytes in value order: nibbles (0…15) for Q4_0 and Q4_1 (Q4_0's − 8 is taken
/// out of the integer sum), signed bytes for Q8_0.
INLINE __m256i weight_bytes(lathe_weight_type type, const uint8_t *block) {
    if (type == LATHE_Q8_0) return _mm256_loadu_si256((const __m256i *)(block + 2));
    __m128i packed = _mm_loadu_si128((const __m128i *)(block + (type == LATHE_Q4_1 ? 4 : 2)));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
}

/// vpdpbusd (AVX-512 VNNI, 256-bit form): acc + Σ of each four adjacent unsigned bytes of u times signed bytes of s,
/// per int32 lane — vpmaddubsw and vpmaddwd in one instruction. Written as assembly so this file still compiles for a
/// CPU without it; `lathe_matvec_q8` takes it only where the CPU reports AVX-512 VNNI and VL.
INLINE __m256i dot_bytes_vnni(__m256i acc, __m256i u, __m256i s) {
    __asm__("%{evex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u), "x"(s));
    return acc;
}

/// Σ_k w_k · q_k of one weight block and one activation block as eight int32 partial sums (values 4j…4j+3), the
/// same integers with or without VNNI. `magnitude` is |w| for Q8_0 (both instructions multiply unsigned by signed
/// bytes; the sign moves to q), w otherwise. No 16-bit sum of vpmaddubsw saturates: nibbles give at most
/// 2 · 15 · 127, Q8_0 at most 2 · 128 · 127.
INLINE __m256i block_sums(lathe_weight_type type, int vnni, __m256i w, __m256i magnitude, const lathe_q8_block *x) {
    __m256i q = _mm256_loadu_si256((const __m256i *)x->q);
    __m256i u = type == LATHE_Q8_0 ? magnitude : w, signed_q = type == LATHE_Q8_0 ? _mm256_sign_epi8(q, w) : q;
    if (vnni) return dot_bytes_vnni(_mm256_setzero_si256(), u, signed_q);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, signed_q), _mm256_set1_epi16(1));
}

/// Lane i = the total of s[i]'s eight lanes (exact: integers).
INLINE __m256i lane_totals(const __m256i s[8]) {
    __m256i low = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
    __m256i high = _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(low, high, 0x20), _mm256_permute2x128_si256(low, high, 0x31));
}

/// The activation side of a tile's eight lanes at one block: each lane's vector's d, s and Σ q.
typedef struct { float d[8], s[8]; int32_t sum[8]; } lane_block;

/// One tile of R rows × V vectors: lane i = r · V + v pairs `rows[r]` with the vector whose blocks start at
/// `vectors[v]`; `lanes` holds the lanes' activation scales per block; `offsets` lane i = rows[i / V] − rows[0] in
/// bytes (read when R > 1, to gather the lanes' weight scales); `ahead` (when not 0) is how far past each row to
/// prefetch. Each weight block is unpacked once for its V vectors.
INLINE __m256 tile_simd(lathe_weight_type type, int vnni, int R, int V, const uint8_t *const rows[8],
                        const lathe_q8_block *const vectors[8], const lane_block *lanes, __m256i offsets,
                        int64_t blocks, int64_t ahead) {
    const int64_t stride = lathe_block_bytes[type];
    __m256 acc = _mm256_setzero_ps(), off = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; b++) {
        __m256i w[8], magnitude[8], s[8];
        for (int r = 0; r < R; r++) {
            if (R > 1 && ahead) _mm_prefetch((const char *)(rows[r] + b * stride + ahead), _MM_HINT_T0);
            w[r] = weight_bytes(type, rows[r] + b * stride);
            magnitude[r] = type == LATHE_Q8_0 ? _mm256_sign_epi8(w[r], w[r]) : w[r];
        }
        for (int r = 0; r < R; r++)
            for (int v = 0; v < V; v++) s[r * V + v] = block_sums(type, vnni, w[r], magnitude[r], vectors[v] + b);
        const lane_block *l = lanes + b;
        __m256i total = lane_totals(s);
        if (type == LATHE_Q4_0)  // Σ (nibble − 8) · q = Σ nibble · q − 8 Σ q
            total = _mm256_sub_epi32(total, _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)l->sum), 3));
        __m256 dw, m = _mm256_setzero_ps();
        if (R == 1) {
            dw = lathe_half_lanes(rows[0] + b * stride);
            if (type == LATHE_Q4_1) m = lathe_half_lanes(rows[0] + b * stride + 2);
        } else {  // each lane's row's first 4 bytes (d, and Q4_1's m) in one gather; then the halves apart
            __m256i g = _mm256_i32gather_epi32((const int *)(rows[0] + b * stride), offsets, 1);
            __m256i halves = _mm256_packus_epi32(_mm256_and_si256(g, _mm256_set1_epi32(0xFFFF)), _mm256_srli_epi32(g, 16));
            halves = _mm256_permute4x64_epi64(halves, 0xD8);  // d0…d7 | m0…m7
            dw = _mm256_cvtph_ps(_mm256_castsi256_si128(halves));
            if (type == LATHE_Q4_1) m = _mm256_cvtph_ps(_mm256_extracti128_si256(halves, 1));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(dw, _mm256_loadu_ps(l->d)), acc);
        if (type == LATHE_Q4_1) off = _mm256_fmadd_ps(m, _mm256_loadu_ps(l->s), off);
    }
    return type == LATHE_Q4_1 ? _mm256_add_ps(acc, off) : acc;
}

typedef __m256 (*tile_function)(const uint8_t *const[8], const lathe_q8_block *const[8], const lane_block *, __m256i,
                                int64_t, int64_t);
#define TILE(body, vnni, type, R, V)                                                                              \
    static __m256 tile_##body##_##type##_##R##x##V(const uint8_t *const rows[8],                                   \
                                                   const lathe_q8_block *const vectors[8], const lane_block *lanes, \
                                                   __m256i offsets, int64_t blocks, int64_t ahead) {                \
        return tile_simd(LATHE_##type, vnni, R, V, rows, vectors, lanes, offsets, blocks, ahead);                 \
    }
#define TILES(body, vnni, type)                                                                                    \
    TILE(body, vnni, type, 1, 8) TILE(body, vnni, type, 2, 4) TILE(body, vnni, type, 4, 2) TILE(body, vnni, type, 8, 1)
TILES(avx2, 0, Q4_0) TILES(avx2, 0, Q4_1) TILES(avx2, 0, Q8_0)
TILES(vnni, 1, Q4_0) TILES(vnni, 1, Q4_1) TILES(vnni, 1, Q8_0)
#define SHAPES(body, type) {tile_##body##_##type##_1x8, tile_##body##_##type##_2x4, tile_##body##_##type##_4x2, tile_##body##_##type##_8x1}
/// By body (AVX2, VNNI), type, then shape: 1 × 8, 2 × 4, 4 × 2, 8 × 1 (rows × vectors).
static const tile_function tiles[2][3][4] = {
    {SHAPES(avx2, Q4_0), SHAPES(avx2, Q4_1), SHAPES(avx2, Q8_0)},
    {SHAPES(vnni, Q4_0), SHAPES(vnni, Q4_1), SHAPES(vnni, Q8_0)},
};

/// Rows [first, end) × vectors [v0, v0 + valid) (valid ≤ 8) in tiles of the shape that wastes fewest lanes:
/// 8 vectors share each weight block; one vector takes 8 rows at a time, two 4, three or four 2; five to seven take
/// the 8-vector shape with the last vector repeated in the spare lanes (computed, not stored). `lanes` has room for
/// `blocks` entries.
static void tiles_simd(const tile_function shapes[4], lathe_weight_type type, const uint8_t *base, int64_t row_bytes,
                       const int32_t *order, int64_t first, int64_t end, const lathe_q8_block *x, int64_t blocks,
                       int64_t v0, int valid, float *out, int64_t ldy, lane_block *lanes) {
    const int shape = valid == 1 ? 3 : valid == 2 ? 2 : valid <= 4 ? 1 : 0, R = 1 << shape, V = 8 / R;
    const lathe_q8_block *vectors[8];
    for (int v = 0; v < V; v++) vectors[v] = x + (v0 + (v < valid ? v : valid - 1)) * blocks;
    for (int64_t b = 0; b < blocks; b++) {
        for (int i = 0; i < 8; i++) {
            const lathe_q8_block *block = vectors[i % V] + b;
            lanes[b].d[i] = block->d;
            lanes[b].s[i] = block->d * (float)block->sum;
            lanes[b].sum[i] = block->sum;
        }
    }
    for (int64_t r0 = first; r0 < end; r0 += R) {
        const uint8_t *rows[8];
        for (int r = 0; r < R; r++) rows[r] = lathe_tile_row(base, row_bytes, order, r0 + r, end);
        int32_t offsets[8];
        int gatherable = 1;
        for (int i = 0; i < 8; i++) {
            int64_t offset = rows[i / V] - rows[0];
            gatherable &= offset >= INT32_MIN && offset <= INT32_MAX;
            offsets[i] = (int32_t)offset;
        }
        float result[8];
        if (gatherable) {  // rows in stored order: prefetch the next tile's (R rows further) while this one runs
            __m256i lane_offsets = _mm256_loadu_si256((const __m256i *)offsets);
            _mm256_storeu_ps(result, shapes[shape](rows, vectors, lanes, lane_offsets, blocks, order ? 0 : R * row_bytes));
        } else {  // rows too far apart in a huge matrix for 32-bit gather offsets: the same pairs one at a time
            for (int i = 0; i < 8; i++) result[i] = pair_portable(type, rows[i / V], vectors[i % V], blocks);
        }
        for (int r = 0; r < R && r0 + r < end; r++)
            for (int v = 0; v < valid; v++) out[(v0 + v) * ldy + r0 + r] = result[r * V + v];
    }
}
#endif

void lathe_quantize_q8(const float *x, int64_t blocks, lathe_q8_block *out) {
#if LATHE_SIMD
    if (current_body() != LATHE_Q8_PORTABLE) { quantize_simd(x, blocks, out); return; }
#endif
    quantize_portable(x, blocks, out);
}

void lathe_matvec_q8(lathe_weight_type type, const void *matrix, int64_t row_bytes, const int32_t *order,
                     int64_t first_row, int64_t row_count, const lathe_q8_block *x, int64_t blocks, int64_t count,
                     float *out, int64_t ldy) {
    const uint8_t *base = (const uint8_t *)matrix;
    const int64_t end = first_row + row_count;
#if LATHE_SIMD
    const lathe_q8_body body = current_body();
    lane_block *lanes = body == LATHE_Q8_PORTABLE ? NULL
                                                  : (lane_block *)malloc((size_t)(blocks > 0 ? blocks : 1) * sizeof *lanes);
    if (lanes) {  // (when malloc fails, the portable body below returns the same bits)
        for (int64_t v0 = 0; v0 < count;) {
            const int64_t left = count - v0;
            if (body == LATHE_Q8_VNNI512 && left > 8) {  // one 16-lane pass instead of two 8-lane ones
                const int valid = left < 16 ? (int)left : 16;
                if (lathe_q8_wide_tiles(type, base, row_bytes, order, first_row, end, x, blocks, v0, valid, out, ldy)) {
                    v0 += valid;
                    continue;
                }
            }
            const int valid = left < 8 ? (int)left : 8;
            tiles_simd(tiles[body != LATHE_Q8_AVX2][type], type, base, row_bytes, order, first_row, end, x, blocks, v0,
                       valid, out, ldy, lanes);
            v0 += valid;
        }
        free(lanes);
        return;
    }
#endif
    for (int64_t v = 0; v < count; v++)
        for (int64_t row = first_row; row < end; row++)
            out[v * ldy + row] = pair_portable(type, base + (order ? (int64_t)order[row] : row) * row_bytes,
                                               x + v * blocks, blocks);
}
