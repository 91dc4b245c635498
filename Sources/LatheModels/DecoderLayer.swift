import LatheTensors

/// Where a layer's attention finds its keys and values: the three ways the one decoder layer runs.
enum AttentionSource {
    /// B sequences of T rows attending within themselves (causal, and within a packed segment). Writes the
    /// log-sum-exp `lse (B, H, T)` that the backward reads. The training forward and the batch forward.
    case batch(segments: UnsafePointer<Int32>?, batch: Int, length: Int)
    /// The rows continue the sequence whose keys and values fill cache rows 0..<start: theirs are appended at
    /// `start`, then each row attends to the cache up to itself. The KV-cache step of generation.
    case cache(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, start: Int)   // (capacity, KVH·D)
    /// Suffix rows after a cached prefix of `prefix` rows: row i attends to the prefix and to its own suffix
    /// (rows rowStart[i]...i), never to another suffix. Prefix scoring.
    case prefix(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, prefix: Int, rowStart: UnsafePointer<Int>)
    /// Row i is the next token of its own sequence: its key and value go to `keys[i]`/`values[i]` (capacity,
    /// KVH·D) at row `starts[i]`, and it attends to that cache up to itself. The batched decode of `lathe serve`.
    case sequences(keys: UnsafePointer<UnsafeMutablePointer<Float>>, values: UnsafePointer<UnsafeMutablePointer<Float>>,
                   starts: UnsafePointer<Int>)
}

/// The buffers one layer's forward writes and its backward reads. Rows are the N = B·T tokens.
/// Inference reuses one set for every layer (`output` aliases `input`); training keeps one set per layer.
struct LayerActivations {
    let input: UnsafeMutablePointer<Float>      // (N, C)  residual stream entering the layer
    let normed1: UnsafeMutablePointer<Float>    // (N, C)
    let rstd1: UnsafeMutablePointer<Float>      // (N)
    let q: UnsafeMutablePointer<Float>          // (N, H·D)   after q-norm and RoPE
    let k: UnsafeMutablePointer<Float>          // (N, KVH·D) after k-norm and RoPE
    let v: UnsafeMutablePointer<Float>          // (N, KVH·D)
    /// q/k norm (Qwen3): the projections before their per-head RMSNorm, and its rstd; nil without it.
    let qRaw: UnsafeMutablePointer<Float>?      // (N, H·D)
    let kRaw: UnsafeMutablePointer<Float>?      // (N, KVH·D)
    let qRstd: UnsafeMutablePointer<Float>?     // (N·H)
    let kRstd: UnsafeMutablePointer<Float>?     // (N·KVH)
    let attention: UnsafeMutablePointer<Float>  // (N, H·D)
    let lse: UnsafeMutablePointer<Float>        // (B, H, T)
    /// Sandwich norms (Gemma): the attention and MLP outputs before their norm, and its rstd; nil without them.
    let attentionOut: UnsafeMutablePointer<Float>?  // (N, C)
    let attentionOutRstd: UnsafeMutablePointer<Float>?  // (N)
    let mlpOut: UnsafeMutablePointer<Float>?    // (N, C)
    let mlpOutRstd: UnsafeMutablePointer<Float>?    // (N)
    let middle: UnsafeMutablePointer<Float>     // (N, C)  residual after attention
    let normed2: UnsafeMutablePointer<Float>    // (N, C)
    let rstd2: UnsafeMutablePointer<Float>      // (N)
    let gate: UnsafeMutablePointer<Float>       // (N, F)
    let up: UnsafeMutablePointer<Float>         // (N, F)
    /// act(gate, up): one buffer shared by every layer of a training workspace, recomputed in the backward.
    let activated: UnsafeMutablePointer<Float>  // (N, F)
    let output: UnsafeMutablePointer<Float>     // (N, C)  residual stream leaving the layer
}

extension LayerActivations {
    /// The same buffers reading `input` and writing `output`: the one set of activations recomputation shares.
    func rebased(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) -> LayerActivations {
        LayerActivations(input: input, normed1: normed1, rstd1: rstd1, q: q, k: k, v: v, qRaw: qRaw, kRaw: kRaw,
                         qRstd: qRstd, kRstd: kRstd, attention: attention, lse: lse, attentionOut: attentionOut,
                         attentionOutRstd: attentionOutRstd, mlpOut: mlpOut, mlpOutRstd: mlpOutRstd, middle: middle,
                         normed2: normed2, rstd2: rstd2, gate: gate, up: up, activated: activated, output: output)
    }
}

