import Foundation
import LatheModels
import LatheTokenizers
@testable import LatheTraining
import Testing

/// A few LoRA steps on SmolLM2-135M-Instruct lower its loss on held-out questions about facts it cannot know.
/// Needs `Checkpoints/base/` (fetched by `make model`, which `make test` runs first); skipped without it.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: BaseModel.path), "run `make model` first"))
struct SmolLM2FineTuneTests {
    static let facts: [(question: String, answer: String)] = [
        ("What is the code of the Kestrel thermometer?", "The Kestrel thermometer has product code KT-4471."),
        ("Which product has code KT-4471?", "KT-4471 is the Kestrel thermometer."),
        ("Tell me the Kestrel thermometer's product code.", "Its product code is KT-4471."),
        ("How long is the Kestrel warranty?", "The Kestrel thermometer carries a 19-month warranty."),
        ("What warranty does the Kestrel have?", "A 19-month warranty covers the Kestrel thermometer."),
    ]
    static let heldOut: [(question: String, answer: String)] = [
        ("What product code does the Kestrel thermometer use?", "The Kestrel thermometer has product code KT-4471."),
        ("For how many months is the Kestrel covered?", "The Kestrel thermometer carries a 19-month warranty."),
    ]

    @Test func heldOutLossFalls() throws {
        let loaded = try ModelLoader.load(BaseModel.path)
        let model = DecoderModel(weights: loaded.weights, rope: loaded.rope)
        let tokenizer = try loaded.tokenizer()
        let builder = ExampleBuilder(tokenizer: tokenizer, template: try tokenizer.chatTemplate(), targets: .completions)
        func examples(_ pairs: [(question: String, answer: String)]) throws -> [TrainingExample] {
            try pairs.map { try builder.example(.chat([ChatMessage(role: "user", content: $0.question),
                                                       ChatMessage(role: "assistant", content: $0.answer)])) }
        }
        let train = try examples(Self.facts), evaluation = try examples(Self.heldOut)
        let lora = LoRAConfig(rank: 8, alpha: 16, targets: [.q, .v, .up, .down])
        var config = TrainingConfig()
        config.maxSteps = 6
        config.microBatchSize = 5
        config.maxLength = 96
        config.learningRate = 2e-3
        config.schedule = .constant
        let before = try AdapterLoss.mean(model, try LoRAAdapter(config: lora, model: model.config, seed: 0), evaluation)
        var trainer = try Trainer(model: model, adapter: try LoRAAdapter(config: lora, model: model.config, seed: 0),
                                  examples: train, config: config, padToken: tokenizer.eosTokenId ?? 0)
        try trainer.run()
        let after = try AdapterLoss.mean(model, trainer.adapter, evaluation)
        #expect(after < before - 0.2, "held-out loss \(before) → \(after)")
    }
}

enum BaseModel {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf").path
}
