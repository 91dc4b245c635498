// nanosleep
#define _POSIX_C_SOURCE 200809L

#include "lathe_mpi.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int lathe_mpi_init(void) {
    int provided = 0;
    int error = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (error != MPI_SUCCESS) return error;
    return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

int lathe_mpi_is_initialized(void) {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    return initialized && !finalized;
}

int lathe_mpi_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }

int lathe_mpi_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }

int lathe_mpi_local_size(int *size) {
    MPI_Comm local;
    int error = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
    if (error != MPI_SUCCESS) return error;
    error = MPI_Comm_size(local, size);
    MPI_Comm_free(&local);
    return error;
}

int lathe_mpi_allgatherv(const void *send, int count, void *receive, const int *counts) {
    int size = 0;
    int error = MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (error != MPI_SUCCESS) return error;
    int *displacements = malloc(sizeof(int) * (size_t)size);
    if (displacements == NULL) return MPI_ERR_NO_MEM;
    long long offset = 0;
    for (int r = 0; r < size; r++) {
        displacements[r] = (int)offset;
        offset += counts[r];
    }
    error = MPI_Allgatherv(send, count, MPI_BYTE, receive, counts, displacements, MPI_BYTE, MPI_COMM_WORLD);
    free(displacements);
    return error;
}

int lathe_mpi_allgather_int64(int64_t value, int64_t *values) {
    return MPI_Allgather(&value, 1, MPI_INT64_T, values, 1, MPI_INT64_T, MPI_COMM_WORLD);
}

// Open MPI's blocking calls spin at 100% CPU. Ranks wait in collectives while rank 0 works alone (tokenising,
// deduplicating, writing), so after a short spin they sleep 1 ms between polls and leave the cores to it.
static int wait_politely(MPI_Request *request) {
    const struct timespec pause = {0, 1000000};
    for (long polls = 0;; polls++) {
        int done = 0;
        int error = MPI_Test(request, &done, MPI_STATUS_IGNORE);
        if (error != MPI_SUCCESS || done) return error;
        if (polls > 10000) nanosleep(&pause, NULL);
    }
}

int lathe_mpi_gather_int64(int64_t value, int64_t *values) {
    MPI_Request request;
    int error = MPI_Igather(&value, 1, MPI_INT64_T, values, 1, MPI_INT64_T, 0, MPI_COMM_WORLD, &request);
    if (error != MPI_SUCCESS) return error;
    return wait_politely(&request);
}

int lathe_mpi_gatherv(const void *send, int count, void *receive, const int *counts) {
    int size = 0, rank = 0;
    int error = MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (error == MPI_SUCCESS) error = MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (error != MPI_SUCCESS) return error;
    int *displacements = NULL;
    if (rank == 0) {
        displacements = malloc(sizeof(int) * (size_t)size);
        if (displacements == NULL) return MPI_ERR_NO_MEM;
        long long offset = 0;
        for (int r = 0; r < size; r++) {
            displacements[r] = (int)offset;
            offset += counts[r];
        }
    }
    MPI_Request request;
    error = MPI_Igatherv(send, count, MPI_BYTE, receive, counts, displacements, MPI_BYTE, 0, MPI_COMM_WORLD, &request);
    if (error == MPI_SUCCESS) error = wait_politely(&request);
    free(displacements);
    return error;
}

int lathe_mpi_bcast(void *buffer, int count, int root) {
    MPI_Request request;
    int error = MPI_Ibcast(buffer, count, MPI_BYTE, root, MPI_COMM_WORLD, &request);
    if (error != MPI_SUCCESS) return error;
    return wait_politely(&request);
}

int lathe_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

void lathe_mpi_abort(int code) {
    MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

int lathe_mpi_finalize(void) { return MPI_Finalize(); }

void lathe_mpi_error_string(int code, char *buffer, int length) {
    char text[MPI_MAX_ERROR_STRING];
    int written = 0;
    if (MPI_Error_string(code, text, &written) != MPI_SUCCESS) written = 0;
    text[written < MPI_MAX_ERROR_STRING ? written : MPI_MAX_ERROR_STRING - 1] = '\0';
    if (length > 0) {
        strncpy(buffer, text, (size_t)length - 1);
        buffer[length - 1] = '\0';
    }
}
