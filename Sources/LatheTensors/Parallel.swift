import CBLAS
import Dispatch

/// How many threads Lathe's own loops and OpenBLAS use. The two never run at once: our parallel loops
/// call no BLAS, and BLAS is called only between them, so one budget serves both without oversubscription.
public enum Parallel {
    nonisolated(unsafe) private static var configuredThreads = 1

    /// Threads used by `forEachChunk` and by OpenBLAS. Call once at start-up, before any parallel work.
    public static func configure(threads: Int) {
        precondition(threads >= 1, "thread count \(threads)")
        configuredThreads = threads
        openblas_set_num_threads(Int32(threads))
    }

    /// The configured thread count.
    public static var threads: Int { configuredThreads }

    /// Cores available to this process.
    public static var availableCores: Int { System.activeProcessorCount }

    /// Runs `body` over `0..<count` split into at most `threads` contiguous chunks, each at least
    /// `minimumChunk` long. Chunks are fixed by (count, threads), so results are deterministic.
    public static func forEachChunk(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let chunks = max(1, min(configuredThreads, count / max(1, minimumChunk)))
        if chunks == 1 { body(0..<count); return }
        // Chunks touch disjoint ranges by contract, so handing `body` to the pool's threads is safe.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                shared.value(count * chunk / chunks ..< count * (chunk + 1) / chunks)
            }
        }
    }
}

/// Carries a value the caller guarantees is used race-free across threads (disjoint writes).
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

/// The machine's processor count, read without Foundation.
public enum System {
    public static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension Parallel {
    /// OpenBLAS's build description (`openblas_get_config()`), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH … Cooperlake MAX_THREADS=64".
    public static var blasDescription: String { String(cString: openblas_get_config()) }
}
