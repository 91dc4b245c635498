// snappy's C interface (libsnappy-dev): raw (unframed) snappy blocks, as Parquet's SNAPPY codec stores pages.
#include <snappy-c.h>