/// Work buffers shared by every layer's forward and backward.
struct LayerScratch {
    let projected: UnsafeMutablePointer<Float>      // (N, C)
    let dropScratch: UnsafeMutablePointer<Float>    // (N, max(C, F, H·D)) dropout input of an adapter
    // Backward only (nil-sized in inference workspaces).
    let du: UnsafeMutablePointer<Float>             // (N, r)
    let dHidden: UnsafeMutablePointer<Float>        // (N, C)  gradient of the residual stream
    let dNormed: UnsafeMutablePointer<Float>        // (N, C)
    let dq: UnsafeMutablePointer<Float>             // (N, H·D)
    let dk: UnsafeMutablePointer<Float>             // (N, KVH·D)
    let dv: UnsafeMutablePointer<Float>             // (N, KVH·D)
    let dqRaw: UnsafeMutablePointer<Float>          // (N, H·D)   q/k norm only
    let dkRaw: UnsafeMutablePointer<Float>          // (N, KVH·D)
    let dAttention: UnsafeMutablePointer<Float>     // (N, H·D)
    let dBranch: UnsafeMutablePointer<Float>        // (N, C)   sandwich norms only: gradient of a branch's output
    let dGate: UnsafeMutablePointer<Float>          // (N, F)
    let dUp: UnsafeMutablePointer<Float>            // (N, F)
    let dActivated: UnsafeMutablePointer<Float>     // (N, F)
    let doraGradient: UnsafeMutablePointer<Float>   // (N, max(C, F, H·D))  DoRA only: the row-scaled dY
}

/// One LoRA adapter during a step: its matrices, its saved `u` and, for the backward, its gradients; with DoRA,
/// its magnitude and buffers.
struct AdaptedProjection {
    let view: LoRAView
    let u: UnsafeMutablePointer<Float>      // (N, r)
    let dA: UnsafeMutablePointer<Float>?    // (r, in); nil in a forward-only pass
    let dB: UnsafeMutablePointer<Float>?    // (out, r); nil in a forward-only pass
    var dora: DoRAView? = nil
}

/// The adapters of one layer by projection (q, k, v, …: a fused adapter appears under each of its parts); empty
/// for inference, where every projection is the frozen weight.
struct LayerAdapters {
    private var byModule: [AdaptedProjection?] = []

    static var none: LayerAdapters { LayerAdapters() }

    subscript(module: LoRAConfig.Module) -> AdaptedProjection? {
        get { byModule.isEmpty ? nil : byModule[module.slot] }
        set {
            if byModule.isEmpty { byModule = Array(repeating: nil, count: LoRAConfig.Module.allCases.count) }
            byModule[module.slot] = newValue
        }
    }
}

/// One decoder layer of every architecture Lathe runs — HF `LlamaDecoderLayer` and its relatives (Mistral's
/// window, Qwen2's q/k/v bias, Qwen3's q/k norm, Gemma 3's sandwich norms, GeGLU and local RoPE) as
/// configuration, never as a copy. `forward` is the layer's op
/// list, used by the batch forward, the KV-cache step, prefix scoring and training; `backward` is that list
/// reversed, for training.
struct DecoderLayer {
    let config: ModelConfig
    let weights: WeightLayout.Layer
    let rope: RopeFrequencies
    /// LongRoPE's long-context frequencies (Phi-3), used when a pass reaches beyond the original context.
    let longRope: RopeFrequencies?
    /// nil: full causal attention; otherwise keys older than this many positions are invisible.
    let window: Int?

    /// Softmax scale of the scores; nil means 1/√D.
    let scale: Float?

    /// Layer `layer` of a model; sliding-window layers use `localRope` when the architecture has one (Gemma 3).
    init(config: ModelConfig, layer: Int, weights: WeightLayout, rope: RopeFrequencies, localRope: RopeFrequencies?,
         longRope: RopeFrequencies?) {
        self.config = config
        self.weights = weights.layers[layer]
        self.window = config.attentionWindow(layer: layer)
        self.rope = window != nil ? localRope ?? rope : rope
        self.longRope = longRope
        self.scale = config.attentionScale
    }

