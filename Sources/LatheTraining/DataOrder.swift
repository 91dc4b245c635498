import LatheSupport

/// The order in which a run visits its micro-batches, as a function of the micro-batch counter alone, so a resumed
/// run (and every rank of a data-parallel one) finds the same batch at the same step.
///
/// Built from examples, the examples are shuffled once by the seed and packed into rows; epoch 0 takes the rows
/// in that order, and each later epoch e in a permutation drawn from (seed, e) — the packed rows are reshuffled,
/// as torchtune's and the HF Trainer's samplers reshuffle packed sequences per epoch. Built from prepared
/// micro-batches, the batches are taken in the order given, every epoch.
final class DataOrder {
    private enum Source {
        case fixed([MicroBatch])
        case rows(lines: [[TrainingExample]], rows: Int, length: Int, layout: BatchLayout, padToken: Int32, seed: UInt64)
    }

    private let source: Source
    /// Micro-batches per epoch.
    let count: Int
    /// An upper bound on tokens (B·T) of any micro-batch of any epoch: what the workspace is sized for.
    let maxTokens: Int
    /// The micro-batches of `cachedEpoch`, built when the run first reaches it.
    private var cache: [MicroBatch] = []
    private var cachedEpoch = -1

    /// Prepared micro-batches, taken in order and cycled.
    init(batches: [MicroBatch]) {
        source = .fixed(batches)
        count = batches.count
        maxTokens = batches.map { $0.batch.tokens.count }.max() ?? 0
    }

    /// `examples` shuffled by `seed`, packed into rows of `length` and grouped `rows` to a micro-batch; later
    /// epochs reshuffle the rows.
    init(examples: [TrainingExample], rows: Int, length: Int, layout: BatchLayout, padToken: Int32, seed: UInt64) {
        let order = shuffled(Array(examples.indices), seed: seed)
        let lines = packLines(order.map { examples[$0] }, length: length, layout: layout)
        source = .rows(lines: lines, rows: rows, length: length, layout: layout, padToken: padToken, seed: seed)
        count = (lines.count + rows - 1) / rows
        let widest = layout == .packed ? length : lines.map { $0[0].tokens.count }.max() ?? 0
        maxTokens = min(rows, lines.count) * widest
    }

    /// The permutation of the rows in `epoch`: the packing order in epoch 0, a shuffle keyed by (seed, epoch) after.
    static func rowOrder(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        epoch == 0 ? Array(0..<count) : shuffled(Array(0..<count), seed: CounterRandom.key(seed, 0x45706F63, UInt64(epoch)))
    }

    /// The `index`-th micro-batch of the run (counting across epochs from 0).
    func batch(_ index: Int) -> MicroBatch {
        switch source {
        case .fixed(let batches):
            return batches[index % batches.count]
        case let .rows(lines, rows, length, layout, padToken, seed):
            let epoch = index / count
            if epoch != cachedEpoch {
                let order = Self.rowOrder(count: lines.count, seed: seed, epoch: epoch)
                cache = groupLines(lines, order: order, rows: rows, length: length, layout: layout, padToken: padToken)
                cachedEpoch = epoch
            }
            return cache[index % count]
        }
    }
}

/// A deterministic Fisher–Yates shuffle driven by `seed`.
func shuffled(_ values: [Int], seed: UInt64) -> [Int] {
    var result = values
    var random = SplitMix64(seed: seed)
    for i in stride(from: result.count - 1, to: 0, by: -1) {
        result.swapAt(i, random.below(i + 1))
    }
    return result
}
