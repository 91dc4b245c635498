import LatheSupport
import LatheTensors

/// What one training forward/backward returns: the summed loss over its target tokens and how many there were.
public struct StepLoss: Sendable {
    public var lossSum: Double
    public var targetCount: Int
}

extension LlamaModel {
    /// Forward and backward of one micro-batch with the base frozen: accumulates (+=) LoRA gradients into
    /// `gradients` (laid out as `adapter.layout`) and returns the summed cross-entropy of the rows whose
    /// `targets` are ≥ 0. Each gradient is scaled by `lossScale` (1 / target tokens of the accumulated batch,
    /// so the loss is averaged over the whole accumulated batch). `dropoutKey` seeds this step's dropout masks.
    public func trainingStep(_ batch: Batch, targets: [Int32], adapter: LoRAAdapter, gradients: inout [Float],
                             lossScale: Float, dropoutKey: UInt64, workspace ws: TrainingWorkspace,
                             lmHeadChunk: Int = 128) throws -> StepLoss {
        let n = batch.tokens.count
        precondition(targets.count == n && ws.rows >= n && gradients.count == adapter.layout.totalCount)
        try validate(batch.tokens)
        try validate(targets.filter { $0 >= 0 })
        return weights.withWeights { w in
            adapter.parameters.withUnsafeBufferPointer { lora in
                gradients.withUnsafeMutableBufferPointer { grads in
                    let views = loraViews(adapter, lora.baseAddress!, dropoutKey: dropoutKey)
                    forwardForTraining(batch, w, views, ws)
                    let loss = lossAndHiddenGradient(targets, w, lossScale, ws, chunkRows: lmHeadChunk)
                    backwardForTraining(batch, w, views, adapter.layout, grads.baseAddress!, ws)
                    return loss
                }
            }
        }
    }

    /// The adapter views by [layer][module]; nil where a projection is not adapted.
    private func loraViews(_ adapter: LoRAAdapter, _ parameters: UnsafePointer<Float>,
                           dropoutKey: UInt64) -> [[LoRAConfig.Module: (view: LoRAView, index: Int)]] {
        var views = Array(repeating: [LoRAConfig.Module: (view: LoRAView, index: Int)](), count: config.layerCount)
        for (index, entry) in adapter.layout.entries.enumerated() {
            let key = CounterRandom.key(dropoutKey, UInt64(entry.layer),
                                        UInt64(LoRAConfig.Module.allCases.firstIndex(of: entry.module)!))
            let view = LoRAView(a: parameters + entry.a, b: parameters + entry.b, rank: adapter.config.rank,
                                scale: adapter.config.scale, dropout: Float(adapter.config.dropout), dropoutKey: key)
            views[entry.layer][entry.module] = (view, index)
        }
        return views
    }

