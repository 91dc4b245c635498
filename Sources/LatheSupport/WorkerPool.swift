import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The threads behind `Parallel.forEachChunk`: `threads - 1` workers that stay awake for a short while after each
/// loop, so the next loop starts within a fraction of a microsecond instead of waiting for threads to be woken.
///
/// A decode step of a small model is about 120 short loops (each layer's q/k/v, o, gate/up and down products) of a
/// few tens of microseconds each; handing each to `DispatchQueue.concurrentPerform` cost tens of microseconds of wake-up,
/// which made two threads decode slower than one. Here a loop is published by bumping `generation`; each worker
/// spins on it for up to `spinNanoseconds` after its last chunk, then sleeps on a condition variable, so an idle
/// process holds no core, and a BLAS call between loops shares the cores with a spinning worker for at most that
/// long (`lathe bench train` measured the same MFU before and after the pool).
///
/// One loop runs at a time: a loop that finds the pool busy (a nested loop inside a chunk, or a loop from another
/// thread) runs on `concurrentPerform` as before. Chunk boundaries are the caller's, so results do not depend on
/// which threads run them.
final class WorkerPool: @unchecked Sendable {
    /// How long an idle worker keeps polling before it sleeps: long enough to span the gaps inside a decode step
    /// (attention, norms), short enough that a worker spinning into a BLAS call costs little.
    static let spinNanoseconds: UInt64 = 100_000

    let workers: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Written by the caller before `generation` is bumped (release), read by workers after they see it (acquire).
    private var job: ((Int) -> Void)?
    private var chunks = 0

    init(workers: Int) {
        precondition(workers >= 1)
        self.workers = workers
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
        for index in 1...workers { start(index) }
    }

    /// Runs `body(0)` … `body(chunks - 1)`, chunk 0 on the calling thread, the others on workers 1…; returns when all
    /// have finished. False (nothing run) when the pool is already running a loop or `chunks` exceeds its threads.
    func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        guard chunks <= workers + 1,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        withoutActuallyEscaping(body) { body in
            job = body
            self.chunks = chunks
            pending.store(workers, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(lock)
            }
            body(0)
            // Spin for the workers' chunks; past the spin time (more threads than free cores) give the core away.
            let deadline = monotonicNanoseconds() + Self.spinNanoseconds
            var polls = 0
            while pending.load(ordering: .acquiring) != 0 {
                polls += 1
                if polls & 255 == 0, monotonicNanoseconds() > deadline { sched_yield() }
            }
            job = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    private func start(_ index: Int) {
        let context = Unmanaged.passRetained(WorkerStart(pool: self, index: index)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
            start.pool.work(index: start.index)
            return nil
        }, context)
        precondition(created == 0, "pthread_create failed (\(created))")
        pthread_detach(thread)
    }

    private func work(index: Int) {
        var seen = 0
        while true {
            seen = waitForLoop(after: seen)
            runChunk(index)
            pending.subtract(1, ordering: .releasing)
        }
    }

    /// Runs this worker's chunk of the current loop. Its own function so the worker's reference to `job` is released
    /// before the loop is reported done: `run` clears `job` then, and `withoutActuallyEscaping` checks nothing kept it.
    @inline(never)
    private func runChunk(_ index: Int) {
        if index < chunks, let job { job(index) }
    }

    /// Spins until `generation` moves past `seen`, sleeping once `spinNanoseconds` have passed; returns the new one.
    private func waitForLoop(after seen: Int) -> Int {
        let deadline = monotonicNanoseconds() + Self.spinNanoseconds
        var polls = 0
        while true {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
            polls += 1
            if polls & 255 == 0, monotonicNanoseconds() > deadline { break }
        }
        pthread_mutex_lock(lock)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        var current = generation.load(ordering: .sequentiallyConsistent)
        while current == seen {
            pthread_cond_wait(wake, lock)
            current = generation.load(ordering: .sequentiallyConsistent)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(lock)
        return current
    }
}

private final class WorkerStart {
    let pool: WorkerPool
    let index: Int
    init(pool: WorkerPool, index: Int) { self.pool = pool; self.index = index }
}

private func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
