import LatheModels

/// One tokenised training sample: its tokens and which of them the model must learn to predict.
public struct TrainingExample: Sendable, Equatable {
    public var tokens: [Int32]
    /// `targetMask[i]`: token i is a target (e.g. completion tokens only, or every token).
    public var targetMask: [Bool]

    public init(tokens: [Int32], targetMask: [Bool]) {
        precondition(tokens.count == targetMask.count)
        self.tokens = tokens
        self.targetMask = targetMask
    }

    /// Every token after the first is a target.
    public init(tokens: [Int32]) {
        self.init(tokens: tokens, targetMask: Array(repeating: true, count: tokens.count))
    }
}

/// A micro-batch ready for `DecoderModel.trainingStep`: rows of tokens and the next-token target of each position
/// (-1 where there is none: padding, prompt tokens, a sample's last token, across a packing boundary).
public struct MicroBatch: Sendable {
    public let batch: DecoderModel.Batch
    public let targets: [Int32]        // (B·T)

    public init(batch: DecoderModel.Batch, targets: [Int32]) {
        precondition(targets.count == batch.tokens.count)
        self.batch = batch
        self.targets = targets
    }

    public var targetCount: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }
}

/// How samples become rows.
public enum BatchLayout: String, Sendable, CaseIterable {
    /// One sample per row, right-padded to the longest row of the micro-batch.
    case padded
    /// Samples concatenated into rows of `length`; attention and positions restart at each sample.
    case packed
}

/// Builds micro-batches of `rows` rows from `examples` in the given order; samples longer than `length` are
/// truncated to it.
public func makeMicroBatches(_ examples: [TrainingExample], rows: Int, length: Int, layout: BatchLayout,
                             padToken: Int32) -> [MicroBatch] {
    let lines = packLines(examples, length: length, layout: layout)
    return groupLines(lines, order: Array(lines.indices), rows: rows, length: length, layout: layout, padToken: padToken)
}

/// The rows of a run before they are grouped into micro-batches: `examples` in order, truncated to `length`
/// (samples of fewer than two tokens dropped), one per row (`padded`) or concatenated into rows of at most
/// `length` tokens (`packed`).
func packLines(_ examples: [TrainingExample], length: Int, layout: BatchLayout) -> [[TrainingExample]] {
    precondition(length >= 2)
    let clipped = examples.map { e in
        e.tokens.count <= length ? e : TrainingExample(tokens: Array(e.tokens.prefix(length)),
                                                       targetMask: Array(e.targetMask.prefix(length)))
    }.filter { $0.tokens.count >= 2 }
    var lines: [[TrainingExample]] = []
    switch layout {
    case .padded:
        lines = clipped.map { [$0] }
    case .packed:
        var line: [TrainingExample] = [], used = 0
        for example in clipped {
            if used + example.tokens.count > length, !line.isEmpty { lines.append(line); line = []; used = 0 }
            line.append(example)
            used += example.tokens.count
        }
        if !line.isEmpty { lines.append(line) }
    }
    return lines
}

/// Micro-batches of `rows` rows taken from `lines` in `order` (a permutation of their indices); the last may be
/// shorter. Packed rows are `length` wide, padded ones as wide as the micro-batch's longest sample.
func groupLines(_ lines: [[TrainingExample]], order: [Int], rows: Int, length: Int, layout: BatchLayout,
                padToken: Int32) -> [MicroBatch] {
    precondition(rows >= 1 && order.count == lines.count)
    return stride(from: 0, to: order.count, by: rows).map { start in
        let group = order[start..<min(start + rows, order.count)].map { lines[$0] }
        let width = layout == .packed ? length : group.map { $0[0].tokens.count }.max()!
        return microBatch(group, width: width, packed: layout == .packed, padToken: padToken)
    }
}

private func microBatch(_ lines: [[TrainingExample]], width: Int, packed: Bool, padToken: Int32) -> MicroBatch {
    var tokens: [Int32] = [], positions: [Int32] = [], segments: [Int32] = [], targets: [Int32] = []
    for line in lines {
        var segment: Int32 = 0
        for example in line {
            for i in example.tokens.indices {
                tokens.append(example.tokens[i])
                positions.append(Int32(i))
                segments.append(segment)
                let next = i + 1
                targets.append(next < example.tokens.count && example.targetMask[next] ? example.tokens[next] : -1)
            }
            segment += 1
        }
        let padding = width - line.reduce(0) { $0 + $1.tokens.count }
        for p in 0..<padding {
            tokens.append(padToken)
            positions.append(Int32(p))
            segments.append(segment)  // padding forms its own segment and is never a target
            targets.append(-1)
        }
    }
    let batch = DecoderModel.Batch(tokens: tokens, positions: positions, segments: packed ? segments : nil,
                                 batch: lines.count, length: width)
    return MicroBatch(batch: batch, targets: targets)
}
