import Dispatch
import LatheSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `forEachChunk` covers `0..<count` exactly once in contiguous chunks fixed by (count, threads).
@Suite(.serialized) struct ParallelTests {
    func chunks(_ count: Int, threads: Int, minimumChunk: Int = 1) -> [Range<Int>] {
        Parallel.configure(threads: threads)
        defer { Parallel.configure(threads: 1) }
        // Each index records the start of the chunk that visited it and how often it was visited (disjoint writes).
        var start = [Int](repeating: -1, count: count), visits = [Int](repeating: 0, count: count)
        start.withUnsafeMutableBufferPointer { s in
            visits.withUnsafeMutableBufferPointer { v in
                let shared = UncheckedSendable((s, v))
                Parallel.forEachChunk(count, minimumChunk: minimumChunk) { range in
                    for i in range { shared.value.0[i] = range.lowerBound; shared.value.1[i] += 1 }
                }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 }, "every index exactly once: \(visits)")
        var ranges: [Range<Int>] = []
        var i = 0
        while i < count {
            var j = i
            while j < count, start[j] == start[i] { j += 1 }
            #expect(start[i] == i, "a chunk starts where the previous one ended")
            ranges.append(i..<j)
            i = j
        }
        return ranges
    }

    @Test func chunksTileTheRangeOnce() {
        for (count, threads, minimum) in [(10, 3, 1), (7, 8, 1), (1000, 4, 300), (5, 1, 1), (64, 2, 1)] {
            let ranges = chunks(count, threads: threads, minimumChunk: minimum)
            #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == count, "\(ranges)")
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(ranges)")
            #expect(ranges.count <= threads && ranges.allSatisfy { !$0.isEmpty })
            #expect(ranges.count == 1 || ranges.allSatisfy { $0.count >= minimum }, "\(ranges)")
        }
        #expect(chunks(0, threads: 3).isEmpty)
    }

    /// Sums `0..<count` with `forEachChunk`, one partial sum per chunk start (disjoint writes).
    func chunkedSum(_ count: Int) -> Int {
        var partial = [Int](repeating: 0, count: count)
        partial.withUnsafeMutableBufferPointer { p in
            let shared = UncheckedSendable(p)
            Parallel.forEachChunk(count) { range in shared.value[range.lowerBound] = range.reduce(0, +) }
        }
        return partial.reduce(0, +)
    }

    /// Loops back to back (the workers still spinning), after a pause (the workers asleep) and from threads that
    /// start loops at the same time (one runs on the pool, the others on Dispatch) all cover their range once.
    @Test func loopsBackToBackAfterSleepAndFromManyThreads() {
        Parallel.configure(threads: 2)
        defer { Parallel.configure(threads: 1) }
        for round in 0..<2000 {
            let count = 2 + round % 37
            #expect(chunkedSum(count) == count * (count - 1) / 2)
            if round % 500 == 499 { usleep(5_000) }
        }
        let results = UncheckedSendable(UnsafeMutableBufferPointer<Bool>.allocate(capacity: 4))
        defer { results.value.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            var allRight = true
            for round in 0..<300 {
                let count = 10 + (round + caller) % 50
                allRight = allRight && chunkedSum(count) == count * (count - 1) / 2
            }
            results.value[caller] = allRight
        }
        #expect(results.value.allSatisfy { $0 })
    }

    /// A loop inside a chunk of another (the pool busy) still runs every inner index once per outer index.
    @Test func nestedLoopsCoverTheirRanges() {
        Parallel.configure(threads: 3)
        defer { Parallel.configure(threads: 1) }
        var visits = [Int](repeating: 0, count: 12 * 40)
        visits.withUnsafeMutableBufferPointer { v in
            let shared = UncheckedSendable(v)
            Parallel.forEachChunk(12) { outer in
                for i in outer {
                    Parallel.forEachChunk(40) { inner in
                        for j in inner { shared.value[i * 40 + j] += 1 }
                    }
                }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 })
        // Growing the thread count makes a larger pool; loops at the old count still run.
        Parallel.configure(threads: 4)
        #expect(chunkedSum(1000) == 999 * 1000 / 2)
        Parallel.configure(threads: 2)
        #expect(chunkedSum(1000) == 999 * 1000 / 2)
    }

    @Test func configuredThreadsAreReported() {
        Parallel.configure(threads: 3)
        #expect(Parallel.threads == 3 && Parallel.configuredThreads == 3)
        Parallel.configure(threads: 1)
        #expect(Parallel.availableCores >= 1)
    }
}
