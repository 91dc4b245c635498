import Foundation
import LatheModels

/// How much the scheduler takes on at once.
public struct SchedulerLimits: Sendable {
    /// Sequences decoded together at most.
    public var maxBatch: Int
    /// KV-cache positions reserved by running sequences at most (each reserves prompt + max_tokens): the
    /// memory bound. `SequenceCache.byteCount` converts it to bytes.
    public var kvCacheTokens: Int
    /// Sequences waiting for admission at most; a request that would exceed it gets 429.
    public var maxQueue: Int

    public init(maxBatch: Int = 64, kvCacheTokens: Int = 32768, maxQueue: Int = 1024) {
        self.maxBatch = maxBatch
        self.kvCacheTokens = kvCacheTokens
        self.maxQueue = maxQueue
    }
}

/// One queued sequence as its requester sees it.
struct Submission: Sendable {
    let events: AsyncStream<GenerationEvent>
    let cancellation: CancellationFlag
}

/// Continuous batching on one thread: between decode steps, waiting sequences join the running batch when
/// the KV budget and batch size allow (first come, first served); every step decodes one token for every
/// running sequence, one forward per adapter in use. Cancelled sequences leave before the next step.
final class BatchScheduler: @unchecked Sendable {
    private struct Waiting {
        let job: GenerationJob
        let events: AsyncStream<GenerationEvent>.Continuation
        let cancellation: CancellationFlag
    }

    let model: DecoderModel
    let adapters: [String: LoRAAdapter]
    let limits: SchedulerLimits
    let metrics: ServeMetrics
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var waiting: [Waiting] = []
    private var reserved = 0
    private var draining = false
    private var finished = false
    // Touched only by the scheduler thread.
    private var running: [ActiveSequence] = []

    init(model: DecoderModel, adapters: [String: LoRAAdapter], limits: SchedulerLimits, metrics: ServeMetrics) {
        self.model = model
        self.adapters = adapters
        self.limits = limits
        self.metrics = metrics
        let thread = Thread { [self] in loop() }
        thread.name = "lathe-serve-scheduler"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queues `jobs` (all of one request) and returns one event stream per job. Throws 429 when the queue is
    /// full and 503 once the server is draining. Dropping a stream, or its flag, cancels its sequence.
    func submit(_ jobs: [GenerationJob]) throws(ServeError) -> [Submission] {
        condition.lock()
        defer { condition.unlock() }
        if draining {
            throw ServeError(status: 503, message: "The server is shutting down", type: "server_unavailable")
        }
        guard waiting.count + jobs.count <= limits.maxQueue else {
            throw ServeError(status: 429, message: "Too many queued sequences (\(waiting.count) of \(limits.maxQueue)); retry later",
                             type: "rate_limit_exceeded")
        }
        var streams = [Submission]()
        for job in jobs {
            let (stream, continuation) = AsyncStream.makeStream(of: GenerationEvent.self)
            let cancellation = CancellationFlag()
            continuation.onTermination = { [weak self] _ in
                cancellation.cancel()
                self?.wake()
            }
            waiting.append(Waiting(job: job, events: continuation, cancellation: cancellation))
            streams.append(Submission(events: stream, cancellation: cancellation))
        }
        metrics.queueDepth.set(Double(waiting.count))
        condition.signal()
        return streams
    }

    /// Stops taking requests and returns once every queued and running sequence has finished.
    func drain() {
        condition.lock()
        draining = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func wake() {
        condition.lock()
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while waiting.isEmpty && running.isEmpty && !draining { condition.wait() }
            if draining && waiting.isEmpty && running.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            var admitted = [Waiting]()
            while let first = waiting.first, running.count + admitted.count < limits.maxBatch,
                  reserved + first.job.reservation <= limits.kvCacheTokens {
                waiting.removeFirst()
                reserved += first.job.reservation
                admitted.append(first)
            }
            metrics.queueDepth.set(Double(waiting.count))
            metrics.kvReserved.set(Double(reserved))
            condition.unlock()
            for entry in admitted { start(entry) }
            step()
            metrics.running.set(Double(running.count))
        }
    }

    private func release(_ job: GenerationJob) {
        condition.lock()
        reserved -= job.reservation
        metrics.kvReserved.set(Double(reserved))
        condition.unlock()
    }

    private func start(_ entry: Waiting) {
        guard !entry.cancellation.isCancelled else {
            metrics.cancelled.increment()
            entry.events.finish()
            release(entry.job)
            return
        }
        do {
            let sequence = try model.start(entry.job, adapter: entry.job.adapter.flatMap { adapters[$0] },
                                           events: entry.events, cancellation: entry.cancellation)
            metrics.promptTokens.increment(by: Int64(entry.job.prompt.count))
            if let sequence {
                metrics.generatedTokens.increment(by: Int64(1))
                running.append(sequence)
                return
            }
            if entry.job.maxTokens > 0 { metrics.generatedTokens.increment(by: Int64(1)) }
        } catch {
            entry.events.yield(.failed(ServeError(status: 500, message: "\(error)", type: "server_error")))
        }
        entry.events.finish()
        release(entry.job)
    }

    /// One decode step for every running sequence, grouped by adapter.
    private func step() {
        running.removeAll { sequence in
            guard sequence.cancellation.isCancelled else { return false }
            metrics.cancelled.increment()
            sequence.events.finish()
            release(sequence.job)
            return true
        }
        guard !running.isEmpty else { return }
        var groups = [String: [Int]]()
        for (i, sequence) in running.enumerated() { groups[sequence.job.adapter ?? "", default: []].append(i) }
        var ended = Set<Int>()
        for (name, members) in groups.sorted(by: { $0.key < $1.key }) {
            let vocab = model.config.vocabSize
            do {
                let logits = try model.decodeStep(members.map { running[$0].lastToken }, caches: members.map { running[$0].cache },
                                                  adapter: name.isEmpty ? nil : adapters[name])
                logits.withUnsafeBufferPointer { all in
                    for (row, i) in members.enumerated() {
                        let goesOn = running[i].accept(logits: UnsafeBufferPointer(rebasing: all[(row * vocab)..<((row + 1) * vocab)]))
                        if !goesOn { ended.insert(i) }
                    }
                }
                metrics.generatedTokens.increment(by: Int64(members.count))
                metrics.batchSize.record(Double(members.count))
            } catch {
                for i in members {
                    running[i].events.yield(.failed(ServeError(status: 500, message: "\(error)", type: "server_error")))
                    ended.insert(i)
                }
            }
        }
        for i in ended.sorted(by: >) {
            running[i].events.finish()
            release(running[i].job)
            running.remove(at: i)
        }
    }
}
