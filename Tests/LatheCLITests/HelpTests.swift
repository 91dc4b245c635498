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

    @Test func unknownSubcommandFailsWithMessage() throws {
        let result = try CLI.run(["frobnicate"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("frobnicate"))
    }
}
import Foundation
