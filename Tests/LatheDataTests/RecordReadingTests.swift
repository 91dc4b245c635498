import Foundation
import Testing
@testable import LatheData

/// Reading whole files outside the pipeline (`RecordSources.records`, `CleaningPipeline.evaluationTexts`), and the
/// label list the CLI validates `--languages` against.
@Suite struct RecordReadingTests {
    @Test func recordsKeepsTheReadableRecordsInFileOrder() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("mixed.jsonl").path
        try """
            {"text": "first"}
            not json
            {"prompt": "q", "completion": "a"}

            {"other": 1}
            {"text": "last"}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let records = try RecordSources.records(path)
        #expect(records.map(\.content) == [.text("first"), .promptCompletion(prompt: "q", completion: "a"), .text("last")])
        #expect(records.map(\.source.line) == [1, 3, 6])
    }

    @Test func recordsOfACSVUseTheGivenDecoder() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("faq.csv").path
        try "question,answer\nWhat is Lathe?,A trainer.\nWho runs it?,You.\n".write(toFile: path, atomically: true, encoding: .utf8)
        let decoder = RecordDecoder(format: .promptCompletion, fields: ["prompt": "question", "completion": "answer"])
        let records = try RecordSources.records(path, decoder: decoder)
        #expect(records.map(\.content) == [.promptCompletion(prompt: "What is Lathe?", completion: "A trainer."),
                                           .promptCompletion(prompt: "Who runs it?", completion: "You.")])
        // Without the mapping no row has a known field: nothing is read, and nothing throws.
        #expect(try RecordSources.records(path).isEmpty)
    }

    @Test func evaluationTextsFollowThePipelineSettings() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("eval.jsonl").path
        try "{\"q\": \"Which port?\", \"a\": \"8080\"}\n{\"text\": \"no q here\"}\n".write(toFile: path, atomically: true, encoding: .utf8)
        var config = CleaningConfig(kind: .instruction)
        config.fields = ["prompt": "q", "completion": "a"]
        config.format = .promptCompletion
        let texts = try CleaningPipeline(config: config).evaluationTexts([path, path])
        #expect(texts == ["Which port?\n\n8080", "Which port?\n\n8080"])
    }

    @Test func everyDetectedLanguageIsALabel() {
        let samples = ["The cat is on the mat and it is happy.", "Le chat est sur la table avec les enfants.",
                       "Der Hund ist nicht mit dem Ball zu sehen.", "El perro y la casa con los niños.",
                       "Il gatto è per la casa con gli amici.", "O gato não está com a casa.", "De kat is niet op het dak.",
                       "Xyzzy plugh quux.", "Привет, как дела?", "Καλημέρα κόσμε", "שלום עולם", "مرحبا بالعالم",
                       "नमस्ते दुनिया", "สวัสดีชาวโลก", "こんにちは世界", "안녕하세요", "你好世界", "ሰላም ልዑል", "12345 !!!"]
        for text in samples {
            let label = LanguageDetector.detect(text, words: Words.split(text)).language
            #expect(LanguageDetector.labels.contains(label), "\(text) → \(label)")
        }
        #expect(Set(LanguageDetector.labels).count == LanguageDetector.labels.count)
    }
}
