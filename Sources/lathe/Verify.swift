import ArgumentParser
import Foundation
import LatheRecipes

/// `lathe verify RUN_DIR`: re-hashes every file in the run's lineage and re-checks the entry chain.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash every input and output recorded in RUN_DIR/lineage.json and check its hash chain; list each mismatch."
    )

    @Argument(help: "A run directory, e.g. Checkpoints/quickstart.")
    var runDirectory: String

    func run() throws {
        let mismatches: [LineageMismatch]
        do { mismatches = try LineageVerifier.verify(runDirectory: runDirectory) } catch { throw failWith(error) }
        guard mismatches.isEmpty else {
            for m in mismatches { print("MISMATCH \(m)") }
            print("\(mismatches.count) mismatch(es): this run directory no longer matches its lineage record")
            throw ExitCode.failure
        }
        print("ok  every recorded file matches its hash and the lineage chain is intact")
    }
}

/// Writes a string to a file descriptor (used for stderr).
enum FileHandleWriter {
    static func write(_ string: String, fd: Int32) {
        FileHandle(fileDescriptor: fd, closeOnDealloc: false).write(Data(string.utf8))
    }
}
