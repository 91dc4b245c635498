import Foundation
import Testing
import LatheModels
@testable import LatheRecipes

@Suite struct RecipeLoaderTests {
    @Test func everyShippedRecipeValidates() throws {
        let recipes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Recipes")
        let names = try FileManager.default.contentsOfDirectory(atPath: recipes.path).filter { $0.hasSuffix(".yaml") }
        #expect(names.contains("quickstart.yaml"))
        for name in names {
            // Data and models may not be on this machine; the CLI checks them, the schema is checked here.
            let loaded = try RecipeLoader.load(path: recipes.appendingPathComponent(name).path,
                                               options: RecipeOptions(checkFiles: false))
            #expect(loaded.runDirectory.hasSuffix("/Checkpoints/\(loaded.recipe.name)"))
        }
    }

    @Test func defaultsFillWhatTheRecipeLeavesOut() throws {
        let project = try TestProject()
        defer { project.remove() }
        let loaded = try project.load(TestProject.recipe("train:\n  lora:\n    rank: 4\n"))
        let r = loaded.recipe
        #expect(r.train.lora == LoRAConfig(rank: 4), "the other LoRA keys keep LoRAConfig's defaults, as `lathe train` does")
        #expect(r.train.lora.alpha == 32 && r.train.lora.targets == LoRAConfig.Module.allCases)
        #expect(r.train.optimizer.betas == [0.9, 0.999])
        #expect(r.tokenize.maxLength == 512 && r.tokenize.trainOn == .completions)
        #expect(r.clean.pii == [.email, .phone, .ipAddress, .creditCard, .iban], "ssn and secret are opt-in")
        let opted = try project.load(TestProject.recipe(), overrides: ["clean.pii=[email,ssn,secret]"])
        #expect(opted.recipe.clean.pii == [.email, .ssn, .secret])
        #expect(CleanStage.cleaningConfig(opted.recipe).pii?.types == [.email, .ssn, .secret])
        #expect(r.evaluate.numFewshot == nil)
        #expect(try project.load(TestProject.recipe(), overrides: ["evaluate.num_fewshot=3"]).recipe.evaluate.numFewshot == 3)
        #expect(throws: RecipeError.self) { try project.load(TestProject.recipe(), overrides: ["evaluate.num_fewshot=-1"]) }
        #expect(!r.evaluate.applyChatTemplate && r.evaluate.every == 0 && r.evaluate.select == nil)
        let chat = try project.load(TestProject.recipe(), overrides: ["evaluate.apply_chat_template=true", "evaluate.system_instruction=Be brief."])
        #expect(chat.recipe.evaluate.options.applyChatTemplate && chat.recipe.evaluate.options.systemInstruction == "Be brief.")
        #expect(throws: RecipeError.self) { try project.load(TestProject.recipe(), overrides: ["evaluate.fewshot_as_multiturn=true"]) }
        let selecting = try project.load(TestProject.recipe(), overrides: ["evaluate.every=2", "evaluate.select=tiny/acc", "evaluate.better=lower", "evaluate.patience=3"])
        #expect(selecting.recipe.evaluate.better == .lower && selecting.recipe.evaluate.patience == 3)
        for bad in [["evaluate.select=tiny/acc"], ["evaluate.every=2", "evaluate.select=acc"], ["evaluate.every=-1"],
                    ["evaluate.every=2", "evaluate.select=tiny/acc", "evaluate.patience=0"], ["evaluate.patience=2"],
                    ["evaluate.every=2", "evaluate.select=tiny/acc", "evaluate.better=best"]] {
            #expect(throws: RecipeError.self, "\(bad)") { try project.load(TestProject.recipe(), overrides: bad) }
        }
        #expect(r.outputDir == "Checkpoints/tiny")
        #expect(loaded.runDirectory == project.root + "/Checkpoints/tiny")
        #expect(loaded.dataFiles == [project.root + "/Datasets/tiny/train.jsonl"])
        #expect(loaded.taskPaths == [project.root + "/Recipes/evals/tiny"])
        #expect(!FileManager.default.fileExists(atPath: loaded.runDirectory))   // nothing written
        #expect(loaded.summary.hasPrefix("tiny: model.gguf, 1 data file(s), LoRA r4 α32"))
    }

    @Test func setFlagsBeatRecipeBeatsDefaults() throws {
        let project = try TestProject()
        defer { project.remove() }
        let text = TestProject.recipe("train:\n  lora:\n    rank: 4\n  schedule: linear\n")
        let r = try project.load(text, overrides: ["train.lora.rank=32", "train.lora.targets=[q_proj, v_proj]", "seed=7"]).recipe
        #expect(r.train.lora.rank == 32)
        #expect(r.train.lora.targets == [.q, .v])
        #expect(r.train.schedule == .linear)
        #expect(r.seed == 7)
    }

