import LatheTensors
import LatheSupport

/// What one training forward/backward returns: the summed loss over its target tokens and how many there were.
public struct StepLoss: Sendable {
    public var lossSum: Double
    public var targetCount: Int
}

extension DecoderModel {
    /// Forward and backward of one micro-batch with the base frozen: accumulates (+=) LoRA gradients into
    /// `gradients` (laid out as `adapter.layout`) and returns the summed cross-entropy of the rows whose
    /// `targets` are ≥ 0. Each gradient is scaled by `lossScale` (1 / target tokens of the accumulated batch,
    /// so the loss is averaged over the whole accumulated batch). `dropoutKey` seeds this step's dropout masks.
    public func trainingStep(_ batch: Batch, targets: [Int32], adapter: LoRAAdapter, gradients: inout [Float],
                             lossScale: Float, dropoutKey: UInt64, workspace ws: DecoderWorkspace,
                             lmHeadChunk: Int = 128) throws -> StepLoss {
        let n = batch.tokens.count
        precondition(targets.count == n && ws.rows >= n && ws.keepsActivations && gradients.count == adapter.parameterCount)
        try validate(batch, targets: targets, adapter: adapter)
        return weights.withBase(ws.tile) { base in
            adapter.parameters.withUnsafeBufferPointer { lora in
                gradients.withUnsafeMutableBufferPointer { grads in
                    let adapters = layerAdapters(adapter, lora.baseAddress!, grads.baseAddress!, ws, base, dropoutKey: dropoutKey)
                    let tokenRows = adapter.tokens.map { (rows: $0, parameters: lora.baseAddress!) }
                    return batch.withPointers { tokens, positions, source in
                        forwardLayers(tokens, positions: positions, n: n, base, ws: ws, attention: { _ in source },
                                      adapters: { adapters[$0] }, tokenRows: tokenRows)
                        let loss = lossAndHiddenGradient(targets, base, lossScale, ws, chunkRows: lmHeadChunkRows(lmHeadChunk),
                                                         tokenRows: tokenRows, grads: grads.baseAddress!)
                        let long = usesLongRope(positions, n: n)
                        for (l, layer) in layers.enumerated().reversed() {
                            if ws.recomputes {
                                // Activation recomputation: the layer's forward again from its kept input (the same
                                // ops, inputs and dropout keys, so the same values), then its backward.
                                layer.forward(ws.layers[l], base, positions: positions, n: n, long: long, attention: source,
                                              adapters: adapters[l], scratch: ws.scratch)
                            }
                            layer.backward(ws.layers[l], base, positions: positions, n: n, long: long, attention: source,
                                           adapters: adapters[l], scratch: ws.scratch, inputGradient: l > 0 || tokenRows != nil)
                        }
                        // Layer 0's input gradient reaches the trained embedding rows (PEFT's token adapter).
                        tokenRows?.rows.embeddingBackward(grads.baseAddress!, ws.scratch.dHidden, tokens, n: n,
                                                          scale: config.embeddingScale ?? 1)
                        return loss
                    }
                }
            }
        }
    }

    /// The summed cross-entropy of the rows whose `targets` are ≥ 0 under `adapter`, forward only and with dropout
    /// off, as PEFT computes an evaluation loss after `model.eval()`: the held-out loss. The same ops as
    /// `trainingStep`'s forward and loss, so without dropout the same sum bit for bit, at a third of its work and in
    /// a workspace of one layer's activations (`DecoderWorkspace(evaluating:lora:rows:)`).
    public func evaluationLoss(_ batch: Batch, targets: [Int32], adapter: LoRAAdapter, workspace ws: DecoderWorkspace,
                               lmHeadChunk: Int = 128) throws -> StepLoss {
        let n = batch.tokens.count
        precondition(targets.count == n && ws.rows >= n && ws.loraU.count == adapter.layout.entries.count)
        try validate(batch, targets: targets, adapter: adapter)
        return weights.withBase(ws.tile) { base in
            adapter.parameters.withUnsafeBufferPointer { lora in
                let adapters = layerAdapters(adapter, lora.baseAddress!, nil, ws, base, dropoutKey: 0)
                let tokenRows = adapter.tokens.map { (rows: $0, parameters: lora.baseAddress!) }
                return batch.withPointers { tokens, positions, source in
                    forwardLayers(tokens, positions: positions, n: n, base, ws: ws, attention: { _ in source },
                                  adapters: { adapters[$0] }, tokenRows: tokenRows)
                    return loss(targets, base, ws, chunkRows: lmHeadChunkRows(lmHeadChunk), tokenRows: tokenRows)
                }
            }
        }
    }

