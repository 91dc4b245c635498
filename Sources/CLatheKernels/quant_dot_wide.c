// The AVX-512 tile of `lathe_matvec_q8` for 9 to 16 vectors (the `LATHE_Q8_VNNI512` body; see lathe_kernels.h and
// the recurrence in quant_dot.c, which this tile computes to the bit).
//
// The eight-lane tiles hold one (row, vector) pair's block in a register of eight partial sums and reduce eight
// such registers across lanes at every block: the reduction costs more than the multiply-adds. Here lane v of one
// 16-lane register is vector v's pair with the row, all through the block. The activations are laid out once per
// call so that 4-byte group j of a block holds the 16 vectors' bytes 4j…4j+3 side by side; the row's 4 weight bytes
// of group j, broadcast to every lane, meet them in one vpdpbusd. Eight of those give each lane its pair's exact
// block sum: no reduction, and each weight block is unpacked once for all 16 vectors.
//
// vpdpbusd multiplies unsigned by signed bytes. Nibbles are unsigned already; a Q8_0 weight w goes in as w + 128
// (its sign bit flipped) and 128 · Σ q comes out of the sum, as Q4_0's 8 · Σ q does. Each lane's products stay below
// 2^31: at most 32 · 255 · 127.
#pragma STDC FP_CONTRACT OFF  // every product and sum rounded as the recurrence says
#include "lathe_kernels.h"
#include "half.h"
#include "quant_dot_wide.h"
#include <stdlib.h>
#include <string.h>

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

int lathe_q8_wide_available(void) {
    // avx512f is set only where the OS saves the 512-bit registers too.
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
}

#define WIDE static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vnni")))

/// One block of the 16 vectors, laid out for the tile: `q[j]` is group j (lane v = vector v's bytes 4j…4j+3); per
/// lane the vector's d, s = d · Σ q, and Σ q.
typedef struct {
    int8_t q[8][64];
    float d[16], s[16];
    int32_t sum[16];
} wide_block;

/// The block's 32 weights as eight 4-byte groups of unsigned bytes in value order: nibbles for Q4_0 and Q4_1 (value
/// k < 16 the low nibble of qs[k], k ≥ 16 the high nibble of qs[k − 16]); w + 128 for Q8_0.
WIDE void weight_groups(lathe_weight_type type, const uint8_t *block, uint32_t group[8]) {
    if (type == LATHE_Q8_0) {
        memcpy(group, block + 2, 32);
        for (int j = 0; j < 8; j++) group[j] ^= 0x80808080u;
        return;
    }
    uint32_t packed[4];
    memcpy(packed, block + (type == LATHE_Q4_1 ? 4 : 2), 16);
    for (int j = 0; j < 4; j++) {
        group[j] = packed[j] & 0x0F0F0F0Fu;
        group[j + 4] = (packed[j] >> 4) & 0x0F0F0F0Fu;
    }
}

/// The binary16 at `p` in all 16 lanes.
WIDE __m512 half_broadcast(const uint8_t *p) {
    unsigned short h;
    memcpy(&h, p, 2);
    return _mm512_set1_ps(_cvtsh_ss(h));
}

/// Rows `rows[0…R)` × the 16 lanes of `x`: `result[r]` lane v is the pair (row r, vector v). `ahead` (when not 0)
/// is how far past each row to prefetch.
WIDE void tile_wide(lathe_weight_type type, int R, const uint8_t *const rows[4], const wide_block *x, int64_t blocks,
                    int64_t ahead, __m512 result[4]) {
    const int64_t stride = lathe_block_bytes[type];
    __m512 acc[4], off[4];
    for (int r = 0; r < R; r++) acc[r] = off[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < blocks; b++) {
        const wide_block *lanes = x + b;
        __m512i q[8];
        for (int j = 0; j < 8; j++) q[j] = _mm512_load_si512(lanes->q[j]);
        const __m512i sums = _mm512_load_si512(lanes->sum);
        // Σ (nibble − 8) · q = Σ nibble · q − 8 Σ q; Σ w · q = Σ (w + 128) · q − 128 Σ q.
        const __m512i correction = type == LATHE_Q4_0   ? _mm512_slli_epi32(sums, 3)
                                   : type == LATHE_Q8_0 ? _mm512_slli_epi32(sums, 7)
                                                        : _mm512_setzero_si512();
        const __m512 dx = _mm512_load_ps(lanes->d);
#pragma clang loop unroll(full)  // the rows' accumulators stay in registers
        for (int r = 0; r < R; r++) {
            const uint8_t *block = rows[r] + b * stride;
            if (ahead) _mm_prefetch((const char *)(block + ahead), _MM_HINT_T0);
            uint32_t group[8];
            weight_groups(type, block, group);
            __m512i low = _mm512_setzero_si512(), high = _mm512_setzero_si512();  // two chains, not one of eight
            for (int j = 0; j < 4; j++) {
                low = _mm512_dpbusd_epi32(low, _mm512_set1_epi32((int)group[j]), q[j]);
                high = _mm512_dpbusd_epi32(high, _mm512_set1_epi32((int)group[j + 4]), q[j + 4]);
            }
            const __m512i total = _mm512_sub_epi32(_mm512_add_epi32(low, high), correction);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(half_broadcast(block), dx), acc[r]);
            if (type == LATHE_Q4_1) off[r] = _mm512_fmadd_ps(half_broadcast(block + 2), _mm512_load_ps(lanes->s), off[r]);
        }
    }
    for (int r = 0; r < R; r++) result[r] = type == LATHE_Q4_1 ? _mm512_add_ps(acc[r], off[r]) : acc[r];
}

