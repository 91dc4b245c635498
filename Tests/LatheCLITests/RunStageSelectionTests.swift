import Foundation
import Testing

/// `lathe run --until STAGE` / `--only STAGE`, and `lathe clean` with default flags against the recipe's clean
/// stage on the chat-export fixture of LatheDataTests. The project is `RunCommandTests`' tiny one.
@Suite struct RunStageSelectionTests {
    let project: TinyProject
    var root: String { project.root }
    var recipe: String { project.recipe }

    init() throws { project = try RunCommandTests().project }

    /// The distinct records of `Tests/LatheDataTests/Fixtures/chat_export.jsonl` (see ChatExportTests there).
    static let distinct = (1...15).map { String(format: "d%02d", $0) } + (1...8).map { String(format: "t%02d", $0) }
        + (1...6).map { String(format: "e%02d", $0) } + (1...6).map { String(format: "p%02d", $0) }

    /// Stages with a `started` event in a `--json` run.
    func started(_ result: CLIResult) -> [String] {
        result.stdout.split(separator: "\n").compactMap {
            guard let event = try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any],
                  event["event"] as? String == "started" else { return nil }
            return event["stage"] as? String
        }
    }

    /// Stage directories that exist in the run (`clean`, `tokenize`…).
    func stagesOnDisk() -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/Checkpoints/tiny/stages")) ?? []
        return Set(names.filter { !$0.hasPrefix(".") }.compactMap { $0.split(separator: "-").first.map(String.init) })
    }

    func ids(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? String
        }
    }

    @Test func cleanWithDefaultFlagsAndTheRecipeKeepTheDistinctChatRecords() throws {
        defer { project.remove() }
        let fixture = CLI.packageRoot.appendingPathComponent("Tests/LatheDataTests/Fixtures/chat_export.jsonl").path
        let cleaned = try CLI.run(["clean", fixture, "--out", "\(root)/cleaned"])
        #expect(cleaned.status == 0, "\(cleaned.stderr)")
        #expect(try ids("\(root)/cleaned/cleaned.jsonl") == Self.distinct)
        #expect(cleaned.stdout.contains("candidate pairs") && cleaned.stdout.contains("largest cluster"), "\(cleaned.stdout)")

        // The recipe path with the recipe defaults (only the split turned off, so cleaned.jsonl is comparable).
        try FileManager.default.copyItem(atPath: fixture, toPath: "\(root)/Datasets/tiny/export.jsonl")
        try """
        name: chat
        base_model: ../Checkpoints/base/tiny.gguf
        data:
          inputs: [../Datasets/tiny/export.jsonl]
        clean:
          eval_fraction: 0
        evaluate:
          enabled: false
        """.write(toFile: "\(root)/Recipes/chat.yaml", atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", "\(root)/Recipes/chat.yaml", "--until", "clean", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(started(run) == ["clean"])
        let stages = "\(root)/Checkpoints/chat/stages"
        let clean = try #require(try FileManager.default.contentsOfDirectory(atPath: stages).first { $0.hasPrefix("clean-") })
        #expect(try ids("\(stages)/\(clean)/cleaned.jsonl") == Self.distinct)
    }

    @Test func untilStopsAfterAStageAndOnlyRunsOneFromCachedInputs() throws {
        defer { project.remove() }
        let early = try CLI.run(["run", recipe, "--only", "tokenize"])
        #expect(early.status != 0)
        #expect(early.stderr.contains("clean stage") && early.stderr.contains("--until clean"), "\(early.stderr)")
        #expect(stagesOnDisk().isEmpty)

        let cleanOnly = try CLI.run(["run", recipe, "--until", "clean", "--json"])
        #expect(cleanOnly.status == 0, "\(cleanOnly.stderr)")
        #expect(started(cleanOnly) == ["clean"] && stagesOnDisk() == ["clean"])
        #expect(!FileManager.default.fileExists(atPath: "\(root)/Checkpoints/tiny/lineage.json"), "a partial run writes no lineage")

        let noTokens = try CLI.run(["run", recipe, "--only", "train"])
        #expect(noTokens.status != 0 && noTokens.stderr.contains("tokenize stage"), "\(noTokens.stderr)")

        let tokenize = try CLI.run(["run", recipe, "--only", "tokenize", "--json"])
        #expect(tokenize.status == 0, "\(tokenize.stderr)")
        #expect(started(tokenize) == ["tokenize"] && stagesOnDisk() == ["clean", "tokenize"])

        let train = try CLI.run(["run", recipe, "--until", "train", "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(started(train) == ["train"] && stagesOnDisk() == ["clean", "tokenize", "train"])

        let export = try CLI.run(["run", recipe, "--only", "export", "--json"])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(started(export) == ["export"] && stagesOnDisk() == ["clean", "tokenize", "train", "export"])

        let off = try CLI.run(["run", recipe, "--only", "evaluate"])
        #expect(off.status != 0 && off.stderr.contains("turned off"), "\(off.stderr)")

        // A complete run afterwards finds every stage cached and writes the record.
        let full = try CLI.run(["run", recipe, "--json"])
        #expect(full.status == 0, "\(full.stderr)")
        #expect(started(full).isEmpty)
        #expect(FileManager.default.fileExists(atPath: "\(root)/Checkpoints/tiny/lineage.json"))
        let verified = try CLI.run(["verify", "\(root)/Checkpoints/tiny"])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
    }

    @Test func badStageNamesAndConflictingFlagsAreRefused() throws {
        defer { project.remove() }
        let unknown = try CLI.run(["run", recipe, "--until", "cleaning"])
        #expect(unknown.status != 0 && unknown.stderr.contains("clean, tokenize, train, evaluate, export"), "\(unknown.stderr)")
        let both = try CLI.run(["run", recipe, "--until", "clean", "--only", "train"])
        #expect(both.status != 0 && both.stderr.contains("cannot be combined"), "\(both.stderr)")
        #expect(stagesOnDisk().isEmpty)
    }
}
