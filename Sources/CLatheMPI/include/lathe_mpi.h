// Plain C functions over the MPI calls Lathe uses. Open MPI's handles (MPI_COMM_WORLD, MPI_BYTE) are macros that
// expand to addresses of internal symbols, which Swift cannot import; these wrappers take and return only integers
// and pointers. Every function returns an MPI error code (MPI_SUCCESS is 0) unless it says otherwise.
#ifndef LATHE_MPI_H
#define LATHE_MPI_H

#include <stdint.h>

/// Initialises MPI (funnelled threads: only the main thread calls MPI) and makes errors return instead of abort.
int lathe_mpi_init(void);
/// 1 when MPI_Init has run and MPI_Finalize has not.
int lathe_mpi_is_initialized(void);
/// This process's rank in MPI_COMM_WORLD.
int lathe_mpi_rank(int *rank);
/// The number of processes in MPI_COMM_WORLD.
int lathe_mpi_size(int *size);
/// The number of processes of this job on this host (a shared-memory split of MPI_COMM_WORLD).
int lathe_mpi_local_size(int *size);
/// Every rank sends `count` bytes; `receive` gets all ranks' bytes in rank order, rank r's `counts[r]` long.
int lathe_mpi_allgatherv(const void *send, int count, void *receive, const int *counts);
/// Gathers one int64 from every rank into `values`, in rank order.
int lathe_mpi_allgather_int64(int64_t value, int64_t *values);
/// Gathers one int64 from every rank into `values` on rank 0 (in rank order; `values` is unused elsewhere).
int lathe_mpi_gather_int64(int64_t value, int64_t *values);
/// Every rank sends `count` bytes; on rank 0 `receive` gets all ranks' bytes in rank order, rank r's `counts[r]`
/// long (`receive` and `counts` are unused elsewhere). A long wait polls with 1 ms sleeps, not a spin.
int lathe_mpi_gatherv(const void *send, int count, void *receive, const int *counts);
/// Broadcasts `count` bytes at `buffer` from `root` to every rank; a long wait polls with 1 ms sleeps, not a spin.
int lathe_mpi_bcast(void *buffer, int count, int root);
/// Blocks until every rank has called it.
int lathe_mpi_barrier(void);
/// Ends every process of the job with `code` (does not return).
void lathe_mpi_abort(int code);
/// Shuts MPI down; the last MPI call of the process.
int lathe_mpi_finalize(void);
/// The text of MPI error `code` in `buffer` (at most `length` bytes, NUL-terminated).
void lathe_mpi_error_string(int code, char *buffer, int length);

#endif
