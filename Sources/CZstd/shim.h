// zstd's C interface (libzstd-dev). ZSTD_STATIC_LINKING_ONLY is not defined: only the stable API is used.
#include <zstd.h>
