// Decode products straight from ggml 4- and 8-bit weight blocks. `lathe_matvec_f32` (the default) multiplies each
// block, dequantised in registers, by fp32 activations and sums exactly as the fp32 path does; `lathe_matvec_q8`
// (`--decode-activations q8`, llama.cpp's numerics) meets activations rounded to 8 bits in integer multiply-adds.
// Swift's SIMD types can express neither AVX2's byte multiply-adds (vpmaddubsw, 32 per instruction) nor a byte-to-
// int32 widening in one instruction (vpmovzxbd), so these few loops are C.
//
// Every function has a portable body and SIMD ones (see `lathe_q8_body`, `lathe_f32_body`); all compute the same
// integers and the same floating-point operations in the same order, so they return the same bits. Tests force each
// body and compare.
#ifndef LATHE_KERNELS_H
#define LATHE_KERNELS_H

#include <stdint.h>

/// One block of 32 activations rounded to 8 bits: x[k] ≈ d · q[k], with d = max|x| / 127; sum = Σ q.
typedef struct {
    float d;
    int32_t sum;
    int8_t q[32];
} lathe_q8_block;

/// The ggml block types the integer dots take.
typedef enum { LATHE_Q4_0 = 0, LATHE_Q4_1 = 1, LATHE_Q8_0 = 2 } lathe_weight_type;

/// Rounds `blocks` blocks of 32 floats each into `out`: q = round-half-even(x / d), with 1 / d taken once.
void lathe_quantize_q8(const float *x, int64_t blocks, lathe_q8_block *out);

/// `out[v · ldy + r]` = Σ_k W[r, k] · x_v[k] for rows r in [first_row, first_row + row_count) of the matrix W of
/// `type` at `matrix` (row r stored at `order[r]` when `order` is not NULL, else at r; `row_bytes` apart) and the
/// `count` rounded vectors at `x` (`blocks` blocks each, one after another). Each weight block is unpacked once for
/// up to eight vectors (sixteen with the VNNI512 body); a vector's results do not depend on the others, nor on the range of rows.
void lathe_matvec_q8(lathe_weight_type type, const void *matrix, int64_t row_bytes, const int32_t *order,
                     int64_t first_row, int64_t row_count, const lathe_q8_block *x, int64_t blocks, int64_t count,
                     float *out, int64_t ldy);

/// The kernels' bodies: portable C; AVX2 (compiled when the package targets a CPU with AVX2, FMA and F16C); AVX2 with
/// AVX-512 VNNI's byte dot product (chosen at run time when the CPU has AVX-512 VNNI and VL); and that body with
/// 16-lane AVX-512 tiles for every group of 9 to 16 vectors (where the CPU also has AVX-512 F and BW). All return the
/// same bits.
typedef enum { LATHE_Q8_PORTABLE = 0, LATHE_Q8_AVX2 = 1, LATHE_Q8_VNNI = 2, LATHE_Q8_VNNI512 = 3 } lathe_q8_body;

/// 1 when `body` can run here.
int lathe_q8_body_available(lathe_q8_body body);

/// Forces `body` process-wide when it is available, or restores the fastest available (-1): for tests.
void lathe_q8_force_body(int body);

/// `out[v · ldy + r]` = Σ_k W[r, k] · x_v[k] for rows r in [first_row, first_row + row_count) of W (`type`, `order`
/// and `row_bytes` as for `lathe_matvec_q8`) and the `count` fp32 vectors at `x` (`blocks` · 32 floats each, one
/// after another): each block dequantised in registers to the values `Dequantize` writes and summed as
/// `QuantizedMatrix.multiplyRows` sums the matrix dequantised at load (the rule is in quant_dot_f32.c), to the bit.
/// A vector's results do not depend on the others, nor on the range of rows.
void lathe_matvec_f32(lathe_weight_type type, const void *matrix, int64_t row_bytes, const int32_t *order,
                      int64_t first_row, int64_t row_count, const float *x, int64_t blocks, int64_t count,
                      float *out, int64_t ldy);

/// `lathe_matvec_f32`'s bodies: portable C; AVX2 (compiled when the package targets a CPU with AVX2, FMA and F16C);
/// AVX-512 (compiled with AVX2, run where the CPU reports AVX-512 F). All return the same bits.
typedef enum { LATHE_F32_PORTABLE = 0, LATHE_F32_AVX2 = 1, LATHE_F32_AVX512 = 2 } lathe_f32_body;

/// 1 when `body` can run here.
int lathe_f32_body_available(lathe_f32_body body);

/// Forces `body` process-wide when it is available, or restores the fastest available (-1): for tests.
void lathe_f32_force_body(int body);

/// Elements [first, first + count) of a LoRA dropout mask under `key` (LatheTensors/Dropout.swift): element i is
/// dropped when the top 24 bits of SplitMix64's draw i + 1 under `key` are below `threshold`.
/// `out[i] = x[i] · scale`, or 0 where dropped. AVX-512 F and DQ: call only where `lathe_cpu_vector_level` is 2.
void lathe_dropout_forward(uint64_t key, uint32_t threshold, int64_t first, int64_t count, const float *x,
                           float *out, float scale);

/// `dx[i] += values[i] · kept` where kept; where dropped, `dx[i] += values[i] · dropped` when `adds_dropped`, else
/// `dx[i]` is left as it is. AVX-512 F and DQ, as `lathe_dropout_forward`.
void lathe_dropout_add(uint64_t key, uint32_t threshold, int64_t first, int64_t count, const float *values,
                       float *dx, float kept, float dropped, int adds_dropped);

/// The vector level this CPU and OS run: 2 with AVX-512 F, CD, BW, DQ and VL (OpenBLAS's SkylakeX kernels); 1 with
/// AVX2 and FMA (its Haswell kernels); 0 otherwise, and on other architectures.
int lathe_cpu_vector_level(void);

#endif
