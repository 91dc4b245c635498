import Dispatch
import LatheModels
import LatheSupport

/// Settings of a LoRA training run. Defaults follow common practice for small instruct models.
public struct TrainingConfig: Sendable, Equatable {
    public var learningRate = 2e-4
    public var schedule: LearningRateSchedule.Kind = .cosine
    public var warmupSteps = 0
    /// Optimizer steps to take; when nil, `epochs` passes over the data.
    public var maxSteps: Int?
    public var epochs = 1
    /// Rows per micro-batch (B).
    public var microBatchSize = 4
    /// Micro-batches per optimizer step.
    public var gradientAccumulation = 1
    /// Tokens per row (T).
    public var maxLength = 512
    public var layout: BatchLayout = .packed
    public var optimizer = AdamW.Hyperparameters(weightDecay: 0)
    /// Global-norm clipping; nil disables it.
    public var maxGradNorm: Float? = 1
    public var seed: UInt64 = 0
    /// Keep only each layer's input; recompute the layer's forward inside its backward (same results, less memory).
    public var recompute = false

    public init() {}
}

/// What the trainer reports after each optimizer step; the CLI renders it.
public struct TrainingProgress: Sendable {
    public let step: Int
    public let totalSteps: Int
    /// Mean loss over the target tokens of this step's accumulated batch.
    public let loss: Double
    public let learningRate: Double
    public let gradientNorm: Float
    public let tokens: Int
    public let seconds: Double
    /// Of `seconds`, the time spent exchanging gradients with the other ranks (0 for one process).
    public let communicationSeconds: Double
    /// Bytes this rank received from the other ranks in this step.
    public let bytesReceived: Int
}

/// Runs LoRA training: data order, micro-batches, accumulation, clipping, AdamW and the schedule.
public struct Trainer {
    public let model: DecoderModel
    public let config: TrainingConfig
    public private(set) var adapter: LoRAAdapter
    public private(set) var optimizer: AdamW
    /// Optimizer steps already taken (after `resume`, where training continues).
    public private(set) var completedSteps = 0
    private let order: DataOrder

    /// A run over `examples`, shuffled by `config.seed`, cut into micro-batches as `config` says, and with its
    /// rows reshuffled each epoch after the first (`DataOrder`).
    public init(model: DecoderModel, adapter: LoRAAdapter, examples: [TrainingExample], config: TrainingConfig,
                padToken: Int32) throws {
        guard !examples.isEmpty else { throw ModelError.invalidInput("no training examples") }
        try self.init(model: model, adapter: adapter, config: config,
                      order: DataOrder(examples: examples, rows: config.microBatchSize, length: config.maxLength,
                                       layout: config.layout, padToken: padToken, seed: config.seed))
    }

    /// A run over prepared micro-batches, taken in order and cycled.
    public init(model: DecoderModel, adapter: LoRAAdapter, batches: [MicroBatch], config: TrainingConfig) throws {
        try self.init(model: model, adapter: adapter, config: config, order: DataOrder(batches: batches))
    }

    private init(model: DecoderModel, adapter: LoRAAdapter, config: TrainingConfig, order: DataOrder) throws {
        guard order.count > 0 else { throw ModelError.invalidInput("no example has two or more tokens") }
        self.model = model
        self.config = config
        self.adapter = adapter
        self.optimizer = AdamW(count: adapter.parameterCount, hyper: config.optimizer)
        self.order = order
    }

    /// The epoch the next micro-batch belongs to (micro-batches taken so far ÷ micro-batches per epoch).
    public var dataEpoch: Int { completedSteps * config.gradientAccumulation / order.count }

    /// Optimizer steps the run will take.
    public var totalSteps: Int {
        config.maxSteps ?? config.epochs * ((order.count + config.gradientAccumulation - 1) / config.gradientAccumulation)
    }

    /// Continues from a saved state: adapter parameters, AdamW moments and the number of steps taken. Data order
    /// (each epoch's permutation included), dropout masks and the schedule are functions of the step, so the rest
    /// of the run is the same as if it had never stopped.
    public mutating func resume(parameters: [Float], optimizer: AdamW, completedSteps: Int) throws {
        guard parameters.count == adapter.parameterCount, optimizer.m.count == parameters.count,
              completedSteps >= 0, completedSteps <= totalSteps, optimizer.step <= completedSteps else {
            throw ModelError.invalidInput("the saved training state does not fit this run (sizes or step count differ)")
        }
        adapter.parameters = parameters
        self.optimizer = optimizer
        self.completedSteps = completedSteps
    }

