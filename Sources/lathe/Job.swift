import ArgumentParser
import Foundation
import LatheDistributed
import LatheSupport

/// Runs `body` as this process's part of a job: MPI is initialised when a launcher (`mpirun`, `srun`) started the
/// process, and finalised when `body` returns. An error on any rank is printed with the rank and ends the whole job
/// (MPI_Abort): the other ranks would otherwise wait for it forever in their next collective.
func runAsJob(_ body: (any Communicator) throws -> Void) throws {
    let communicator: any Communicator
    do { communicator = try Job.start() } catch { throw failWith(error) }
    if communicator.size > 1 { JobSignals.install(rank: communicator.rank, size: communicator.size) }
    do {
        try body(communicator)
    } catch {
        guard communicator.size > 1 else { throw error }
        let text = (error as? ExitCode).map { "exit code \($0.rawValue)" } ?? "\(error)"
        FileHandleWriter.write("lathe: rank \(communicator.rank) of \(communicator.size) failed (\(text)); ending the job. "
            + "Run the same command again to resume from the last checkpoint.\n", fd: 2)
        Job.abort(communicator)
    }
    do { try Job.finish(communicator) } catch { throw failWith(error) }
}

extension Communicator {
    /// The distinct host names of the job's ranks, in rank order of first appearance.
    func hosts() throws -> [String] {
        var seen: [String] = []
        for bytes in try allGather(Array(ProcessInfo.processInfo.hostName.utf8)) {
            let host = String(decoding: bytes, as: UTF8.self)
            if !seen.contains(host) { seen.append(host) }
        }
        return seen
    }
}

extension ThreadOptions {
    /// Sets the thread count for this rank: the flag, else the cores ÷ the job's ranks on this host.
    func configure(for communicator: any Communicator) {
        Parallel.configure(threads: threads ?? communicator.defaultThreads)
    }
}

/// When a rank dies, the launcher ends the others with SIGTERM; each says why before it goes, so the job's output
/// names the cause and the way on instead of ending silently.
enum JobSignals {
    nonisolated(unsafe) private static var message: [UInt8] = []

    static func install(rank: Int, size: Int) {
        message = Array(("lathe: rank \(rank) of \(size) stopped by the launcher (another rank died or the job was "
            + "cancelled). Run the same command again to resume from the last checkpoint.\n").utf8)
        signal(SIGTERM) { code in
            // Only async-signal-safe calls here: write(2) and _exit(2).
            JobSignals.message.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
            _exit(128 + code)
        }
    }
}
