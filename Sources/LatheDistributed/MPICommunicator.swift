import CLatheMPI
import LatheSupport
#if canImport(Glibc)
import Glibc
#endif

/// The ranks of a job started by `mpirun` or `srun`, over Open MPI (through the C shim `CLatheMPI`). Errors of
/// every MPI call are returned (MPI_ERRORS_RETURN) and thrown as `CommunicatorError.failed`.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    public let localSize: Int

    /// Initialises MPI. Call once, on the main thread, before any other MPI use.
    public init() throws {
        try Self.check(lathe_mpi_init(), "MPI_Init", rank: -1)
        var value: Int32 = 0
        try Self.check(lathe_mpi_rank(&value), "MPI_Comm_rank", rank: -1)
        rank = Int(value)
        try Self.check(lathe_mpi_size(&value), "MPI_Comm_size", rank: rank)
        size = Int(value)
        try Self.check(lathe_mpi_local_size(&value), "MPI_Comm_split_type", rank: rank)
        localSize = Int(value)
    }

    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var counts = [Int64](repeating: 0, count: size)
        try check(lathe_mpi_allgather_int64(Int64(bytes.count), &counts), "MPI_Allgather")
        return try collect(bytes, counts: counts, operation: "allgather", call: "MPI_Allgatherv", lathe_mpi_allgatherv)
    }

    public func gather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var counts = [Int64](repeating: 0, count: rank == 0 ? size : 1)
        try check(lathe_mpi_gather_int64(Int64(bytes.count), &counts), "MPI_Gather")
        let received = try collect(bytes, counts: rank == 0 ? counts : [0], operation: "gather", call: "MPI_Gatherv",
                                   lathe_mpi_gatherv)
        return rank == 0 ? received : []
    }

    /// The byte exchange of `allGather` and `gather` once every rank's length is known (`counts`; `[0]` on a rank
    /// that receives nothing): one `exchange` call (MPI's v-variant) into a buffer of their sum, split per rank.
    private func collect(_ bytes: [UInt8], counts: [Int64], operation: String, call: String,
                         _ exchange: (UnsafeRawPointer?, Int32, UnsafeMutableRawPointer?, UnsafePointer<Int32>?) -> Int32)
        throws -> [[UInt8]] {
        let total = counts.reduce(0, +)
        guard total <= Int64(Int32.max) else {
            throw CommunicatorError.malformed(operation: operation, rank: rank,
                                              detail: "\(total) bytes in one exchange exceeds MPI's 2 GiB count limit")
        }
        let counts32 = counts.map { Int32($0) }
        var received = [UInt8](repeating: 0, count: Int(total))
        try check(bytes.withUnsafeBytes { send in
            received.withUnsafeMutableBytes { receive in
                counts32.withUnsafeBufferPointer { exchange(send.baseAddress, Int32(bytes.count), receive.baseAddress, $0.baseAddress) }
            }
        }, call)
        var result: [[UInt8]] = []
        var offset = 0
        for count in counts {
            result.append(Array(received[offset..<(offset + Int(count))]))
            offset += Int(count)
        }
        return result
    }

    public func broadcast(_ bytes: [UInt8]) throws -> [UInt8] {
        var count = Int64(bytes.count)
        try check(withUnsafeMutableBytes(of: &count) { lathe_mpi_bcast($0.baseAddress, 8, 0) }, "MPI_Bcast")
        guard count >= 0, count <= Int64(Int32.max) else {
            throw CommunicatorError.malformed(operation: "broadcast", rank: rank, detail: "length \(count) out of range")
        }
        var buffer = rank == 0 ? bytes : [UInt8](repeating: 0, count: Int(count))
        try check(buffer.withUnsafeMutableBytes { lathe_mpi_bcast($0.baseAddress, Int32(count), 0) }, "MPI_Bcast")
        return buffer
    }

    public func barrier() throws { try check(lathe_mpi_barrier(), "MPI_Barrier") }

    /// Ends every rank of the job with `code`.
    public func abort(_ code: Int32) -> Never {
        lathe_mpi_abort(code)
        exit(code)
    }

    /// Shuts MPI down; the last MPI call of a rank that ends normally.
    public func finalize() throws { try check(lathe_mpi_finalize(), "MPI_Finalize") }

    private func check(_ code: Int32, _ operation: String) throws { try Self.check(code, operation, rank: rank) }

    private static func check(_ code: Int32, _ operation: String, rank: Int) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 512)
        lathe_mpi_error_string(code, &text, Int32(text.count))
        throw CommunicatorError.failed(operation: operation, rank: rank,
                                       message: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
