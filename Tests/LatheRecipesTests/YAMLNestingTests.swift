import Foundation
import LatheFormats
import Testing
@testable import LatheRecipes

/// Recipe YAML nested past `YAMLNesting.maxDepth` is refused before Yams recurses on it. The inputs in
/// Fixtures/fuzz/recipe timed out (8000 open `[`) or overflowed the stack (3000 compact `- `) under the fuzzer.
@Suite struct YAMLNestingTests {
    static let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("fuzz/recipe")

    func loadError(_ yaml: String) -> String? {
        do {
            _ = try RecipeLoader.load(yaml: yaml, file: "Recipes/deep.yaml", recipeDirectory: "/tmp/Recipes", projectRoot: "/tmp",
                                      options: RecipeOptions(checkFiles: false))
            return nil
        } catch { return "\(error)" }
    }

    @Test(arguments: ["timeout-deep-flow.yaml", "stack-overflow-compact-sequences.yaml"])
    func fuzzFindingsAreRefusedByTheNestingLimit(name: String) throws {
        let yaml = try String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8)
        let message = try #require(loadError(yaml))
        #expect(message.contains("YAMLNesting.maxDepth"), "\(message)")
        #expect(message.contains("deep.yaml"), "\(message)")
    }

    @Test func nestingWithinTheLimitStillParses() {
        #expect(YAMLNesting.firstLineTooDeep("a: " + String(repeating: "[", count: 50) + String(repeating: "]", count: 50)) == nil)
        #expect(YAMLNesting.firstLineTooDeep("pattern: a[0-9]\n" + String(repeating: "x: a[b\n", count: 300)) == nil)
        #expect(YAMLNesting.firstLineTooDeep("a: " + String(repeating: "[", count: 101))?.line == 1)
        let indented = (0..<120).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")
        #expect(YAMLNesting.firstLineTooDeep(indented)?.line == 101)
    }
}
