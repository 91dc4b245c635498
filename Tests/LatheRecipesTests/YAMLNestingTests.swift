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
        // Every line break libyaml knows ends a line for the scan too: CR alone once read as a blank line.
        for lineBreak in ["\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}"] {
            let deep = "a:" + String(repeating: lineBreak + "[", count: 150)
            #expect(YAMLNesting.firstLineTooDeep(deep)?.line == 102, "\(lineBreak.unicodeScalars.map(\.value))")
            #expect(loadError(deep)?.contains("YAMLNesting.maxDepth") == true)
        }
        #expect(YAMLNesting.firstLineTooDeep("a: 1\r\nb: " + String(repeating: "[", count: 101))?.line == 2)
        let indented = (0..<120).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")
        #expect(YAMLNesting.firstLineTooDeep(indented)?.line == 101)
    }
}