    /// input → norm → q, k, v (→ q/k norm) → RoPE → attention → o (→ norm) → + input = middle
    ///       → norm → gate, up → SwiGLU or GeGLU → down (→ norm) → + middle = output.
    func forward(_ a: LayerActivations, _ base: FrozenBase, positions: UnsafePointer<Int32>, n: Int, long: Bool,
                 attention source: AttentionSource, adapters: LayerAdapters, scratch: LayerScratch) {
        let w = base.w
        let rope = long ? longRope ?? self.rope : self.rope
        let (c, f, h, kvh, d) = (config.hiddenSize, config.intermediateSize, config.headCount, config.keyValueHeadCount, config.headDim)
        let (eps, L) = (Float(config.rmsNormEps), weights)
        func project(_ module: LoRAConfig.Module, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                     _ weight: Int, _ bias: Int?, out: Int, in inFeatures: Int) {
            let adapter = adapters[module]
            if let adapter, let dora = adapter.dora {
                doraLinearForward(y, x, weight: base.matrix(weight), bias: bias.map { w + $0 }, lora: adapter.view, dora: dora,
                                  u: adapter.u, scratch: scratch.dropScratch, rows: n, out: out, in: inFeatures)
                return
            }
            adaptedLinearForward(y, x, weight: base.matrix(weight), bias: bias.map { w + $0 }, lora: adapter?.view, u: adapter?.u,
                                 scratch: scratch.dropScratch, rows: n, out: out, in: inFeatures)
        }
        /// Projections of the same input without adapters in a decode step go through one parallel section.
        func projectTogether(_ parts: [(LoRAConfig.Module, UnsafeMutablePointer<Float>, Int, Int?, Int)], _ x: UnsafePointer<Float>) {
            let products = parts.map { BoundMatrix.DecodeProduct(matrix: base.matrix($0.2), y: $0.1, bias: $0.3.map { w + $0 }, out: $0.4) }
            guard parts.allSatisfy({ adapters[$0.0] == nil }) && products.allSatisfy({ n <= $0.matrix.decodeRowLimit }) else {
                for (module, y, weight, bias, out) in parts { project(module, y, x, weight, bias, out: out, in: c) }
                return
            }
            BoundMatrix.decode(products, x, rows: n, in: c)
        }
        rmsNormForward(a.normed1, a.rstd1, a.input, w + L.inputNorm, n: n, c: c, eps: eps)
        projectTogether([(.q, a.qRaw ?? a.q, L.q, L.qBias, h * d), (.k, a.kRaw ?? a.k, L.k, L.kBias, kvh * d),
                         (.v, a.v, L.v, L.vBias, kvh * d)], a.normed1)
        if let qNorm = L.qNorm, let kNorm = L.kNorm {
            rmsNormForward(a.q, a.qRstd!, a.qRaw!, w + qNorm, n: n * h, c: d, eps: eps)
            rmsNormForward(a.k, a.kRstd!, a.kRaw!, w + kNorm, n: n * kvh, c: d, eps: eps)
        }
        ropeForward(a.q, positions, rope, n: n, heads: h)
        ropeForward(a.k, positions, rope, n: n, heads: kvh)
        attend(a, source, n: n)
        project(.o, a.attentionOut ?? scratch.projected, a.attention, L.o, nil, out: c, in: h * d)
        if let norm = L.attentionOutNorm {
            rmsNormForward(scratch.projected, a.attentionOutRstd!, a.attentionOut!, w + norm, n: n, c: c, eps: eps)
        }
        residualForward(a.middle, a.input, scratch.projected, count: n * c)
        rmsNormForward(a.normed2, a.rstd2, a.middle, w + L.postNorm, n: n, c: c, eps: eps)
        projectTogether([(.gate, a.gate, L.gate, nil, f), (.up, a.up, L.up, nil, f)], a.normed2)
        switch config.activation {
        case .silu: swigluForward(a.activated, a.gate, a.up, count: n * f)
        case .geluTanh: gegluForward(a.activated, a.gate, a.up, count: n * f)
        }
        project(.down, a.mlpOut ?? scratch.projected, a.activated, L.down, nil, out: c, in: f)
        if let norm = L.mlpOutNorm {
            rmsNormForward(scratch.projected, a.mlpOutRstd!, a.mlpOut!, w + norm, n: n, c: c, eps: eps)
        }
        residualForward(a.output, a.middle, scratch.projected, count: n * c)
    }

