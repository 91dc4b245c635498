// The 16-lane AVX-512 tile of `lathe_matvec_q8` (quant_dot_wide.c), for quant_dot.c only.
#ifndef LATHE_QUANT_DOT_WIDE_H
#define LATHE_QUANT_DOT_WIDE_H

#include "lathe_kernels.h"

/// 1 when the CPU and OS run the 16-lane tile (AVX-512 F, BW and VNNI).
int lathe_q8_wide_available(void);

/// Rows [first, end) × vectors [v0, v0 + valid) (1 ≤ valid ≤ 16) of `lathe_matvec_q8`, written to `out` as it
/// writes them, to the same bits, in 16-lane tiles of four rows. Returns 0 (writing nothing) when it cannot run:
/// the CPU lacks the instructions or the activations' layout could not be allocated.
int lathe_q8_wide_tiles(lathe_weight_type type, const uint8_t *base, int64_t row_bytes, const int32_t *order,
                        int64_t first, int64_t end, const lathe_q8_block *x, int64_t blocks, int64_t v0, int valid,
                        float *out, int64_t ldy);

#endif
