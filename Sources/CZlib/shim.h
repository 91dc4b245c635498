// zlib's C interface (zlib1g-dev): inflate of gzip members, as Parquet's GZIP codec stores pages.
#include <zlib.h>
