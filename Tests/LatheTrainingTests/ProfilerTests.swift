import Dispatch
import LatheSupport
import LatheModels
@testable import LatheTraining
import Testing

/// `OpProfiler` over the shipped trainer: every op class of a training step is recorded, the classes never
/// account for more than the wall time around them, and the counted work matches the shapes. The only test that
/// starts a profiler (the profiler is process-wide).
@Suite struct ProfilerTests {
    @Test func trainingStepsAreAccountedByOpClass() throws {
        let model = try TrainerTests().tinyModel()
        var config = TrainerTests().config()
        config.gradientAccumulation = 1
        config.maxSteps = 2
        let data = TrainerTests().examples(count: 4, seed: 7)
        var trainer = try Trainer(model: model, adapter: try LoRAAdapter(config: LoRAConfig(rank: 4, alpha: 8), model: model.config, seed: 3),
                                  examples: data, config: config, padToken: 0)
        let profiler = OpProfiler.start()
        let start = DispatchTime.now().uptimeNanoseconds
        var targets = 0
        try trainer.run(progress: { _ in })
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        profiler.stop()
        let order = DataOrder(examples: data, rows: config.microBatchSize, length: config.maxLength, layout: config.layout,
                              padToken: 0, seed: config.seed)
        for step in 0..<2 { targets += order.batch(step).targetCount }

        for kind in OpClass.allCases {
            #expect(profiler.totals[kind.rawValue].calls > 0 && profiler.totals[kind.rawValue].nanoseconds > 0, "\(kind.label) not recorded")
        }
        let rows = profiler.rows(total: seconds)
        #expect(rows.count == OpClass.allCases.count + 1 && rows.last?.kind == nil)
        #expect(abs(rows.reduce(0) { $0 + $1.share } - 1) < 1e-9)
        // Scopes never overlap (the outermost wins), so the classes fit inside the wall time around them.
        #expect(rows.dropLast().reduce(0) { $0 + $1.seconds } <= seconds)
        let c = model.config
        let head = profiler.totals[OpClass.lmHead.rawValue]
        #expect(head.calls == 2 && head.flops == Double(4 * targets * c.hiddenSize * c.vocabSize))
        #expect(rows.allSatisfy { $0.kind.map { profiler.totals[$0.rawValue].flops > 0 || profiler.totals[$0.rawValue].bytes > 0 } ?? true })

        // Stopped: the shipped code records nothing more, and a nested scope counts only under the outer one.
        let before = profiler.totals
        var again = try Trainer(model: model, adapter: try LoRAAdapter(config: LoRAConfig(rank: 4, alpha: 8), model: model.config, seed: 3),
                                examples: data, config: config, padToken: 0)
        try again.run()
        #expect(profiler.totals == before)
        let nested = OpProfiler.start()
        OpProfiler.measure(.optimizer, bytes: 8) { OpProfiler.measure(.data, bytes: 4) {} }
        nested.stop()
        #expect(nested.totals[OpClass.optimizer.rawValue].calls == 1 && nested.totals[OpClass.optimizer.rawValue].bytes == 8)
        #expect(nested.totals[OpClass.data.rawValue].calls == 0)
    }
}
