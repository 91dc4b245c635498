import CBLAS
import LatheSupport

/// OpenBLAS follows `Parallel`'s thread budget: `LatheSupport` has no BLAS, so the count set by
/// `Parallel.configure(threads:)` is handed to OpenBLAS here, before a BLAS call, whenever it changed.
enum BLASThreads {
    nonisolated(unsafe) private static var applied: Int?

    /// Sets OpenBLAS's thread count to `Parallel.configuredThreads` if that changed since the last call. Called on
    /// the thread that is about to call BLAS, between parallel loops, never from inside one.
    @inline(__always)
    static func follow() {
        guard let wanted = Parallel.configuredThreads, wanted != applied else { return }
        openblas_set_num_threads(Int32(wanted))
        applied = wanted
    }
}

extension Parallel {
    /// OpenBLAS's build description (`openblas_get_config()`), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH … Cooperlake MAX_THREADS=64".
    public static var blasDescription: String { String(cString: openblas_get_config()) }
}
