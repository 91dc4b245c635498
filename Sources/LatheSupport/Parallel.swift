import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How many threads Lathe's parallel loops use: one budget, and one pool of threads, for the whole process.
/// `LatheTensors` keeps OpenBLAS on the calling thread and splits each large product over this pool itself, so loops
/// and products share the same threads and never run at once; the only other threads are `WorkerPool`'s idle workers
/// polling for up to `WorkerPool.spinNanoseconds` after a loop.
/// This module has no BLAS, so data cleaning uses the same loops without linking OpenBLAS.
public enum Parallel {
    nonisolated(unsafe) private static var configured: Int?
    /// The largest pool made so far (a pool serves any loop of up to its threads; a smaller one left behind when
    /// the count grows keeps its workers asleep).
    private static let pool = Mutex<WorkerPool?>(nil)

    /// Threads used by `forEachChunk` and by the products `LatheTensors` splits. Call once at start-up, before any
    /// parallel work.
    public static func configure(threads: Int) {
        precondition(threads >= 1, "thread count \(threads)")
        configured = threads
    }

    /// The configured thread count (1 until `configure` is called).
    public static var threads: Int { configured ?? 1 }

    /// The count given to `configure`, or nil if it was never called (then OpenBLAS keeps its own threads and default).
    public static var configuredThreads: Int? { configured }

    /// Cores available to this process.
    public static var availableCores: Int { System.activeProcessorCount }

    /// Runs `body` over `0..<count` split into at most `threads` contiguous chunks, each at least
    /// `minimumChunk` long. Chunks are fixed by (count, threads), so results are deterministic. Chunk 0 runs on the
    /// calling thread, the others on `WorkerPool`'s threads (or on Dispatch's when a loop is already running).
    public static func forEachChunk(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let chunks = max(1, min(threads, count / max(1, minimumChunk)))
        if chunks == 1 { body(0..<count); return }
        // Chunks touch disjoint ranges by contract, so handing `body` to the pool's threads is safe.
        let ran = workerPool(threads: chunks).run(chunks: chunks) { chunk in
            body(count * chunk / chunks ..< count * (chunk + 1) / chunks)
        }
        if ran { return }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                shared.value(count * chunk / chunks ..< count * (chunk + 1) / chunks)
            }
        }
    }
}

extension Parallel {
    /// A pool with at least `threads` threads, the caller's included.
    fileprivate static func workerPool(threads: Int) -> WorkerPool {
        pool.withLock { pool in
            if let existing = pool, existing.workers + 1 >= threads { return existing }
            let made = WorkerPool(workers: threads - 1)
            pool = made
            return made
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