    @Test func unknownKeySuggestsTheNearestWithLine() throws {
        let project = try TestProject()
        defer { project.remove() }
        let top = try #require(project.error(TestProject.recipe("trian:\n  epochs: 2\n")))
        #expect(top.line == 7 && top.key == "trian")
        #expect(top.message.contains("did you mean \"train\"?"))
        #expect(top.file.hasSuffix("Recipes/r.yaml"))
        let nested = try #require(project.error(TestProject.recipe("train:\n  lora:\n    rnak: 16\n")))
        #expect(nested.line == 9 && nested.key == "train.lora.rnak")
        #expect(nested.message.contains("did you mean \"rank\"?"))
        #expect(nested.description.contains("r.yaml:9: train.lora.rnak: unknown key"))
    }

    @Test func wrongTypeNamesTheExpectedType() throws {
        let project = try TestProject()
        defer { project.remove() }
        let rank = try #require(project.error(TestProject.recipe("train:\n  lora:\n    rank: sixteen\n")))
        #expect(rank.line == 9 && rank.key == "train.lora.rank" && rank.message.contains("expected an integer"))
        let flag = try #require(project.error(TestProject.recipe("tokenize:\n  packing: maybe\n")))
        #expect(flag.key == "tokenize.packing" && flag.message.contains("true or false"))
        let list = try #require(project.error(TestProject.recipe("train:\n  lora:\n    targets: q_proj\n")))
        #expect(list.key == "train.lora.targets" && list.message.contains("expected a list"))
        let choice = try #require(project.error(TestProject.recipe("train:\n  schedule: cosin\n")))
        #expect(choice.key == "train.schedule" && choice.message.contains("did you mean \"cosine\"?"))
        let element = try #require(project.error(TestProject.recipe("train:\n  lora:\n    targets: [q_proj, v_prj]\n")))
        #expect(element.key == "train.lora.targets[1]" && element.message.contains("v_proj"))
    }

