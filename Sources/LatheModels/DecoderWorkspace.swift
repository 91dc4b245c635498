#if canImport(Glibc)
import Glibc
#endif
/// Every buffer a decoder forward (and a LoRA training step's backward) uses, sized once for N = B·T rows.
/// Training keeps each layer's activations for the backward; inference reuses one set for every layer, the
/// residual stream updated in place. Buffers are raw pointers owned by the workspace, so the layer reads as a
/// flat list of op calls.
public final class DecoderWorkspace {
    public let rows: Int
    /// True when each layer has its own activations (training); false when all layers share one set.
    public let keepsActivations: Bool
    let layers: [LayerActivations]
    let finalInput: UnsafeMutablePointer<Float>     // (N, C)
    let finalNormed: UnsafeMutablePointer<Float>    // (N, C)
    let finalRstd: UnsafeMutablePointer<Float>      // (N)
    /// u = drop(x)·Aᵀ (N, r) for each adapter entry, in `LoRALayout.entries` order.
    let loraU: [UnsafeMutablePointer<Float>]
    /// DoRA's per-step row norms, row scales and saved `z` for each adapter entry (empty without DoRA).
    let dora: [(norm: UnsafeMutablePointer<Float>, rowScale: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>)]
    /// The DoRA entries' A and B (entry by entry), the scale s and the base the norms in `dora` were computed from
    /// (empty and nil before any).
    private var doraNormsValues: [Float] = []
    private var doraNormsKey: (base: UnsafePointer<Float>, identity: UInt64, scale: Float)?
    let scratch: LayerScratch
    /// The fp32 tile quantised base matrices are dequantised into.
    let tile = TileScratch()
    /// The loss pass's chunk buffers (gathered rows, logits, their gradients), kept from step to step.
    let lossChunk = GrowingBuffer()

    private var allocations: [UnsafeMutablePointer<Float>] = []
    /// Bytes held by the workspace.
    public private(set) var byteCount = 0

    /// True when only each layer's input is kept and the layer's forward is recomputed inside its backward.
    public let recomputes: Bool

    /// A training workspace: activations of every layer (with `recompute`, each layer's input and one shared set
    /// of the rest), adapter `u`s and the backward's gradient buffers.
    public convenience init(config: ModelConfig, lora: LoRALayout, rows n: Int, recompute: Bool = false) {
        self.init(config: config, rank: lora.rank, adapters: lora.entries.count, rows: n, training: true,
                  recompute: recompute, doraRows: Self.doraRows(lora), count: nil)
    }

    /// An inference workspace: one set of layer activations and no backward buffers.
    convenience init(inference config: ModelConfig, rows n: Int) {
        self.init(config: config, rank: 0, adapters: 0, rows: n, training: false)
    }

    /// A forward-only workspace for a model with adapters (`DecoderModel.evaluationLoss`): one set of layer
    /// activations shared by every layer, each adapter's `u` and DoRA's buffers, no backward buffers.
    public convenience init(evaluating config: ModelConfig, lora: LoRALayout, rows n: Int) {
        self.init(config: config, rank: lora.rank, adapters: lora.entries.count, rows: n, training: false,
                  recompute: false, doraRows: Self.doraRows(lora), count: nil)
    }

    /// Bytes a training workspace of `rows` rows would hold, split into the layers' saved activations and the rest
    /// (work buffers, final norm, adapter `u`s), without allocating it: the sizes `init` allocates, counted.
    public static func trainingBytes(config: ModelConfig, lora: LoRALayout, rows n: Int,
                                     recompute: Bool = false) -> (activations: Int, workspace: Int) {
        var sizes = (activations: 0, workspace: 0)
        let dummy = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { dummy.deallocate() }
        _ = DecoderWorkspace(config: config, rank: lora.rank, adapters: lora.entries.count, rows: n, training: true,
                             recompute: recompute, doraRows: doraRows(lora), count: { floats, activation in
                                 if activation { sizes.activations += 4 * floats } else { sizes.workspace += 4 * floats }
                                 return dummy
                             })
        return sizes
    }

    private convenience init(config: ModelConfig, rank: Int, adapters: Int, rows n: Int, training: Bool) {
        self.init(config: config, rank: rank, adapters: adapters, rows: n, training: training, recompute: false,
                  doraRows: [], count: nil)
    }

    /// Output rows of each DoRA entry of `lora`, in entry order; empty without DoRA.
    private static func doraRows(_ lora: LoRALayout) -> [Int] {
        lora.entries.compactMap { $0.magnitude == nil ? nil : $0.outFeatures }
    }

