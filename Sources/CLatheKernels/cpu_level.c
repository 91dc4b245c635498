// What the CPU and the OS let a program run: the vector level OpenBLAS's kernels are chosen by (BLASCore.swift).
#include "lathe_kernels.h"

int lathe_cpu_vector_level(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    // The builtins test the CPU's feature bits and that the OS saves the registers (XCR0), as a kernel needs.
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
        return 2;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}
