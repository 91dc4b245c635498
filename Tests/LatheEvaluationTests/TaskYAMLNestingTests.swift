import Foundation
import Testing
@testable import LatheEvaluation

/// Task YAML nested past `YAMLNesting.maxDepth` is refused before Yams recurses on it. The inputs in
/// Fixtures/fuzz/task-yaml timed out (8000 open `[`) or overflowed the stack (3000 compact `- `; thousands of `[` on
/// lines broken by CR alone, which the limit's scan once read as blank lines — campaign hour, 2026-12-02); a
/// complex mapping key and a base-60 integer past `Int.max` (`1100000000000007755:4`, same hour) trapped Yams'
/// constructor.
@Suite struct TaskYAMLNestingTests {
    static let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("fuzz/task-yaml")

    @Test(arguments: ["timeout-deep-flow.yaml", "stack-overflow-compact-sequences.yaml", "crash-cr-line-breaks-9da003f2.yaml"])
    func fuzzFindingsAreRefusedByTheNestingLimit(name: String) throws {
        let path = Self.folder.appendingPathComponent(name).path
        do {
            _ = try TaskConfig.load(path)
            Issue.record("\(name) loaded")
        } catch EvaluationError.invalidTask(let file, let key, let message) {
            #expect(file == path)
            #expect(key == "-")
            #expect(message.hasPrefix("line ") && message.contains("YAMLNesting.maxDepth"), "\(message)")
        }
    }

    /// A mapping key that is a list (`? a…`) trapped in Yams' constructor (force-unwrapped as a string).
    @Test func complexMappingKeyIsRefusedNotTrapped() throws {
        let path = Self.folder.appendingPathComponent("crash-complex-key-3b8ccd28a6.yaml").path
        do {
            _ = try TaskConfig.load(path)
            Issue.record("the fuzz finding loaded")
        } catch EvaluationError.invalidTask(_, _, let message) {
            #expect(message.contains("mapping key must be a plain string") || message.contains("not valid YAML"), "\(message)")
        }
        #expect(throws: EvaluationError.self) { try TaskConfig(yaml: "task: t\n? [a, b]\n: c\n", file: "t.yaml") }
    }

    /// YAML 1.1 reads `1:30` as the base-60 integer 90; Yams folds the components with trapping arithmetic, so a
    /// large first component, or 11 components (60^11 > Int.max, even though the last power goes unused), trapped.
    @Test func sexagesimalIntegerOutOfRangeIsRefusedNotTrapped() throws {
        let path = Self.folder.appendingPathComponent("crash-sexagesimal-overflow-d85a1ec3.yaml").path
        do {
            _ = try TaskConfig.load(path)
            Issue.record("the fuzz finding loaded")
        } catch EvaluationError.invalidTask(let file, _, let message) {
            #expect(file == path)
            #expect(message.hasPrefix("line 1: the base-60 integer '1100000000000007755:4' is out of range"), "\(message)")
        }
        for text in ["task: t\nn: 1:0:0:0:0:0:0:0:0:0:0\n", "task: t\n1_100_000_000_000_007_755:4: key\n",
                     "task: t\nn: [1, !!int -0:-9223372036854775808]\n"] {
            #expect(throws: EvaluationError.self, "\(text)") { try TaskConfig(yaml: text, file: "t.yaml") }
        }
    }

    /// The guard refuses only what would trap: in-range base-60 integers still load as YAML 1.1 reads them.
    @Test func sexagesimalIntegersInRangeStillLoad() throws {
        let loaded = try TaskYAML.load("a: 1:30\nb: -2:00:01\nc: 0:30\nd: 153722867280912930:7\ne: '99999999999999999999:1'\n")
        let map = try #require(loaded as? [String: Any])
        #expect(map["a"] as? Int == 90)
        #expect(map["b"] as? Int == -7201)
        #expect(map["c"] as? String == "0:30")  // YAML 1.1's base-60 form starts with 1-9
        #expect(map["d"] as? Int == 153722867280912930 * 60 + 7)
        #expect(map["e"] as? String == "99999999999999999999:1")
        #expect(TaskYAML.sexagesimalOverflows("1:0:0:0:0:0:0:0:0:0") == false)  // 10 components: 60^10 < Int.max
        #expect(TaskYAML.sexagesimalOverflows("1:0:0:0:0:0:0:0:0:0:0"))
        #expect(TaskYAML.sexagesimalOverflows("153722867280912931:0"))
    }
}
