import Foundation
import LatheJinja
import Testing
@testable import LatheEvaluation

/// Task YAML parsing, documents and the errors that name task, document and field.
@Suite struct TaskConfigTests {
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    /// A task folder in a fresh temporary directory holding `docs.jsonl`.
    static func taskFolder(docs: [String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(docs.joined(separator: "\n").utf8).write(to: folder.appendingPathComponent("docs.jsonl"))
        return folder
    }

    static let header = """
    task: t
    dataset_path: json
    dataset_kwargs:
      data_files:
        test: docs.jsonl
    test_split: test

    """

    @Test func parsesTheMultipleChoiceFixture() throws {
        let task = try TaskConfig.load(Self.fixtures.appendingPathComponent("tasks/lathe_mc.yaml").path)
        #expect(task.name == "lathe_mc")
        #expect(task.outputType == .multipleChoice)
        #expect(task.docToText == .template("Question: {{question}}\nAnswer:"))
        #expect(task.docToChoice == .template("choices"))
        #expect(task.metrics.map(\.name) == ["acc", "acc_norm"])
        #expect(task.dataFiles["test"]!.hasSuffix("Fixtures/tasks/lathe_mc.jsonl"))
        let docs = try TaskDocuments.load(task, split: "test")
        #expect(docs.count == 32)
    }

    @Test func unknownKeysAreNamed() {
        #expect(throws: EvaluationError.invalidTask(file: "x.yaml", key: "process_results, use_prompt",
                                                    message: "not supported by Lathe; remove the key(s) or evaluate this task with lm-eval")) {
            try TaskConfig(yaml: Self.header + "output_type: multiple_choice\nuse_prompt: p\nprocess_results: !function utils.f\n", file: "x.yaml")
        }
    }

    @Test func negativeFewshotAndSamplingAreRefused() {
        #expect(throws: EvaluationError.self) { try TaskConfig(yaml: Self.header + "num_fewshot: -5\n", file: "x.yaml") }
        #expect(throws: EvaluationError.self) {
            try TaskConfig(yaml: Self.header + "generation_kwargs:\n  do_sample: true\n", file: "x.yaml")
        }
        #expect(throws: EvaluationError.self) {
            try TaskConfig(yaml: Self.header + "metric_list:\n  - metric: bleu\n", file: "x.yaml")
        }
    }

    /// A data file over `TaskDocuments.maxBytes` is refused before it is read, naming the limit and what to do (a
    /// sparse file: no disk or memory is spent). Bad lines and rows name the file and the line or row.
    @Test func dataFilesAreBoundedAndBadLinesNamed() throws {
        let folder = try Self.taskFolder(docs: [#"{"question": "a?"}"#])
        defer { try? FileManager.default.removeItem(at: folder) }
        let yaml = Self.header + "output_type: multiple_choice\ndoc_to_text: question\ndoc_to_target: 0\ndoc_to_choice: [\"x\"]\n"
        let task = try TaskConfig(yaml: yaml, file: folder.appendingPathComponent("t.yaml").path)
        #expect(try TaskDocuments.load(task, split: "test").count == 1)
        let handle = try FileHandle(forWritingTo: folder.appendingPathComponent("docs.jsonl"))
        try handle.truncate(atOffset: UInt64(TaskDocuments.maxBytes + 1))
        try handle.close()
        let error = try #require(throws: EvaluationError.self) { try TaskDocuments.load(task, split: "test") }
        guard case .invalidTask(let file, let key, let message) = error else { Issue.record("\(error)"); return }
        #expect(file == task.file && key == "dataset_kwargs.data_files.test")
        #expect(message.contains("is \(TaskDocuments.maxBytes + 1) bytes, over the 256 MiB limit for a task data file"), "\(message)")
        #expect(message.contains("keep its first lines in a smaller file"), "\(message)")

        let jsonl = Array("{\"a\": 1}\n[1]\n".utf8)
        #expect(throws: EvaluationError.invalidTask(file: "d.jsonl", key: "line 2", message: "expected a JSON object")) {
            try jsonl.withUnsafeBytes { try TaskDocuments.parse($0, csv: false, path: "d.jsonl") }
        }
        let csv = Array("q,a\n\"x, y\",1\nz\n".utf8)
        #expect(throws: EvaluationError.invalidTask(file: "d.csv", key: "row 3", message: "1 fields; the header has 2")) {
            try csv.withUnsafeBytes { try TaskDocuments.parse($0, csv: true, path: "d.csv") }
        }
    }

    @Test func missingFieldNamesTaskDocumentAndField() throws {
        let folder = try Self.taskFolder(docs: [#"{"question": "a?", "answer": 0, "choices": ["x", "y"]}"#,
                                                #"{"query": "b?", "answer": 1, "choices": ["x", "y"]}"#])
        let yaml = Self.header + "output_type: multiple_choice\ndoc_to_text: \"Q: {{question}}\"\ndoc_to_target: answer\ndoc_to_choice: choices\n"
        let task = try TaskConfig(yaml: yaml, file: folder.appendingPathComponent("t.yaml").path)
        let docs = try TaskDocuments.load(task, split: "test")
        let prompts = try DocumentPrompts(task: task)
        let first = try Evaluator.plan(task, prompts, docs[0], index: 0)
        #expect(first.context == "Q: a?" && first.continuations == [" x", " y"] && first.gold == [0])
        #expect(throws: EvaluationError.invalidDocument(task: "t", index: 1, field: "question",
                                                        message: "doc_to_text uses 'question', which this document does not have")) {
            try Evaluator.plan(task, prompts, docs[1], index: 1)
        }
    }

    @Test func targetIndexOutOfRangeNamesTheField() throws {
        let folder = try Self.taskFolder(docs: [#"{"q": "a?", "label": 3, "options": ["x", "y"]}"#])
        let yaml = Self.header + "output_type: multiple_choice\ndoc_to_text: \"{{q}}\"\ndoc_to_target: \"{{label}}\"\ndoc_to_choice: \"{{options}}\"\n"
        let task = try TaskConfig(yaml: yaml, file: folder.appendingPathComponent("t.yaml").path)
        let docs = try TaskDocuments.load(task, split: "test")
        #expect(throws: EvaluationError.invalidDocument(task: "t", index: 0, field: "label",
                                                        message: "target index 3 is out of range for 2 choices")) {
            try Evaluator.plan(task, try DocumentPrompts(task: task), docs[0], index: 0)
        }
    }

    @Test func choiceForms() throws {
        let folder = try Self.taskFolder(docs: [#"{"q": "a?", "label": "no", "options": ["yes", "no"]}"#])
        for (choice, expected) in [("\"{{options}}\"", ["yes", "no"]), ("options", ["yes", "no"]), ("[\"on\", \"off\", \"no\"]", ["on", "off", "no"])] {
            let yaml = Self.header + "output_type: multiple_choice\ndoc_to_text: \"{{q}}\"\ndoc_to_target: label\ndoc_to_choice: \(choice)\n"
            let task = try TaskConfig(yaml: yaml, file: folder.appendingPathComponent("t.yaml").path)
            let plan = try Evaluator.plan(task, try DocumentPrompts(task: task), try TaskDocuments.load(task, split: "test")[0], index: 0)
            #expect(plan.choices == expected)
            #expect(plan.gold == [expected.firstIndex(of: "no")!])
        }
    }

    @Test func csvDocuments() throws {
        let folder = try Self.taskFolder(docs: [])
        try Data("question,answer\n\"Say \"\"hi\"\", please\",hi\nplain,2\n".utf8).write(to: folder.appendingPathComponent("d.csv"))
        let yaml = "task: c\ndataset_path: csv\ndataset_kwargs: {data_files: {test: d.csv}}\ntest_split: test\ndoc_to_text: \"{{question}}\"\ndoc_to_target: answer\n"
        let task = try TaskConfig(yaml: yaml, file: folder.appendingPathComponent("c.yaml").path)
        let docs = try TaskDocuments.load(task, split: "test")
        #expect(docs.count == 2)
        #expect(try DocumentPrompts(task: task).text(docs[0], index: 0) == "Say \"hi\", please")
        #expect(docs[1].jsonText == #"{"question": "plain", "answer": 2}"#)
    }

    @Test func suiteListsTasksByName() throws {
        let folder = Self.fixtures.appendingPathComponent("tasks")
        let all = try TaskSuite.load(folder.path)
        #expect(all.map(\.name) == ["lathe_mc", "lathe_ppl"])
        let suiteFolder = try Self.taskFolder(docs: [])
        for name in ["lathe_mc", "lathe_ppl"] {
            try FileManager.default.copyItem(at: folder.appendingPathComponent("\(name).yaml"), to: suiteFolder.appendingPathComponent("\(name).yaml"))
        }
        try Data("group: mine\ntask:\n  - lathe_ppl\n  - lathe_mc\n".utf8).write(to: suiteFolder.appendingPathComponent("suite.yaml"))
        #expect(try TaskSuite.load(suiteFolder.appendingPathComponent("suite.yaml").path).map(\.name) == ["lathe_ppl", "lathe_mc"])
    }
}
