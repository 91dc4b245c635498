import Foundation
import Testing
@testable import LatheEvaluation

/// Task YAML nested past `YAMLNesting.maxDepth` is refused before Yams recurses on it. The inputs in
/// Fixtures/fuzz/task-yaml timed out (8000 open `[`) or overflowed the stack (3000 compact `- `; thousands of `[` on
/// lines broken by CR alone, which the limit's scan once read as blank lines — campaign hour, 2026-12-02); a
/// complex mapping key trapped Yams' constructor.
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
}
