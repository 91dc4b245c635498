#if canImport(Glibc)
import Glibc
#endif

/// The processes of one job and the few collective operations Lathe needs between them. A job started without a
/// launcher is one process (`SingleProcess`); one started by `mpirun` or `srun` has one rank per process
/// (`MPICommunicator` in `LatheDistributed`). Library code takes `any Communicator`, so it never links MPI.
///
/// Every rank must call each collective in the same order with the same `root`; rank 0 is the one that writes.
public protocol Communicator: AnyObject {
    /// This process's rank, 0..<size.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }
    /// The number of processes of this job on this host (for the thread budget).
    var localSize: Int { get }
    /// Each rank's `bytes`, in rank order (the ranks may send different lengths).
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]]
    /// Each rank's `bytes` on rank 0, in rank order; the other ranks get an empty list (only rank 0 receives).
    func gather(_ bytes: [UInt8]) throws -> [[UInt8]]
    /// Rank 0's `bytes` on every rank (what the other ranks pass is ignored).
    func broadcast(_ bytes: [UInt8]) throws -> [UInt8]
    /// Returns when every rank has called it.
    func barrier() throws
}

extension Communicator {
    /// `gather` through `allGather`, for transports without a rooted gather.
    public func gather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        let all = try allGather(bytes)
        return rank == 0 ? all : []
    }

    /// True on the rank that writes checkpoints, logs, lineage and exports.
    public var isLeader: Bool { rank == 0 }

    /// Refuses to go on unless every rank holds the same `fingerprint` as rank 0 (a hash of the recipe and its
    /// inputs): ranks that read different files would train different models under one name.
    public func requireSameFingerprint(_ fingerprint: String, what: String) throws {
        let leader = String(decoding: try broadcast(Array(fingerprint.utf8)), as: UTF8.self)
        guard leader == fingerprint else {
            throw CommunicatorError.mismatch(rank: rank, what: what, leader: leader, this: fingerprint)
        }
    }

    /// Threads each rank uses by default: the cores this process may run on, at most the host's cores divided by
    /// the job's processes on this host, so ranks × threads never exceed the cores.
    public var defaultThreads: Int {
        max(1, min(System.affinityCores, System.activeProcessorCount / max(1, localSize)))
    }
}

/// A job of one process: no launcher, no MPI, every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var localSize: Int { 1 }
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes] }
    public func broadcast(_ bytes: [UInt8]) throws -> [UInt8] { bytes }
    public func barrier() throws {}
}

/// Why a collective operation failed.
public enum CommunicatorError: Error, CustomStringConvertible, Equatable {
    /// The transport reported an error (a rank died, the network failed).
    case failed(operation: String, rank: Int, message: String)
    /// This rank's inputs differ from rank 0's.
    case mismatch(rank: Int, what: String, leader: String, this: String)
    /// A message does not have the layout its reader expects.
    case malformed(operation: String, rank: Int, detail: String)

    public var description: String {
        switch self {
        case .failed(let operation, let rank, let message):
            return "rank \(rank): MPI \(operation) failed: \(message). Another rank probably died; run the same command again to resume from the last checkpoint"
        case .mismatch(let rank, let what, let leader, let this):
            return "rank \(rank): its \(what) (\(this.prefix(16))…) differs from rank 0's (\(leader.prefix(16))…); every host must see the same recipe, data and base model files"
        case .malformed(let operation, let rank, let detail):
            return "rank \(rank): \(operation): \(detail); every rank must run the same Lathe build"
        }
    }
}

extension System {
    /// The cores this process may run on: its CPU affinity mask (`Cpus_allowed` in /proc/self/status), which
    /// `mpirun --bind-to`, `srun --cpu-bind` and `taskset` narrow; all online cores where that is unreadable.
    public static var affinityCores: Int {
        #if canImport(Glibc)
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return activeProcessorCount }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else {
            return activeProcessorCount
        }
        let count = line.dropFirst("Cpus_allowed:".count).reduce(0) { sum, character in
            sum + (character.hexDigitValue?.nonzeroBitCount ?? 0)
        }
        return count > 0 ? count : activeProcessorCount
        #else
        return activeProcessorCount
        #endif
    }
}