    /// Swift's `Double` parser reads `inf`, `nan` and `1e999` (infinity); a recipe's numbers must be finite, and
    /// the one-line summary `lathe validate` prints must not trap on a huge one (`alpha: 1e300` trapped there).
    @Test func numbersMustBeFiniteAndHugeOnesSummarise() throws {
        let project = try TestProject()
        defer { project.remove() }
        for text in ["1e999", "inf", "-infinity", "nan"] {
            let error = try #require(project.error(TestProject.recipe("train:\n  lora:\n    alpha: \(text)\n")), "\(text)")
            #expect(error.key == "train.lora.alpha" && error.line == 9 && error.message.contains("expected a finite number"),
                    "\(text): \(error.key) \(error.line) \(error.message)")
        }
        let norm = try #require(project.error(TestProject.recipe("train:\n  max_grad_norm: inf\n")))
        #expect(norm.key == "train.max_grad_norm" && norm.message.contains("expected a finite number"))
        let huge = try project.load(TestProject.recipe("train:\n  lora:\n    alpha: 1e300\n"))
        #expect(huge.summary.contains("α1e+300"), "\(huge.summary)")
        let whole = try project.load(TestProject.recipe("train:\n  lora:\n    alpha: 64.0\n"))
        #expect(whole.summary.contains("α64,"), "\(whole.summary)")
    }

    @Test func rangeAndConsistencyChecks() throws {
        let project = try TestProject()
        defer { project.remove() }
        let both = try #require(project.error(TestProject.recipe("train:\n  epochs: 2\n  max_steps: 10\n")))
        #expect(both.key == "train.max_steps" && both.line == 9)
        let dropout = try #require(project.error(TestProject.recipe("train:\n  lora:\n    dropout: 1.5\n")))
        #expect(dropout.key == "train.lora.dropout" && dropout.line == 9)
        let name = try #require(project.error("name: ../evil\n" + TestProject.recipe().split(separator: "\n").dropFirst().joined(separator: "\n")))
        #expect(name.key == "name" && name.line == 1)
        let dup = try #require(project.error(TestProject.recipe("seed: 1\nseed: 2\n")))
        #expect(dup.key == "seed" && dup.line == 8)
        let field = try #require(project.error(TestProject.recipe(), overrides: ["data.format=alpaca", "data.fields={prompt: q}"]))
        #expect(field.key == "data.fields" && field.message.contains("did you mean \"input\"?") == false)
        let twice = try #require(project.error(TestProject.recipe("data:\n  format: text\n")))
        #expect(twice.key == "data" && twice.message.contains("twice"))
        let budget = try #require(project.error(TestProject.recipe("clean:\n  memory_budget: lots\n")))
        #expect(budget.key == "clean.memory_budget" && budget.line == 8 && budget.message.contains("512M"), "\(budget.key) \(budget.line) \(budget.message)")
    }

    @Test func newTokensAreChecked() throws {
        let project = try TestProject()
        defer { project.remove() }
        let empty = try #require(project.error(TestProject.recipe("train:\n  new_tokens: [\"<a>\", \"\"]\n")))
        #expect(empty.key == "train.new_tokens" && empty.message.contains("empty"), "\(empty)")
        let twice = try #require(project.error(TestProject.recipe("train:\n  new_tokens: [\"<a>\", \"<b>\", \"<a>\"]\n")))
        #expect(twice.key == "train.new_tokens" && twice.message.contains("twice"), "\(twice)")
        let mode = try #require(project.error(TestProject.recipe("train:\n  embeddings: some\n")))
        #expect(mode.key == "train.embeddings" && mode.message.contains("new_tokens"), "\(mode)")
        let loaded = try project.load(TestProject.recipe("train:\n  new_tokens: [\"<diagnosis>\", \"<tool_call>\"]\n  embeddings: full\n"))
        #expect(loaded.recipe.train.newTokens == ["<diagnosis>", "<tool_call>"] && loaded.recipe.train.embeddings == .full)
    }

    @Test func missingInputsAreReportedWithLine() throws {
        let project = try TestProject()
        defer { project.remove() }
        let text = TestProject.recipe().replacingOccurrences(of: "tiny/train.jsonl", with: "tiny/nope.jsonl")
        let error = try #require(project.error(text))
        #expect(error.key == "data.inputs" && error.line == 4 && error.message.contains("nope.jsonl"))
        #expect(try project.load(text, checkFiles: false).recipe.name == "tiny")
    }

    @Test func outputsOutsideCheckpointsAreRefused() throws {
        let project = try TestProject()
        defer { project.remove() }
        for bad in ["../elsewhere", "Checkpoints/../Datasets/x", "/tmp/lathe-out", "Checkpoints"] {
            let error = try #require(project.error(TestProject.recipe("output_dir: \(bad)\n")))
            #expect(error.key == "output_dir" && error.line == 7, "\(bad)")
        }
        let outside = NSTemporaryDirectory() + "lathe-outside-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try FileManager.default.createSymbolicLink(atPath: project.root + "/Checkpoints/link", withDestinationPath: outside)
        let link = try #require(project.error(TestProject.recipe("output_dir: Checkpoints/link/run\n")))
        #expect(link.message.contains("symbolic link"))
        #expect(try project.load(TestProject.recipe("output_dir: Checkpoints/runs/a\n")).runDirectory == project.root + "/Checkpoints/runs/a")
    }

    @Test func badSetFlagsAreNamed() throws {
        let project = try TestProject()
        defer { project.remove() }
        let error = try #require(project.error(TestProject.recipe(), overrides: ["train.lora.rnak=3"]))
        #expect(error.file == "--set train.lora.rnak=3" && error.key == "train.lora.rnak")
        let malformed = try #require(project.error(TestProject.recipe(), overrides: ["seed"]))
        #expect(malformed.message.contains("key.path=value"))
    }

    @Test func syntaxErrorsNameTheLine() throws {
        let project = try TestProject()
        defer { project.remove() }
        let error = try #require(project.error("name: tiny\ntrain: [unclosed\n"))
        #expect(error.line >= 2 && error.key == "(syntax)")
    }

    @Test func resolvedYAMLRoundTrips() throws {
        let project = try TestProject()
        defer { project.remove() }
        let loaded = try project.load(TestProject.recipe("train:\n  max_steps: 30\n"))
        let again = try project.load(try loaded.yaml())
        #expect(again.recipe == loaded.recipe)
        let yaml = try loaded.yaml()
        #expect(yaml.contains("    alpha: 32.0") && yaml.contains("    rslora: false") && yaml.contains("    lr: 0.0002") && yaml.contains("  max_steps: 30"))
        #expect(try again.sha256() == loaded.sha256())
    }

    @Test func editDistanceAndSuggestions() {
        #expect(editDistance("kitten", "sitting") == 3)
        #expect(editDistance("", "abc") == 3)
        #expect(editDistance("abc", "") == 3)
        #expect(suggestion(for: "zzzzzzzz", among: ["rank", "alpha"]).hasPrefix("expected one of"))
    }
}
