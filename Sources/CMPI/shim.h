// Open MPI's C interface. Debian/Ubuntu: libopenmpi-dev; pkg-config `ompi-c` gives its include and library paths.
// Swift never imports this module directly (MPI's handles are macros); CLatheMPI wraps it in plain C functions.
#include <mpi.h>
