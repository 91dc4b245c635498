// OpenBLAS's C interface. Debian/Ubuntu: libopenblas-dev puts cblas.h on the multiarch include path.
#include <cblas.h>
