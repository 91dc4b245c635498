import LatheSupport
import Testing

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

    @Test func configuredThreadsAreReported() {
        Parallel.configure(threads: 3)
        #expect(Parallel.threads == 3 && Parallel.configuredThreads == 3)
        Parallel.configure(threads: 1)
        #expect(Parallel.availableCores >= 1)
    }
}