    /// Allocates every buffer, or with `count` only reports each size (floats, whether it is a layer activation).
    private init(config: ModelConfig, rank: Int, adapters: Int, rows n: Int, training: Bool, recompute: Bool,
                 doraRows: [Int], count: ((Int, Bool) -> UnsafeMutablePointer<Float>)?) {
        let (c, f, h, kvh) = (config.hiddenSize, config.intermediateSize, config.headCount, config.keyValueHeadCount)
        let (qw, kvw) = (h * config.headDim, kvh * config.headDim)
        var allocations: [UnsafeMutablePointer<Float>] = []
        var floats = 0
        var activation = true
        func buffer(_ size: Int) -> UnsafeMutablePointer<Float> {
            floats += max(size, 1)
            if let count { return count(max(size, 1), activation) }
            let pointer = zeroedFloats(max(size, 1))
            allocations.append(pointer)
            return pointer
        }
        /// Backward-only sizes are 1 in an inference workspace.
        func backward(_ count: Int) -> UnsafeMutablePointer<Float> { buffer(training ? count : 1) }
        rows = n
        keepsActivations = training
        recomputes = training && recompute
        let (qkNorm, sandwich) = (config.qkNorm, config.sandwichNorms)
        func activations(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>?,
                         activated: UnsafeMutablePointer<Float>) -> LayerActivations {
            LayerActivations(
                input: input, normed1: buffer(n * c), rstd1: buffer(n), q: buffer(n * qw), k: buffer(n * kvw),
                v: buffer(n * kvw), qRaw: qkNorm ? buffer(n * qw) : nil, kRaw: qkNorm ? buffer(n * kvw) : nil,
                qRstd: qkNorm ? buffer(n * h) : nil, kRstd: qkNorm ? buffer(n * kvh) : nil,
                attention: buffer(n * qw), lse: buffer(n * h),
                attentionOut: sandwich ? buffer(n * c) : nil, attentionOutRstd: sandwich ? buffer(n) : nil,
                mlpOut: sandwich ? buffer(n * c) : nil, mlpOutRstd: sandwich ? buffer(n) : nil,
                middle: buffer(n * c), normed2: buffer(n * c),
                rstd2: buffer(n), gate: buffer(n * f), up: buffer(n * f), activated: activated, output: output ?? input)
        }
        if training {
            let inputs = (0...config.layerCount).map { _ in buffer(n * c) }   // layer inputs, then the final input
            if recompute {
                let shared = activations(input: inputs[0], output: inputs[1], activated: buffer(n * f))
                layers = (0..<config.layerCount).map { shared.rebased(input: inputs[$0], output: inputs[$0 + 1]) }
            } else {
                // act(gate, up) is recomputed in each layer's backward from the kept gate and up (the same op on the
                // same inputs, so the same bits): one (N, F) buffer serves every layer instead of one per layer.
                activation = false
                let activated = buffer(n * f)
                activation = true
                layers = (0..<config.layerCount).map {
                    activations(input: inputs[$0], output: inputs[$0 + 1], activated: activated)
                }
            }
            finalInput = inputs[config.layerCount]
        } else {
            let stream = buffer(n * c)                                      // the residual stream, in place
            layers = Array(repeating: activations(input: stream, output: nil, activated: buffer(n * f)), count: config.layerCount)
            finalInput = stream
        }
        activation = false
        finalNormed = buffer(n * c)
        finalRstd = buffer(n)
        loraU = (0..<adapters).map { _ in buffer(n * rank) }
        dora = doraRows.map { (norm: buffer($0), rowScale: buffer($0), z: buffer(n * $0)) }
        scratch = LayerScratch(
            projected: buffer(n * c), dropScratch: backward(n * max(c, f, qw)), du: backward(n * rank),
            dHidden: backward(n * c), dNormed: backward(n * c), dq: backward(n * qw), dk: backward(n * kvw),
            dv: backward(n * kvw), dqRaw: backward(qkNorm ? n * qw : 0), dkRaw: backward(qkNorm ? n * kvw : 0),
            dAttention: backward(n * qw), dBranch: backward(sandwich ? n * c : 0), dGate: backward(n * f), dUp: backward(n * f), dActivated: backward(n * f),
            doraGradient: backward(doraRows.isEmpty ? 0 : n * max(c, f, qw)))
        byteCount = 4 * floats
        self.allocations = allocations
    }

    /// True when `dora`'s norms were computed from the DoRA entries' A and B in `parameters` (compared bit for bit,
    /// in place) with the same `scale` over the same base (its storage `base` of the weights `baseIdentity`,
    /// `DecoderWeights.identity`); otherwise copies them in as the source of the norms about to be computed, into the
    /// same storage. Always false without DoRA.
    func holdsDoRANorms(of layout: LoRALayout, _ parameters: UnsafePointer<Float>, scale: Float,
                        base: UnsafePointer<Float>, baseIdentity: UInt64) -> Bool {
        // A (rank, in) then B (out, rank) of each entry: adjacent in the layout, so one range from A's start to B's end.
        let ranges = layout.entries.filter { $0.magnitude != nil }.map { $0.a..<($0.b + $0.outFeatures * layout.rank) }
        let total = ranges.reduce(0) { $0 + $1.count }
        guard total > 0 else { return false }
        if let key = doraNormsKey, key.base == base, key.identity == baseIdentity, key.scale.bitPattern == scale.bitPattern,
           doraNormsValues.count == total {
            var offset = 0
            let same = doraNormsValues.withUnsafeBufferPointer { stored in
                ranges.allSatisfy { range in
                    defer { offset += range.count }
                    return memcmp(stored.baseAddress! + offset, parameters + range.lowerBound, range.count * 4) == 0
                }
            }
            if same { return true }
        }
        doraNormsValues.removeAll(keepingCapacity: true)
        for range in ranges {
            doraNormsValues.append(contentsOf: UnsafeBufferPointer(start: parameters + range.lowerBound, count: range.count))
        }
        doraNormsKey = (base, baseIdentity, scale)
        return false
    }

    deinit {
        for pointer in allocations { free(pointer) }
    }
}

/// `count` zeroed floats from `calloc`, released with `free`. Pages fresh from the kernel are already zero and calloc
/// does not clear them again, so a large buffer costs nothing until first written, and its page faults are taken by
/// whichever thread writes it first, inside the parallel ops, instead of serially when the workspace is built
/// (`initialize(repeating:)` touched all of a 1.7 GB training workspace on one thread before the first step).
/// A failed allocation stops the process as Swift's own allocator does.
private func zeroedFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    guard let raw = calloc(count, MemoryLayout<Float>.stride) else {
        preconditionFailure("out of memory: \(count) floats for the decoder workspace")
    }
    return raw.bindMemory(to: Float.self, capacity: count)
}
