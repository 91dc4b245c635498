import ArgumentParser
import Foundation
import LatheRecipes

/// `lathe verify RUN_DIR`: re-hashes every file in the run's lineage and re-checks the entry chain. Files are found
/// relative to the run directory and its project root as they are now, so a copied project verifies.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash every input and output recorded in RUN_DIR/lineage.json and check its hash chain; list each mismatch.",
        discussion: "Files inside the run directory or the project are looked for where they are now (relative to RUN_DIR "
            + "and its project root), so a project copied to another machine verifies. A file recorded outside the "
            + "project (e.g. /models/base.gguf) that is not at its recorded path is listed as not checked, with the "
            + "SHA-256 that identifies it; --strict makes that a failure."
    )

    @Argument(help: "A run directory, e.g. Checkpoints/quickstart.")
    var runDirectory: String

    @Flag(help: "Fail also when a file recorded outside the project is not at its recorded path.")
    var strict = false

    func run() throws {
        let check: LineageCheck
        do { check = try LineageVerifier.check(runDirectory: runDirectory) } catch { throw failWith(error) }
        for m in check.mismatches { print("MISMATCH \(m)") }
        for u in check.unlocated { print("NOT CHECKED \(u)") }
        guard check.mismatches.isEmpty else {
            print("\(check.mismatches.count) mismatch(es): this run directory no longer matches its lineage record")
            throw ExitCode.failure
        }
        let unchecked = check.unlocated.isEmpty ? "" : "; \(check.unlocated.count) file(s) outside the project not found (listed above)"
        print("ok  \(check.matched) recorded file(s) match their hashes and the lineage chain is intact\(unchecked)")
        if strict && !check.unlocated.isEmpty { throw ExitCode.failure }
    }
}

/// Writes a string to a file descriptor (used for stderr).
enum FileHandleWriter {
    static func write(_ string: String, fd: Int32) {
        FileHandle(fileDescriptor: fd, closeOnDealloc: false).write(Data(string.utf8))
    }
}