    /// Cross-entropy over the rows that have a target, through the LM head in chunks of `chunkRows` rows, without a
    /// gradient: `lossAndHiddenGradient`'s forward half.
    private func loss(_ targets: [Int32], _ base: FrozenBase, _ ws: DecoderWorkspace, chunkRows: Int,
                      tokenRows: (rows: TokenRows, parameters: UnsafePointer<Float>)?) -> StepLoss {
        let c = config.hiddenSize
        let vocab = tokenRows?.rows.vocab ?? config.vocabSize
        let rows = targets.indices.filter { targets[$0] >= 0 }
        var gatheredTargets = [Int32](repeating: -1, count: chunkRows)    // (chunk)
        let logits = ws.lossChunk.floats(chunkRows * vocab + chunkRows * c + chunkRows)   // (chunk, V)
        let gathered = logits + chunkRows * vocab                          // (chunk, C)
        let losses = gathered + chunkRows * c                              // (chunk)
        var lossSum = 0.0
        let span = OpProfiler.begin()   // the head's product: 2·C·V per target row
        for start in stride(from: 0, to: rows.count, by: chunkRows) {
            let chunk = rows[start..<min(start + chunkRows, rows.count)]
            chunkLogits(chunk, targets, &gatheredTargets, gathered: gathered, logits: logits, base, ws, tokenRows: tokenRows)
            let m = chunk.count
            crossEntropyForward(losses, logits, gatheredTargets, n: m, v: vocab)
            for i in 0..<m { lossSum += Double(losses[i]) }
        }
        OpProfiler.end(span, .lmHead, flops: Double(2 * rows.count * c * vocab))
        return StepLoss(lossSum: lossSum, targetCount: rows.count)
    }

    /// Checks a pass's tokens and targets against the adapter's vocabulary, and its DoRA magnitudes.
    private func validate(_ batch: Batch, targets: [Int32], adapter: LoRAAdapter) throws {
        let vocab = adapter.tokens?.vocab ?? config.vocabSize
        try validate(batch.tokens, vocab: vocab)
        try validate(targets.filter { $0 >= 0 }, vocab: vocab)
        try validateMagnitudes(adapter)
    }

    /// The logits (m, V) of `chunk`'s rows of the final hidden state: gathers the rows into `gathered (m, C)` and
    /// their targets into `gatheredTargets`, then runs the LM head (with the adapter's new-token rows, if any).
    private func chunkLogits(_ chunk: ArraySlice<Int>, _ targets: [Int32], _ gatheredTargets: inout [Int32],
                             gathered: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>,
                             _ base: FrozenBase, _ ws: DecoderWorkspace,
                             tokenRows: (rows: TokenRows, parameters: UnsafePointer<Float>)?) {
        let c = config.hiddenSize
        for (i, row) in chunk.enumerated() {
            (gathered + i * c).update(from: ws.finalNormed + row * c, count: c)
            gatheredTargets[i] = targets[row]
        }
        if let tokenRows {
            headWithTokenRows(gathered, rows: chunk.count, logits, base, tokenRows.rows, tokenRows.parameters)
        } else {
            lmHead(gathered, rows: chunk.count, logits, base)
        }
    }

    /// Rows per LM-head chunk: a quantised head is dequantised twice per chunk, so it takes chunks of at least
    /// `quantizedLMHeadChunk` rows (fewer passes over the (V, C) head for a larger (chunk, V) logits buffer).
    func lmHeadChunkRows(_ requested: Int) -> Int {
        if case .quantized = weights.matrix(at: weights.layout.lmHead) { return max(requested, Self.quantizedLMHeadChunk) }
        return requested
    }