    /// Trains from `completedSteps` to `totalSteps`, calling after each step `progress`, then `afterStep`, then —
    /// after every `saveEvery`-th step and the last — `checkpoint` (both with the trainer's state then).
    /// With several ranks in `communicator`, each computes its share of every step's micro-batches and the
    /// gradients are summed in global order (`GradientReduction`): every rank holds the same adapter, bit for bit
    /// the one a single process computes with the same threads per process.
    public mutating func run(saveEvery: Int = 0, communicator: any Communicator = SingleProcess(),
                             checkpoint: (Trainer) throws -> Void = { _ in },
                             progress: (TrainingProgress) -> Void = { _ in },
                             afterStep: (Trainer) throws -> Void = { _ in }) throws {
        let schedule = LearningRateSchedule(kind: config.schedule, baseLR: config.learningRate,
                                            warmupSteps: config.warmupSteps, totalSteps: totalSteps)
        let workspace = DecoderWorkspace(config: model.config, lora: adapter.layout, rows: order.maxTokens,
                                         recompute: config.recompute)
        var gradients = [Float](repeating: 0, count: adapter.parameterCount)
        var micro = gradients    // one micro-batch's gradient
        var reduction = GradientReduction(communicator: communicator, microBatches: config.gradientAccumulation,
                                          count: gradients.count)
        for step in completedSteps..<totalSteps {
            let cursor = step * config.gradientAccumulation
            let start = DispatchTime.now().uptimeNanoseconds
            let span = OpProfiler.begin()
            let group = (0..<config.gradientAccumulation).map { i in order.batch(cursor + i) }
            OpProfiler.end(span, .data, bytes: Double(8 * group.reduce(0) { $0 + $1.batch.tokens.count }))   // tokens and targets
            let targetCount = group.reduce(0) { $0 + $1.targetCount }
            guard targetCount > 0 else { completedSteps += 1; continue }
            var lossSum = 0.0
            let tokens = group.reduce(0) { $0 + $1.batch.tokens.count }
            reduction.begin(&gradients, lossSum: &lossSum)
            for index in reduction.share {
                OpProfiler.measure(.optimizer, bytes: Double(4 * micro.count)) { for i in micro.indices { micro[i] = 0 } }
                let key = CounterRandom.key(config.seed, UInt64(step), UInt64(index))
                let loss = try model.trainingStep(group[index].batch, targets: group[index].targets, adapter: adapter,
                                                  gradients: &micro, lossScale: 1 / Float(targetCount),
                                                  dropoutKey: key, workspace: workspace)
                try OpProfiler.measure(.optimizer, bytes: Double(12 * micro.count)) {
                    try reduction.add(micro, loss: loss.lossSum, into: &gradients, lossSum: &lossSum)
                }
            }
            // AdamW reads the gradient, parameters and both moments and writes the last three: 28 bytes each.
            let optimizerSpan = OpProfiler.begin()
            try reduction.finish(&gradients, lossSum: &lossSum)
            let norm = config.maxGradNorm.map { clipGradientNorm(&gradients, maxNorm: $0) } ?? 0
            let lr = schedule.learningRate(step: step)
            optimizer.update(&adapter.parameters, gradients: gradients, lr: lr)
            OpProfiler.end(optimizerSpan, .optimizer, bytes: Double(28 * gradients.count))
            completedSteps = step + 1
            progress(TrainingProgress(step: step + 1, totalSteps: totalSteps, loss: lossSum / Double(targetCount),
                                      learningRate: lr, gradientNorm: norm, tokens: tokens,
                                      seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                                      communicationSeconds: reduction.communicationSeconds,
                                      bytesReceived: reduction.bytesReceived))
            try afterStep(self)
            if completedSteps == totalSteps || (saveEvery > 0 && completedSteps % saveEvery == 0) { try checkpoint(self) }
        }
    }
}
