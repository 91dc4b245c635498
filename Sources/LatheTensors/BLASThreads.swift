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

    /// Runs `body` with OpenBLAS on one thread, so `body` may call `sgemm` from inside `Parallel` loops: each
    /// call then runs on its caller's thread (OpenBLAS's supported use from threaded code), and the budget's
    /// threads run tasks instead of splitting one product. Called outside parallel loops.
    static func serial<R>(_ body: () -> R) -> R {
        follow()   // `applied` is current, so the `follow()` inside each `sgemm` of `body` changes nothing
        let previous = openblas_get_num_threads()
        if previous == 1 { return body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(previous) }
        return body()
    }
}

extension Parallel {
    /// OpenBLAS's build description (`openblas_get_config()`), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH … Cooperlake MAX_THREADS=64".
    public static var blasDescription: String { String(cString: openblas_get_config()) }
}
