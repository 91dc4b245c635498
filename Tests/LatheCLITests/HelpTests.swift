import Testing

@Suite struct HelpTests {
    /// `lathe --help` lists exactly the subcommands that are implemented; this list changes only with them.
    static let implemented = ["run", "train", "export", "validate", "plan", "explain", "verify", "reproduce", "clean", "eval", "generate", "inspect", "tokenize", "serve", "bench"]

    @Test func helpListsOnlyImplementedSubcommands() throws {
        let result = try CLI.run(["--help"])
        #expect(result.status == 0)
        // Subcommand rows are indented by exactly two spaces; wrapped abstracts are indented further.
        let section = result.stdout.components(separatedBy: "SUBCOMMANDS:").last ?? ""
        let rows = section.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
            .prefix { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        let listed = rows.compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }.filter { $0 != "help" }
        #expect(listed == Self.implemented)
    }

    @Test func benchListsKernels() throws {
        let result = try CLI.run(["bench", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("kernels"))
    }

    /// `lathe --version`: the version, then the OpenBLAS kernels in the form `make test` reads to run its tests on
    /// them (`OpenBLAS <core> kernels…`).
    @Test func versionNamesTheKernels() throws {
        let result = try CLI.run(["--version"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "0.1.0")
        let kernels = lines.dropFirst().first ?? ""
        let core = kernels.hasPrefix("OpenBLAS ") ? kernels.dropFirst(9).prefix { $0 != " " } : ""
        #expect(!core.isEmpty && core.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && kernels.contains("\(core) kernels"),
                "second line \(kernels)")
    }

    @Test func unknownSubcommandFailsWithMessage() throws {
        let result = try CLI.run(["frobnicate"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("frobnicate"))
    }
}
import Foundation