    /// The forward reversed. `scratch.dHidden` holds d(loss)/d(output) on entry and d(loss)/d(input) on return
    /// (when `inputGradient`; below layer 0 lies only the frozen embedding, whose input gradient is never needed).
    /// LoRA gradients accumulate (+=) into the adapters' `dA`, `dB`.
    func backward(_ a: LayerActivations, _ base: FrozenBase, positions: UnsafePointer<Int32>, n: Int, long: Bool,
                  attention source: AttentionSource, adapters: LayerAdapters, scratch s: LayerScratch, inputGradient: Bool) {
        let w = base.w
        let rope = long ? longRope ?? self.rope : self.rope
        let (c, f, h, kvh, d) = (config.hiddenSize, config.intermediateSize, config.headCount, config.keyValueHeadCount, config.headDim)
        let L = weights
        /// `accumulate`: false for the first projection back into `dx`, which writes it (no zeroing pass).
        func projectBack(_ module: LoRAConfig.Module, dx: UnsafeMutablePointer<Float>?, accumulate: Bool, _ dY: UnsafePointer<Float>,
                         _ x: UnsafePointer<Float>, _ weight: Int, out: Int, in inFeatures: Int) {
            let adapter = adapters[module]
            if let adapter, let dora = adapter.dora {
                doraLinearBackward(dx: dx, accumulate: accumulate, dA: adapter.dA, dB: adapter.dB, dY, x,
                                   weight: base.matrix(weight), lora: adapter.view, dora: dora, u: adapter.u, du: s.du,
                                   gradientScratch: s.doraGradient, scratch: s.dropScratch, rows: n, out: out, in: inFeatures)
                return
            }
            adaptedLinearBackward(dx: dx, accumulate: accumulate, dA: adapter?.dA, dB: adapter?.dB, dY, x,
                                  weight: base.matrix(weight), lora: adapter?.view, u: adapter.map { UnsafePointer($0.u) },
                                  du: s.du, scratch: s.dropScratch, rows: n, out: out, in: inFeatures)
        }
        // output = middle + [norm](down(act(gate(normed2), up(normed2))))
        let dMLPOut = branchGradient(L.mlpOutNorm, a.mlpOut, a.mlpOutRstd, w, s, n: n)
        // act(gate, up) again: the layers share one buffer for it, and the same op on the same inputs gives the
        // forward's bits, which the down projection's LoRA gradient reads.
        switch config.activation {
        case .silu: swigluForward(a.activated, a.gate, a.up, count: n * f)
        case .geluTanh: gegluForward(a.activated, a.gate, a.up, count: n * f)
        }
        projectBack(.down, dx: s.dActivated, accumulate: false, dMLPOut, a.activated, L.down, out: c, in: f)
        switch config.activation {   // written, not accumulated: no zeroing pass over dGate and dUp
        case .silu: swigluBackward(s.dGate, s.dUp, s.dActivated, a.gate, a.up, count: n * f, accumulate: false)
        case .geluTanh: gegluBackward(s.dGate, s.dUp, s.dActivated, a.gate, a.up, count: n * f, accumulate: false)
        }
        projectBack(.gate, dx: s.dNormed, accumulate: false, s.dGate, a.normed2, L.gate, out: f, in: c)
        projectBack(.up, dx: s.dNormed, accumulate: true, s.dUp, a.normed2, L.up, out: f, in: c)
        rmsNormBackward(s.dHidden, nil, s.dNormed, a.middle, w + L.postNorm, a.rstd2, n: n, c: c)
        // middle = input + [norm](o(attention(rope(norm(q)), rope(norm(k)), v)))
        let dAttentionOut = branchGradient(L.attentionOutNorm, a.attentionOut, a.attentionOutRstd, w, s, n: n)
        projectBack(.o, dx: s.dAttention, accumulate: false, dAttentionOut, a.attention, L.o, out: c, in: h * d)
        guard case .batch(let segments, let batch, let length) = source else {
            preconditionFailure("the backward runs only over a batch attention source")
        }
        attentionBackward(s.dq, s.dk, s.dv, s.dAttention, a.q, a.k, a.v, a.attention, a.lse, segments: segments,
                          batch: batch, tokens: length, heads: h, kvHeads: kvh, headDim: d, window: window, scale: scale)
        ropeBackward(s.dq, positions, rope, n: n, heads: h)
        ropeBackward(s.dk, positions, rope, n: n, heads: kvh)
        var (dqIn, dkIn) = (s.dq, s.dk)
        if let qNorm = L.qNorm, let kNorm = L.kNorm {
            s.dqRaw.update(repeating: 0, count: n * h * d)
            s.dkRaw.update(repeating: 0, count: n * kvh * d)
            rmsNormBackward(s.dqRaw, nil, s.dq, a.qRaw!, w + qNorm, a.qRstd!, n: n * h, c: d)
            rmsNormBackward(s.dkRaw, nil, s.dk, a.kRaw!, w + kNorm, a.kRstd!, n: n * kvh, c: d)
            (dqIn, dkIn) = (s.dqRaw, s.dkRaw)
        }
        let dNormed1 = inputGradient ? s.dNormed : nil
        projectBack(.q, dx: dNormed1, accumulate: false, dqIn, a.normed1, L.q, out: h * d, in: c)
        projectBack(.k, dx: dNormed1, accumulate: true, dkIn, a.normed1, L.k, out: kvh * d, in: c)
        projectBack(.v, dx: dNormed1, accumulate: true, s.dv, a.normed1, L.v, out: kvh * d, in: c)
        if let dNormed1 {
            rmsNormBackward(s.dHidden, nil, dNormed1, a.input, w + L.inputNorm, a.rstd1, n: n, c: c)
        }
    }