    private func forwardForTraining(_ batch: Batch, _ w: UnsafePointer<Float>,
                                    _ views: [[LoRAConfig.Module: (view: LoRAView, index: Int)]], _ ws: TrainingWorkspace) {
        let (c, f, n) = (config.hiddenSize, config.intermediateSize, batch.tokens.count)
        let (h, kvh, d) = (config.headCount, config.keyValueHeadCount, config.headDim)
        let eps = Float(config.rmsNormEps)
        let layout = weights.layout
        batch.tokens.withUnsafeBufferPointer { embeddingForward(ws.layers[0].input, $0.baseAddress!, w + layout.embedding, n: n, c: c) }
        for (l, layer) in layout.layers.enumerated() {
            let s = ws.layers[l]
            func project(_ module: LoRAConfig.Module, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                         _ weight: Int, _ bias: Int?, out: Int, in inFeatures: Int) {
                let adapter = views[l][module]
                adaptedLinearForward(y, x, weight: w + weight, bias: bias.map { w + $0 }, lora: adapter?.view,
                                     u: adapter.map { ws.loraU[$0.index] }, scratch: ws.dropScratch,
                                     rows: n, out: out, in: inFeatures)
            }
            rmsNormForward(s.normed1, s.rstd1, s.input, w + layer.inputNorm, n: n, c: c, eps: eps)
            project(.q, s.q, s.normed1, layer.q, layer.qBias, out: h * d, in: c)
            project(.k, s.k, s.normed1, layer.k, layer.kBias, out: kvh * d, in: c)
            project(.v, s.v, s.normed1, layer.v, layer.vBias, out: kvh * d, in: c)
            batch.positions.withUnsafeBufferPointer { positions in
                ropeForward(s.q, positions.baseAddress!, rope, n: n, heads: h)
                ropeForward(s.k, positions.baseAddress!, rope, n: n, heads: kvh)
            }
            withOptionalPointer(batch.segments) { segments in
                attentionForward(s.attention, s.lse, s.q, s.k, s.v, segments: segments, batch: batch.batch,
                                 tokens: batch.length, heads: h, kvHeads: kvh, headDim: d)
            }
            project(.o, ws.projected, s.attention, layer.o, nil, out: c, in: h * d)
            residualForward(s.middle, s.input, ws.projected, count: n * c)
            rmsNormForward(s.normed2, s.rstd2, s.middle, w + layer.postNorm, n: n, c: c, eps: eps)
            project(.gate, s.gate, s.normed2, layer.gate, nil, out: f, in: c)
            project(.up, s.up, s.normed2, layer.up, nil, out: f, in: c)
            swigluForward(s.activated, s.gate, s.up, count: n * f)
            project(.down, ws.projected, s.activated, layer.down, nil, out: c, in: f)
            let next = l + 1 < config.layerCount ? ws.layers[l + 1].input : ws.finalInput
            residualForward(next, s.middle, ws.projected, count: n * c)
        }
        rmsNormForward(ws.finalNormed, ws.finalRstd, ws.finalInput, w + layout.finalNorm, n: n, c: c, eps: eps)
    }

    /// Cross-entropy over the rows that have a target, through the LM head in chunks of `chunkRows` rows:
    /// the (rows, V) logits of one chunk exist at a time and rows without a target cost nothing.
    /// Leaves d(loss)/d(hidden before the final norm) in `ws.dHidden`.
    private func lossAndHiddenGradient(_ targets: [Int32], _ w: UnsafePointer<Float>, _ lossScale: Float,
                                       _ ws: TrainingWorkspace, chunkRows: Int) -> StepLoss {
        let (c, vocab, n) = (config.hiddenSize, config.vocabSize, targets.count)
        let rows = targets.indices.filter { targets[$0] >= 0 }
        var gathered = [Float](repeating: 0, count: chunkRows * c)        // (chunk, C)
        var gatheredTargets = [Int32](repeating: -1, count: chunkRows)    // (chunk)
        var logits = [Float](repeating: 0, count: chunkRows * vocab)      // (chunk, V)
        var losses = [Float](repeating: 0, count: chunkRows)              // (chunk)
        var dGathered = [Float](repeating: 0, count: chunkRows * c)       // (chunk, C)
        ws.dNormed.update(repeating: 0, count: n * c)
        var lossSum = 0.0
        let head = w + weights.layout.lmHead
        for start in stride(from: 0, to: rows.count, by: chunkRows) {
            let chunk = Array(rows[start..<min(start + chunkRows, rows.count)])
            for (i, row) in chunk.enumerated() {
                gathered.withUnsafeMutableBufferPointer { ($0.baseAddress! + i * c).update(from: ws.finalNormed + row * c, count: c) }
                gatheredTargets[i] = targets[row]
            }
            let m = chunk.count
            matmul(gathered, .none, head, .transposed, &logits, m: m, n: vocab, k: c)
            crossEntropyForward(&losses, logits, gatheredTargets, n: m, v: vocab)
            for i in 0..<m { lossSum += Double(losses[i]) }
            logits.withUnsafeMutableBufferPointer { lp in
                crossEntropyBackward(lp.baseAddress!, lp.baseAddress!, gatheredTargets, dLoss: lossScale, n: m, v: vocab)
            }
            matmul(logits, .none, head, .none, &dGathered, m: m, n: c, k: vocab)
            for (i, row) in chunk.enumerated() {
                dGathered.withUnsafeBufferPointer { (ws.dNormed + row * c).update(from: $0.baseAddress! + i * c, count: c) }
            }
        }
        ws.dHidden.update(repeating: 0, count: n * c)
        rmsNormBackward(ws.dHidden, nil, ws.dNormed, ws.finalInput, w + weights.layout.finalNorm, ws.finalRstd, n: n, c: c)
        return StepLoss(lossSum: lossSum, targetCount: rows.count)
    }

