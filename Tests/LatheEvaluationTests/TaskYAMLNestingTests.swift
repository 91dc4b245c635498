import Foundation
import Testing
@testable import LatheEvaluation

/// Task YAML nested past `YAMLNesting.maxDepth` is refused before Yams recurses on it. The inputs in
/// Fixtures/fuzz/task-yaml timed out (8000 open `[`) or overflowed the stack (3000 compact `- `) under the fuzzer.
@Suite struct TaskYAMLNestingTests {
    static let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("fuzz/task-yaml")

    @Test(arguments: ["timeout-deep-flow.yaml", "stack-overflow-compact-sequences.yaml"])
    func fuzzFindingsAreRefusedByTheNestingLimit(name: String) throws {
        let path = Self.folder.appendingPathComponent(name).path
        do {
            _ = try TaskConfig.load(path)
            Issue.record("\(name) loaded")
        } catch EvaluationError.invalidTask(let file, let key, let message) {
            #expect(file == path)
            #expect(key.hasPrefix("line "))
            #expect(message.contains("YAMLNesting.maxDepth"), "\(message)")
        }
    }
}
