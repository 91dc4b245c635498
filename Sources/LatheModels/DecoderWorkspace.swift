/// Everything a LoRA training step keeps between its forward and backward, sized once for N = B·T rows.
/// Per layer: the activations the backward reads. Shared: work buffers reused by every layer.
/// Buffers are raw pointers owned by the workspace, so the step reads as a flat list of op calls.
public final class DecoderWorkspace {
    /// Activations saved by one decoder layer's forward.
    struct Layer {
        let input: UnsafeMutablePointer<Float>      // (N, C)  residual stream entering the layer
        let normed1: UnsafeMutablePointer<Float>    // (N, C)
        let rstd1: UnsafeMutablePointer<Float>      // (N)
        let q: UnsafeMutablePointer<Float>          // (N, H·D)   after RoPE
        let k: UnsafeMutablePointer<Float>          // (N, KVH·D) after RoPE
        let v: UnsafeMutablePointer<Float>          // (N, KVH·D)
        let attention: UnsafeMutablePointer<Float>  // (N, H·D)
        let lse: UnsafeMutablePointer<Float>        // (B, H, T)
        let middle: UnsafeMutablePointer<Float>     // (N, C)  residual after attention
        let normed2: UnsafeMutablePointer<Float>    // (N, C)
        let rstd2: UnsafeMutablePointer<Float>      // (N)
        let gate: UnsafeMutablePointer<Float>       // (N, F)
        let up: UnsafeMutablePointer<Float>         // (N, F)
        let activated: UnsafeMutablePointer<Float>  // (N, F)
    }

    public let rows: Int
    let layers: [Layer]
    let finalInput: UnsafeMutablePointer<Float>     // (N, C)
    let finalNormed: UnsafeMutablePointer<Float>    // (N, C)
    let finalRstd: UnsafeMutablePointer<Float>      // (N)
    /// u = drop(x)·Aᵀ (N, r) for each adapter entry, in `LoRALayout.entries` order.
    let loraU: [UnsafeMutablePointer<Float>]

    // Work buffers shared by all layers.
    let projected: UnsafeMutablePointer<Float>      // (N, C)
    let dropScratch: UnsafeMutablePointer<Float>    // (N, max(C, F, H·D))
    let du: UnsafeMutablePointer<Float>             // (N, r)
    let dHidden: UnsafeMutablePointer<Float>        // (N, C)  gradient of the residual stream
    let dNormed: UnsafeMutablePointer<Float>        // (N, C)
    let dq: UnsafeMutablePointer<Float>             // (N, H·D)
    let dk: UnsafeMutablePointer<Float>             // (N, KVH·D)
    let dv: UnsafeMutablePointer<Float>             // (N, KVH·D)
    let dAttention: UnsafeMutablePointer<Float>     // (N, H·D)
    let dGate: UnsafeMutablePointer<Float>          // (N, F)
    let dUp: UnsafeMutablePointer<Float>            // (N, F)
    let dActivated: UnsafeMutablePointer<Float>     // (N, F)

    private var allocations: [UnsafeMutablePointer<Float>] = []
    /// Bytes held by the workspace.
    public private(set) var byteCount = 0

    public init(config: ModelConfig, lora: LoRALayout, rows n: Int) {
        let (c, f) = (config.hiddenSize, config.intermediateSize)
        let (qw, kvw) = (config.headCount * config.headDim, config.keyValueHeadCount * config.headDim)
        var allocations: [UnsafeMutablePointer<Float>] = []
        var floats = 0
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            floats += max(count, 1)
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            allocations.append(pointer)
            return pointer
        }
        rows = n
        layers = (0..<config.layerCount).map { _ in
            Layer(input: buffer(n * c), normed1: buffer(n * c), rstd1: buffer(n), q: buffer(n * qw), k: buffer(n * kvw),
                  v: buffer(n * kvw), attention: buffer(n * qw), lse: buffer(n * config.headCount),
                  middle: buffer(n * c), normed2: buffer(n * c), rstd2: buffer(n), gate: buffer(n * f),
                  up: buffer(n * f), activated: buffer(n * f))
        }
        finalInput = buffer(n * c)
        finalNormed = buffer(n * c)
        finalRstd = buffer(n)
        loraU = lora.entries.map { _ in buffer(n * lora.rank) }
        projected = buffer(n * c)
        dropScratch = buffer(n * max(c, f, qw))
        du = buffer(n * lora.rank)
        dHidden = buffer(n * c)
        dNormed = buffer(n * c)
        dq = buffer(n * qw)
        dk = buffer(n * kvw)
        dv = buffer(n * kvw)
        dAttention = buffer(n * qw)
        dGate = buffer(n * f)
        dUp = buffer(n * f)
        dActivated = buffer(n * f)
        byteCount = 4 * floats
        self.allocations = allocations
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }
}
