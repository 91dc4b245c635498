import CBLAS
import LatheSupport

/// One pool of threads for the process. Once `Parallel.configure(threads:)` has been called, OpenBLAS runs on the
/// calling thread only and `sgemm` splits a large product over `Parallel`'s pool itself. OpenBLAS's own workers,
/// idle, poll for about 2²⁸ cycles (some 70 ms) after each threaded call, so between two threaded products they
/// held the cores that Lathe's loops (attention, norms, the optimiser) needed: on 2 cores, a training step spent
/// 0.6 s more in attention and 0.3 s more in the adapters' products than with OpenBLAS's polling cut short.
/// Without `configure` (a library user who never set a budget) OpenBLAS keeps its own default and nothing is split.
enum BLASThreads {
    nonisolated(unsafe) private static var singleThreaded = false
    /// False inside `serial` and `openBLASThreaded`: `sgemm` runs each product whole on its caller's thread.
    nonisolated(unsafe) private(set) static var splits = true

    /// Puts OpenBLAS on one thread the first time a budget is configured. Called before every BLAS call, from
    /// outside parallel loops or inside `serial`.
    @inline(__always)
    static func follow() {
        guard !singleThreaded, Parallel.configuredThreads != nil else { return }
        openblas_set_num_threads(1)
        singleThreaded = true
    }

    /// Runs `body` with every product whole on its caller's thread, so `body` may call `sgemm` from inside
    /// `Parallel` loops: the budget's threads run tasks instead of splitting one product. Called outside parallel
    /// loops.
    static func serial<R>(_ body: () -> R) -> R { unsplit(openBLASThreads: 1, body) }

    /// Runs `body` with OpenBLAS threading each product over the budget itself, as a program that links OpenBLAS
    /// and nothing else would: the reference `SgemmRate` measures against.
    static func openBLASThreaded<R>(_ body: () -> R) -> R { unsplit(openBLASThreads: Parallel.threads, body) }

    /// Runs `body` with `sgemm` splitting nothing and OpenBLAS on `threads` threads, then restores both.
    private static func unsplit<R>(openBLASThreads threads: Int, _ body: () -> R) -> R {
        follow()
        let (previousThreads, previousSplits, wanted) = (openblas_get_num_threads(), splits, Int32(threads))
        splits = false
        if previousThreads != wanted { openblas_set_num_threads(wanted) }
        defer {
            splits = previousSplits
            if previousThreads != wanted { openblas_set_num_threads(previousThreads) }
        }
        return body()
    }
}

extension Parallel {
    /// OpenBLAS's build description (`openblas_get_config()`), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH … Cooperlake MAX_THREADS=64".
    public static var blasDescription: String { String(cString: openblas_get_config()) }
}