    /// LM-head chunk rows over a quantised head.
    public static let quantizedLMHeadChunk = 512

    /// Each layer's adapters by projection: views of A and B, the saved u of the workspace, and where their
    /// gradients go. A fused adapter (Phi-3's qkv_proj) gives each part (q, k, v) the shared A, its own rows of B
    /// and the same dropout mask and u: the parts' dA sum into the one A gradient, their dB fill disjoint rows.
    /// A DoRA entry's row norms ‖W + s·B·A‖ are computed here for its parts' rows of m, unless the workspace holds
    /// the norms of the same A, B and scale over the same base (`DecoderWorkspace.holdsDoRANorms`): the micro-batches of one
    /// step, and the batches of one held-out pass, share them.
    /// Without `grads` (a forward-only pass) nothing says where gradients go, and dropout is off (PEFT's `eval()`).
    private func layerAdapters(_ adapter: LoRAAdapter, _ parameters: UnsafePointer<Float>, _ grads: UnsafeMutablePointer<Float>?,
                               _ ws: DecoderWorkspace, _ base: FrozenBase, dropoutKey: UInt64) -> [LayerAdapters] {
        let normsAreCurrent = ws.holdsDoRANorms(of: adapter.layout, parameters, scale: adapter.config.scale, base: base.w,
                                                  baseIdentity: weights.identity)
        var doraIndex = 0
        var result = Array(repeating: LayerAdapters.none, count: config.layerCount)
        let rank = adapter.config.rank
        for (index, entry) in adapter.layout.entries.enumerated() {
            let key = CounterRandom.key(dropoutKey, UInt64(entry.layer), UInt64(entry.module.slot))
            for part in entry.parts {
                let b = entry.b + part.firstRow * rank
                let view = LoRAView(a: parameters + entry.a, b: parameters + b, rank: rank, scale: adapter.config.scale,
                                    dropout: grads == nil ? 0 : Float(adapter.config.dropout), dropoutKey: key)
                var projection = AdaptedProjection(view: view, u: ws.loraU[index], dA: grads.map { $0 + entry.a },
                                                   dB: grads.map { $0 + b })
                if let m = entry.magnitude {
                    let buffers = ws.dora[doraIndex]
                    let (norm, rowScale) = (buffers.norm + part.firstRow, buffers.rowScale + part.firstRow)
                    if !normsAreCurrent {
                        doraRowNorms(norm, weight: base.matrix(weights.layout.layers[entry.layer].offset(of: part.module)),
                                     b: view.b, a: view.a, rank: rank, scale: view.scale, out: part.rows, in: entry.inFeatures)
                    }
                    for j in 0..<part.rows { rowScale[j] = parameters[m + part.firstRow + j] / norm[j] }
                    projection.dora = DoRAView(magnitude: parameters + m + part.firstRow, norm: norm, rowScale: rowScale,
                                               z: buffers.z + part.firstRow * ws.rows, dMagnitude: grads.map { $0 + m + part.firstRow })
                }
                result[entry.layer][part.module] = projection
            }
            if entry.magnitude != nil { doraIndex += 1 }
        }
        return result
    }