    /// The forward's op list reversed. `ws.dHidden` carries d(loss)/d(residual stream) down through the layers.
    private func backwardForTraining(_ batch: Batch, _ w: UnsafePointer<Float>,
                                     _ views: [[LoRAConfig.Module: (view: LoRAView, index: Int)]],
                                     _ layout: LoRALayout, _ grads: UnsafeMutablePointer<Float>, _ ws: TrainingWorkspace) {
        let (c, f, n) = (config.hiddenSize, config.intermediateSize, batch.tokens.count)
        let (h, kvh, d) = (config.headCount, config.keyValueHeadCount, config.headDim)
        for (l, layer) in weights.layout.layers.enumerated().reversed() {
            let s = ws.layers[l]
            func projectBack(_ module: LoRAConfig.Module, dx: UnsafeMutablePointer<Float>?, _ dY: UnsafePointer<Float>,
                             _ x: UnsafePointer<Float>, _ weight: Int, out: Int, in inFeatures: Int) {
                let adapter = views[l][module]
                let entry = adapter.map { layout.entries[$0.index] }
                adaptedLinearBackward(dx: dx, dA: entry.map { grads + $0.a }, dB: entry.map { grads + $0.b }, dY, x,
                                      weight: w + weight, lora: adapter?.view, u: adapter.map { UnsafePointer(ws.loraU[$0.index]) },
                                      du: ws.du, scratch: ws.dropScratch, rows: n, out: out, in: inFeatures)
            }
            // MLP: out = middle + down(swiglu(gate(normed2), up(normed2)))
            ws.dActivated.update(repeating: 0, count: n * f)
            projectBack(.down, dx: ws.dActivated, ws.dHidden, s.activated, layer.down, out: c, in: f)
            ws.dGate.update(repeating: 0, count: n * f)
            ws.dUp.update(repeating: 0, count: n * f)
            swigluBackward(ws.dGate, ws.dUp, ws.dActivated, s.gate, s.up, count: n * f)
            ws.dNormed.update(repeating: 0, count: n * c)
            projectBack(.gate, dx: ws.dNormed, ws.dGate, s.normed2, layer.gate, out: f, in: c)
            projectBack(.up, dx: ws.dNormed, ws.dUp, s.normed2, layer.up, out: f, in: c)
            rmsNormBackward(ws.dHidden, nil, ws.dNormed, s.middle, w + layer.postNorm, s.rstd2, n: n, c: c)
            // Attention: middle = input + o(attention(rope(q), rope(k), v))
            ws.dAttention.update(repeating: 0, count: n * h * d)
            projectBack(.o, dx: ws.dAttention, ws.dHidden, s.attention, layer.o, out: c, in: h * d)
            ws.dq.update(repeating: 0, count: n * h * d)
            ws.dk.update(repeating: 0, count: n * kvh * d)
            ws.dv.update(repeating: 0, count: n * kvh * d)
            withOptionalPointer(batch.segments) { segments in
                attentionBackward(ws.dq, ws.dk, ws.dv, ws.dAttention, s.q, s.k, s.v, s.attention, s.lse,
                                  segments: segments, batch: batch.batch, tokens: batch.length,
                                  heads: h, kvHeads: kvh, headDim: d)
            }
            batch.positions.withUnsafeBufferPointer { positions in
                ropeBackward(ws.dq, positions.baseAddress!, rope, n: n, heads: h)
                ropeBackward(ws.dk, positions.baseAddress!, rope, n: n, heads: kvh)
            }
            // Below layer 0 lies only the frozen embedding: its input gradient is never needed.
            let dNormed1 = l > 0 ? ws.dNormed : nil
            dNormed1?.update(repeating: 0, count: n * c)
            projectBack(.q, dx: dNormed1, ws.dq, s.normed1, layer.q, out: h * d, in: c)
            projectBack(.k, dx: dNormed1, ws.dk, s.normed1, layer.k, out: kvh * d, in: c)
            projectBack(.v, dx: dNormed1, ws.dv, s.normed1, layer.v, out: kvh * d, in: c)
            if let dNormed1 {
                rmsNormBackward(ws.dHidden, nil, dNormed1, s.input, w + layer.inputNorm, s.rstd1, n: n, c: c)
            }
        }
    }
}