enum { ROWS = 4 };  // rows per tile: four independent chains of multiply-adds per block

typedef void (*wide_function)(const uint8_t *const[4], const wide_block *, int64_t, int64_t, __m512[4]);
#define WIDE_TILE(type)                                                                                            \
    __attribute__((target("avx512f,avx512bw,avx512vnni"))) static void tile_wide_##type(                          \
        const uint8_t *const rows[4], const wide_block *x, int64_t blocks, int64_t ahead, __m512 result[4]) {       \
        tile_wide(LATHE_##type, ROWS, rows, x, blocks, ahead, result);                                             \
    }
WIDE_TILE(Q4_0) WIDE_TILE(Q4_1) WIDE_TILE(Q8_0)
static const wide_function wide_tiles[3] = {tile_wide_Q4_0, tile_wide_Q4_1, tile_wide_Q8_0};

__attribute__((target("avx512f,avx512bw,avx512vnni"))) int
lathe_q8_wide_tiles(lathe_weight_type type, const uint8_t *base, int64_t row_bytes, const int32_t *order, int64_t first,
                    int64_t end, const lathe_q8_block *x, int64_t blocks, int64_t v0, int valid, float *out,
                    int64_t ldy) {
    if (!lathe_q8_wide_available()) return 0;
    const size_t bytes = (size_t)(blocks > 0 ? blocks : 1) * sizeof(wide_block);  // a multiple of 64
    wide_block *lanes = (wide_block *)aligned_alloc(64, bytes);
    if (!lanes) return 0;
    for (int64_t b = 0; b < blocks; b++) {
        for (int v = 0; v < 16; v++) {  // spare lanes repeat the last vector (computed, not stored)
            const lathe_q8_block *block = x + (v0 + (v < valid ? v : valid - 1)) * blocks + b;
            for (int j = 0; j < 8; j++) memcpy(lanes[b].q[j] + 4 * v, block->q + 4 * j, 4);
            lanes[b].d[v] = block->d;
            lanes[b].s[v] = block->d * (float)block->sum;
            lanes[b].sum[v] = block->sum;
        }
    }
    for (int64_t r0 = first; r0 < end; r0 += ROWS) {
        const uint8_t *rows[4];
        for (int r = 0; r < ROWS; r++) rows[r] = lathe_tile_row(base, row_bytes, order, r0 + r, end);
        __m512 result[4];
        wide_tiles[type](rows, lanes, blocks, order ? 0 : ROWS * row_bytes, result);  // prefetch the next tile's rows
        for (int r = 0; r < ROWS && r0 + r < end; r++) {
            float lane[16];
            memcpy(lane, &result[r], sizeof lane);
            for (int v = 0; v < valid; v++) out[(v0 + v) * ldy + r0 + r] = lane[v];
        }
    }
    free(lanes);
    return 1;
}

#else
int lathe_q8_wide_available(void) { return 0; }

int lathe_q8_wide_tiles(lathe_weight_type type, const uint8_t *base, int64_t row_bytes, const int32_t *order,
                        int64_t first, int64_t end, const lathe_q8_block *x, int64_t blocks, int64_t v0, int valid,
                        float *out, int64_t ldy) {
    (void)type, (void)base, (void)row_bytes, (void)order, (void)first, (void)end, (void)x, (void)blocks, (void)v0,
        (void)valid, (void)out, (void)ldy;
    return 0;
}
#endif