    /// The gradient reaching a branch's output (N, C) from `s.dHidden`: itself, or through the sandwich norm
    /// `norm` of the saved pre-norm output `raw` into `s.dBranch`.
    private func branchGradient(_ norm: Int?, _ raw: UnsafeMutablePointer<Float>?, _ rstd: UnsafeMutablePointer<Float>?,
                                _ w: UnsafePointer<Float>, _ s: LayerScratch, n: Int) -> UnsafeMutablePointer<Float> {
        guard let norm, let raw, let rstd else { return s.dHidden }
        let c = config.hiddenSize
        s.dBranch.update(repeating: 0, count: n * c)
        rmsNormBackward(s.dBranch, nil, s.dHidden, raw, w + norm, rstd, n: n, c: c)
        return s.dBranch
    }

    /// Attention of the roped rows from `source`: the batched kernel for fresh rows, the prefix kernel for rows
    /// that follow cached ones.
    private func attend(_ a: LayerActivations, _ source: AttentionSource, n: Int) {
        let (h, kvh, d) = (config.headCount, config.keyValueHeadCount, config.headDim)
        switch source {
        case .batch(let segments, let batch, let length):
            attentionForward(a.attention, a.lse, a.q, a.k, a.v, segments: segments, batch: batch, tokens: length,
                             heads: h, kvHeads: kvh, headDim: d, window: window, scale: scale)
        case .cache(let keys, let values, let start):
            let stride = kvh * d
            (keys + start * stride).update(from: a.k, count: n * stride)
            (values + start * stride).update(from: a.v, count: n * stride)
            if start == 0 {
                // A fresh prompt attends only to itself: the batched kernel is faster than the row loop.
                attentionForward(a.attention, a.lse, a.q, a.k, a.v, segments: nil, batch: 1, tokens: n,
                                 heads: h, kvHeads: kvh, headDim: d, window: window, scale: scale)
            } else {
                prefixAttentionForward(a.attention, a.q, keys + start * stride, values + start * stride,
                                       prefixKeys: keys, prefixValues: values, rowStart: nil, prefix: start, n: n,
                                       heads: h, kvHeads: kvh, headDim: d, window: window, scale: scale)
            }
        case .prefix(let keys, let values, let prefix, let rowStart):
            prefixAttentionForward(a.attention, a.q, a.k, a.v, prefixKeys: keys, prefixValues: values, rowStart: rowStart,
                                   prefix: prefix, n: n, heads: h, kvHeads: kvh, headDim: d, window: window, scale: scale)
        case .sequences(let keys, let values, let starts):
            let stride = kvh * d
            for i in 0..<n {
                (keys[i] + starts[i] * stride).update(from: a.k + i * stride, count: stride)
                (values[i] + starts[i] * stride).update(from: a.v + i * stride, count: stride)
            }
            sequenceAttentionForward(a.attention, a.q, keys: UnsafePointer(keys), values: UnsafePointer(values),
                                     positions: starts, n: n, heads: h, kvHeads: kvh, headDim: d, window: window, scale: scale)
        }
    }
}