    /// Cross-entropy over the rows that have a target, through the LM head in chunks of `chunkRows` rows:
    /// the (rows, V) logits of one chunk exist at a time and rows without a target cost nothing.
    /// Leaves d(loss)/d(hidden before the final norm) in `ws.scratch.dHidden`.
    private func lossAndHiddenGradient(_ targets: [Int32], _ base: FrozenBase, _ lossScale: Float,
                                       _ ws: DecoderWorkspace, chunkRows: Int,
                                       tokenRows: (rows: TokenRows, parameters: UnsafePointer<Float>)?,
                                       grads: UnsafeMutablePointer<Float>) -> StepLoss {
        let (c, n) = (config.hiddenSize, targets.count)
        let vocab = tokenRows?.rows.vocab ?? config.vocabSize
        let s = ws.scratch
        let rows = targets.indices.filter { targets[$0] >= 0 }
        var gatheredTargets = [Int32](repeating: -1, count: chunkRows)    // (chunk)
        let cap = config.finalLogitSoftcap.map { Float($0) }
        // One allocation kept by the workspace, carved into the chunk's buffers (the logits first, at its aligned start).
        let logitsCount = chunkRows * vocab, cappedCount = cap == nil ? 0 : logitsCount
        let logits = ws.lossChunk.floats(logitsCount + cappedCount + 2 * chunkRows * c + chunkRows)   // (chunk, V)
        let capped = logits + logitsCount                                  // (chunk, V) soft-capped logits, with a cap
        let gathered = capped + cappedCount                                // (chunk, C)
        let dGathered = gathered + chunkRows * c                           // (chunk, C)
        let losses = dGathered + chunkRows * c                             // (chunk)
        s.dNormed.update(repeating: 0, count: n * c)
        var lossSum = 0.0
        let head = base.matrix(weights.layout.lmHead)
        let span = OpProfiler.begin()   // the head's product and its input gradient: 4·C·V per target row
        for start in stride(from: 0, to: rows.count, by: chunkRows) {
            let chunk = rows[start..<min(start + chunkRows, rows.count)]
            chunkLogits(chunk, targets, &gatheredTargets, gathered: gathered, logits: logits, base, ws, tokenRows: tokenRows)
            let m = chunk.count
            if cap != nil { capped.update(from: logits, count: m * vocab) }
            crossEntropyForwardBackward(losses, logits, logits, gatheredTargets, dLoss: lossScale, n: m, v: vocab)
            if let cap { softcapBackward(logits, capped, cap: cap, count: m * vocab) }
            for i in 0..<m { lossSum += Double(losses[i]) }
            dGathered.update(repeating: 0, count: m * c)
            if let tokenRows {
                let table = tokenRows.rows
                table.headBackward(dGathered, grads, logits, gathered, rows: m, tokenRows.parameters)
                if table.firstRow > 0 {
                    // The base head's columns, packed (m, V), for its input gradient.
                    narrowRows(logits, rows: m, from: vocab, to: table.firstRow)
                    head.inputGradient(dGathered, logits, rows: m, out: table.firstRow, in: c, accumulate: true)
                }
            } else {
                head.inputGradient(dGathered, logits, rows: m, out: vocab, in: c, accumulate: true)
            }
            for (i, row) in chunk.enumerated() {
                (s.dNormed + row * c).update(from: dGathered + i * c, count: c)
            }
        }
        OpProfiler.end(span, .lmHead, flops: Double(4 * rows.count * c * vocab))
        s.dHidden.update(repeating: 0, count: n * c)
        rmsNormBackward(s.dHidden, nil, s.dNormed, ws.finalInput, base.w + weights.layout.finalNorm, ws.finalRstd, n: n, c: c)
        return StepLoss(lossSum: lossSum, targetCount: rows.count)
    }
}

extension DecoderModel {
    /// Logits (rows, V') over the vocabulary with the new tokens: the base head's columns below `firstRow`, the
    /// trained rows' columns after, soft-capped where the architecture caps them.
    func headWithTokenRows(_ hidden: UnsafePointer<Float>, rows: Int, _ logits: UnsafeMutablePointer<Float>, _ base: FrozenBase,
                           _ tokens: TokenRows, _ parameters: UnsafePointer<Float>) {
        if tokens.firstRow > 0 {
            base.matrix(weights.layout.lmHead).forward(logits, hidden, bias: nil, rows: rows, out: tokens.firstRow,
                                                       in: config.hiddenSize)
            widenRows(logits, rows: rows, from: tokens.firstRow, to: tokens.vocab)
        }
        tokens.headForward(logits, hidden, rows: rows, parameters)
        if let cap = config.finalLogitSoftcap { softcapForward(logits, cap: Float(cap), count: rows * tokens.vocab) }
    }
}

extension LoRAConfig.Module {
    /// Position among `allCases`: the module's part of a dropout key and its slot in `LayerAdapters`.
    var slot: Int { Self.allCases.firstIndex(of: self)! }
}
