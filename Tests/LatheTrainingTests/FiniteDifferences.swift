import LatheModels
import Testing

/// Gradients of a training step against central finite differences of its loss, taken under the same dropout masks
/// (the same `dropoutKey`, so the same counter draws): for each group of parameter indices, the 4 whose analytic
/// gradients are largest must agree within 5% (fp32 loss, step 1e-3).
enum FiniteDifferences {
    static func check(_ c: PEFTGoldenTests.Case, _ start: LoRAAdapter, groups: [(String, [Int])], dropoutKey: UInt64 = 7)
        throws {
        var adapter = start
        let workspace = DecoderWorkspace(config: c.model.config, lora: adapter.layout, rows: c.batch.targets.count)
        let count = Float(c.batch.targetCount)
        func loss(_ adapter: LoRAAdapter, gradients: inout [Float]) throws -> Double {
            let result = try c.model.trainingStep(c.batch.batch, targets: c.batch.targets, adapter: adapter,
                                                  gradients: &gradients, lossScale: 1 / count, dropoutKey: dropoutKey,
                                                  workspace: workspace)
            return result.lossSum / Double(result.targetCount)
        }
        var gradients = [Float](repeating: 0, count: adapter.layout.totalCount)
        _ = try loss(adapter, gradients: &gradients)
        var scratch = gradients
        for (group, indices) in groups {
            let largest = indices.sorted { abs(gradients[$0]) > abs(gradients[$1]) }.prefix(4)
            #expect(largest.allSatisfy { gradients[$0] != 0 }, "\(group): a zero gradient among the largest")
            for i in largest {
                let h: Float = 1e-3, saved = adapter.parameters[i]
                adapter.parameters[i] = saved + h
                let up = try loss(adapter, gradients: &scratch)
                adapter.parameters[i] = saved - h
                let down = try loss(adapter, gradients: &scratch)
                adapter.parameters[i] = saved
                let numeric = (up - down) / Double(2 * h)
                let relative = abs(numeric - Double(gradients[i])) / abs(Double(gradients[i]))
                #expect(relative < 0.05, "\(group)[\(i)]: analytic \(gradients[i]), numeric \(numeric)")
            }
        }
    }
}
