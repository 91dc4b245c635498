// Integer dot products of ggml 4- and 8-bit weight blocks with activations rounded to 8 bits, for decode steps
// that opt into llama.cpp's numerics (`--decode-activations q8`). Swift's SIMD types cannot express AVX2's
// byte multiply-adds (vpmaddubsw), which do 32 multiply-adds per instruction, so these few loops are C.
//
// Every function has an AVX2 body (compiled when the package targets a CPU that has it, see Package.swift) and a
// portable body; both sum the same integers into the same eight float lanes in the same order, so they return the
// same bits. `lathe_q8_force_portable` selects the portable body at run time (tests compare the two).
#ifndef LATHE_KERNELS_H
#define LATHE_KERNELS_H

#include <stdint.h>

/// One block of 32 activations rounded to 8 bits: x[k] ≈ d · q[k], with d = max|x| / 127; s = d · Σ q.
typedef struct {
    float d;
    float s;
    int8_t q[32];
} lathe_q8_block;

/// The ggml block types the integer dots take.
typedef enum { LATHE_Q4_0 = 0, LATHE_Q4_1 = 1, LATHE_Q8_0 = 2 } lathe_weight_type;

/// Rounds `blocks` blocks of 32 floats each into `out`: q = round-half-even(x / d), with 1 / d taken once.
void lathe_quantize_q8(const float *x, int64_t blocks, lathe_q8_block *out);

/// `out[i · out_stride]` = Σ over `blocks` blocks of one stored row of `type` times vector i of `count` activation
/// vectors (`blocks` blocks each, one after another at `x`). A vector's result does not depend on the others.
void lathe_dots_q8(lathe_weight_type type, const void *row, const lathe_q8_block *x, int64_t blocks, int64_t count,
                   float *out, int64_t out_stride);

/// Forces the portable bodies (on = 1) or restores the default (0), process-wide: for tests.
void lathe_q8_force_portable(int on);

/// 1 when the AVX2 bodies were compiled in.
int lathe_q8_has_simd(void);

#endif
