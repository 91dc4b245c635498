import Foundation
import Testing

/// `lathe bench generate`, `eval` and `train`: listed, and their numeric flags refused by name before any work.
@Suite struct BenchOptionTests {
    @Test func generateIsListedUnderBench() throws {
        let result = try CLI.run(["bench", "--help"])
        #expect(result.status == 0 && result.stdout.contains("generate"))
    }

    @Test(arguments: [["generate", "--tokens", "1"], ["generate", "--pairs", "0"], ["generate", "--streams", "-1"],
                      ["eval", "--repeats", "0"], ["eval", "--peer-batch-size", "0"], ["train", "--pairs", "0"]])
    func badCountsAreRefused(arguments: [String]) throws {
        let result = try CLI.run(["bench"] + arguments + ["--no-peer"])
        #expect(result.status != 0)
        #expect(result.stderr.contains(arguments[1]), "\(result.stderr)")
    }
}
