import Testing
@testable import LatheRecipes

/// `RunPaths` is lexical: these pin what lineage records as "inside the run" or "inside the project".
@Suite struct RunPathsTests {
    @Test func relativeStripsTheDirectoryOnlyWhenThePathLiesInside() {
        #expect(RunPaths.relative("/p/Checkpoints/run/adapter.safetensors", to: "/p/Checkpoints/run") == "adapter.safetensors")
        #expect(RunPaths.relative("/p/data/../data/a.jsonl", to: "/p/./") == "data/a.jsonl")
        #expect(RunPaths.relative("/p/data2/a.jsonl", to: "/p/data") == nil)   // a sibling sharing a prefix is outside
        #expect(RunPaths.relative("/p/data", to: "/p/data") == nil)            // the directory itself is not inside it
        #expect(RunPaths.relative("/q/a.jsonl", to: "/p") == nil)
        // Canonically equivalent names are different directories on disk.
        #expect(RunPaths.relative("/p/cafe\u{301}/a.jsonl", to: "/p/caf\u{e9}") == nil)
        #expect(RunPaths.relative("/p/caf\u{e9}/a.jsonl", to: "/p/caf\u{e9}") == "a.jsonl")
    }

    @Test func everyAbsolutePathLiesInsideTheRoot() {
        #expect(RunPaths.relative("/etc/data.jsonl", to: "/") == "etc/data.jsonl")
        #expect(RunPaths.relative("/a/../b.jsonl", to: "//") == "b.jsonl")
        #expect(RunPaths.relative("/", to: "/") == nil)
    }

    @Test func normalizeResolvesDotsLexically() {
        #expect(RunPaths.normalize("/a//b/./c/../d") == "/a/b/d")
        #expect(RunPaths.normalize("/") == "/")
    }
}
