import LatheSupport
import Testing

/// The one-process communicator: every collective is the identity, and the thread default fits the host.
@Suite struct CommunicatorTests {
    /// A stand-in for a job of `size` ranks on one host whose rank 0 holds `leader`'s fingerprint.
    final class Scripted: Communicator {
        let rank: Int, size: Int, leader: [UInt8]
        init(rank: Int, size: Int, leader: String) { (self.rank, self.size, self.leader) = (rank, size, Array(leader.utf8)) }
        var localSize: Int { size }
        func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { Array(repeating: bytes, count: size) }
        func broadcast(_ bytes: [UInt8]) throws -> [UInt8] { rank == 0 ? bytes : leader }
        func barrier() throws {}
    }

    @Test func singleProcessCollectivesReturnTheirInput() throws {
        let one = SingleProcess()
        #expect(one.rank == 0 && one.size == 1 && one.isLeader)
        #expect(try one.allGather([1, 2, 3]) == [[1, 2, 3]])
        #expect(try one.broadcast([9]) == [9])
        try one.requireSameFingerprint("abc", what: "recipe")
    }

    @Test func aRankWithOtherInputsRefuses() throws {
        try Scripted(rank: 1, size: 2, leader: "same").requireSameFingerprint("same", what: "recipe")
        #expect(throws: CommunicatorError.mismatch(rank: 1, what: "recipe", leader: "theirs", this: "mine")) {
            try Scripted(rank: 1, size: 2, leader: "theirs").requireSameFingerprint("mine", what: "recipe")
        }
    }

    @Test func defaultThreadsShareTheHostsCores() {
        let cores = System.activeProcessorCount
        #expect((1...cores).contains(System.affinityCores))
        #expect(SingleProcess().defaultThreads == System.affinityCores)
        // Ranks on one host split its cores, and never get fewer than one thread.
        #expect(Scripted(rank: 0, size: 2, leader: "").defaultThreads == max(1, min(System.affinityCores, cores / 2)))
        #expect(Scripted(rank: 0, size: 4 * cores, leader: "").defaultThreads == 1)
    }
}
