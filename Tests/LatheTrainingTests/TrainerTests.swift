import Foundation
import LatheSupport
import LatheModels
@testable import LatheTraining
import Testing

@Suite struct TrainerTests {
    func tinyModel() throws -> DecoderModel {
        let loaded = try ModelLoader.load(PEFTGoldenTests.modelFixtures.appendingPathComponent("tiny-qwen2/hf").path)
        return DecoderModel(weights: loaded.weights, rope: loaded.rope)
    }

    func examples(count: Int, seed: UInt64) -> [TrainingExample] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let length = 4 + Int(random.next() % 9)
            let tokens = (0..<length).map { _ in Int32(random.next() % 320) }
            return TrainingExample(tokens: tokens, targetMask: tokens.indices.map { $0 >= 2 })
        }
    }

    func config() -> TrainingConfig {
        var config = TrainingConfig()
        config.maxSteps = 4
        config.microBatchSize = 2
        config.gradientAccumulation = 2
        config.maxLength = 16
        config.learningRate = 5e-3
        config.warmupSteps = 1
        config.seed = 42
        return config
    }

    /// Same data, seed and thread count → the same adapter, bit for bit (dropout included).
    @Test func runsAreBitwiseReproducible() throws {
        let model = try tinyModel()
        let lora = LoRAConfig(rank: 4, alpha: 8, dropout: 0.1)
        func train() throws -> [Float] {
            var trainer = try Trainer(model: model, adapter: try LoRAAdapter(config: lora, model: model.config, seed: 42),
                                      examples: examples(count: 10, seed: 1), config: config(), padToken: 0)
            try trainer.run()
            return trainer.adapter.parameters
        }
        let first = try train(), second = try train()
        #expect(first.map(\.bitPattern) == second.map(\.bitPattern))
        #expect(first != (try LoRAAdapter(config: lora, model: model.config, seed: 42)).parameters)
    }

    /// Stopping after step 2 and resuming from the saved state ends with the same adapter, bit for bit.
    @Test func resumedRunEqualsUninterruptedRun() throws {
        let model = try tinyModel()
        let lora = LoRAConfig(rank: 4, alpha: 8, dropout: 0.1)
        let data = examples(count: 10, seed: 1)
        func fresh() throws -> Trainer {
            try Trainer(model: model, adapter: try LoRAAdapter(config: lora, model: model.config, seed: 42),
                        examples: data, config: config(), padToken: 0)
        }
        var whole = try fresh()
        var saved: (parameters: [Float], optimizer: AdamW, step: Int)?
        try whole.run(saveEvery: 2, checkpoint: { t in if t.completedSteps == 2 { saved = (t.adapter.parameters, t.optimizer, 2) } })
        var resumed = try fresh()
        try resumed.resume(parameters: saved!.parameters, optimizer: saved!.optimizer, completedSteps: saved!.step)
        try resumed.run()
        #expect(resumed.adapter.parameters.map(\.bitPattern) == whole.adapter.parameters.map(\.bitPattern))
    }

    @Test func trainingLowersTheLossOnItsData() throws {
        let model = try tinyModel()
        var c = config()
        c.maxSteps = 30
        c.schedule = .constant
        var trainer = try Trainer(model: model, adapter: try LoRAAdapter(config: LoRAConfig(rank: 8, alpha: 16), model: model.config, seed: 1),
                                  examples: examples(count: 4, seed: 5), config: c, padToken: 0)
        var losses: [Double] = []
        try trainer.run(progress: { losses.append($0.loss) })
        #expect(losses.count == 30)
        #expect(losses.last! < losses.first! * 0.9, "losses \(losses)")
    }

    @Test func packedAndPaddedBatchesTrainOnTheSameTargets() {
        let data = examples(count: 5, seed: 3)
        let packed = makeMicroBatches(data, rows: 2, length: 32, layout: .packed, padToken: 0)
        let padded = makeMicroBatches(data, rows: 2, length: 32, layout: .padded, padToken: 0)
        let expected = data.reduce(0) { total, e in total + (1..<e.tokens.count).filter { e.targetMask[$0] }.count }
        #expect(packed.reduce(0) { $0 + $1.targetCount } == expected)
        #expect(padded.reduce(0) { $0 + $1.targetCount } == expected)
        #expect(packed.count < padded.count)
    }

    /// Epoch 0 takes the rows in the order the seed's example shuffle packs them; each later epoch is another
    /// permutation of the same rows, drawn from (seed, epoch), the same whenever it is asked for.
    @Test func eachEpochReshufflesTheSameRows() {
        let data = examples(count: 10, seed: 1)
        let order = DataOrder(examples: data, rows: 2, length: 16, layout: .padded, padToken: 0, seed: 42)
        #expect(order.count == 5)
        let first = makeMicroBatches(shuffled(Array(data.indices), seed: 42).map { data[$0] }, rows: 2, length: 16,
                                     layout: .padded, padToken: 0)
        func rows(_ batch: MicroBatch) -> [[Int32]] {
            (0..<batch.batch.batch).map { r in
                let width = batch.batch.length
                return Array(batch.batch.tokens[(r * width)..<((r + 1) * width)]).filter { $0 != 0 }
            }
        }
        let epochs = (0..<3).map { e in (0..<5).flatMap { rows(order.batch(e * 5 + $0)) } }
        #expect(epochs[0] == first.flatMap(rows))
        #expect(epochs[1] != epochs[0] && epochs[2] != epochs[1])
        for epoch in epochs.dropFirst() {
            #expect(epoch.sorted { $0.lexicographicallyPrecedes($1) } == epochs[0].sorted { $0.lexicographicallyPrecedes($1) })
        }
        #expect((0..<5).flatMap { rows(order.batch(5 + $0)) } == epochs[1])   // asked for again after epoch 2
        #expect(DataOrder.rowOrder(count: 50, seed: 42, epoch: 1) != DataOrder.rowOrder(count: 50, seed: 43, epoch: 1))
    }

    /// A run over three epochs stopped in the middle of the second (with gradient accumulation spanning the epoch
    /// boundary) and resumed ends with the uninterrupted run's adapter, bit for bit — DoRA's magnitudes too.
    @Test(arguments: [false, true])
    func resumedRunInALaterEpochEqualsUninterruptedRun(dora: Bool) throws {
        let model = try tinyModel()
        let lora = LoRAConfig(rank: 4, alpha: 8, dropout: 0.1, useDoRA: dora)
        let data = examples(count: 10, seed: 1)
        var c = config()
        c.maxSteps = nil
        c.epochs = 3
        c.layout = .packed
        func fresh() throws -> Trainer {
            try Trainer(model: model, adapter: try LoRAAdapter(config: lora, model: model, seed: 42),
                        examples: data, config: c, padToken: 0)
        }
        var whole = try fresh()
        let stop = whole.totalSteps / 2
        var saved: (parameters: [Float], optimizer: AdamW)?
        try whole.run(saveEvery: 1, checkpoint: { t in if t.completedSteps == stop { saved = (t.adapter.parameters, t.optimizer) } })
        var resumed = try fresh()
        try resumed.resume(parameters: saved!.parameters, optimizer: saved!.optimizer, completedSteps: stop)
        try resumed.run()
        #expect(resumed.adapter.parameters.map(\.bitPattern) == whole.adapter.parameters.map(\.bitPattern))
    }
}
