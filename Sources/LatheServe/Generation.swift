import Foundation
import LatheModels

/// One sequence to generate, in token ids: what the scheduler needs and nothing about text or HTTP.
struct GenerationJob: Sendable {
    var prompt: [Int32]
    /// The adapter applied to this sequence; nil for the base model.
    var adapter: String?
    var sampling: SamplingParameters
    /// Tokens to generate at most (0: only score the prompt).
    var maxTokens: Int
    /// Tokens that end the sequence (not reported as generated).
    var stopTokens: Set<Int32>
    /// For each generated token: nil reports nothing, k reports its log-probability and the k most likely.
    var tokenLogprobs: Int?
    /// For `echo`: nil scores nothing, k scores every prompt token but the first with the k most likely.
    var promptLogprobs: Int?

    /// KV-cache positions the sequence may occupy: it is admitted only when they fit in the budget.
    var reservation: Int { prompt.count + maxTokens }
}

/// Why a sequence ended, as OpenAI names it.
enum FinishReason: String, Sendable {
    /// An end-of-sequence token or a stop string.
    case stop
    /// `max_tokens` reached.
    case length
}

/// What the scheduler reports about one sequence, in order: prompt scores (when asked), tokens, then the end.
enum GenerationEvent: Sendable {
    /// Scores of prompt tokens 1..<n (the first token has no context to score it).
    case prompt([TokenLogProb])
    /// A generated token and, when asked, its score. `isStop`: the end-of-sequence token, which is scored (as
    /// vLLM does, so echo's log-probabilities always cover prompt + generated tokens) but adds no text.
    case token(Int32, TokenLogProb?, isStop: Bool)
    case finished(FinishReason)
    case failed(ServeError)
}

/// Set by the consumer when its client goes away or a stop string ends the text; the scheduler drops the
/// sequence before its next step.
final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isCancelled: Bool { lock.withLock { value } }
    func cancel() { lock.withLock { value = true } }
}

/// A sequence being decoded: its cache, sampler and the tokens so far.
struct ActiveSequence {
    let job: GenerationJob
    let events: AsyncStream<GenerationEvent>.Continuation
    let cancellation: CancellationFlag
    let cache: SequenceCache
    var sampler: Sampler
    var history: [Int32]
    var generated = 0
    var lastToken: Int32 = 0
    let started: ContinuousClock.Instant

    /// Picks the next token from `logits` (V) and reports it; returns false when the sequence has ended.
    mutating func accept(logits: UnsafeBufferPointer<Float>) -> Bool {
        let token = sampler.next(logits: Array(logits), history: history)
        let score = job.tokenLogprobs.map { TokenLogProb(logits: logits, token: token, top: $0) }
        if job.stopTokens.contains(token) {
            events.yield(.token(token, score, isStop: true))
            events.yield(.finished(.stop))
            return false
        }
        events.yield(.token(token, score, isStop: false))
        generated += 1
        history.append(token)
        lastToken = token
        if generated >= job.maxTokens {
            events.yield(.finished(.length))
            return false
        }
        return true
    }
}

extension DecoderModel {
    /// Runs a job's prompt into a new cache, reports its prompt scores when asked and picks its first token.
    /// Returns nil when the sequence ended already (no tokens wanted, or the first one ends it).
    func start(_ job: GenerationJob, adapter: LoRAAdapter?, events: AsyncStream<GenerationEvent>.Continuation,
               cancellation: CancellationFlag) throws -> ActiveSequence? {
        let cache = SequenceCache(config: config, capacity: job.reservation)
        let hidden = try prefill(job.prompt, cache: cache, adapter: adapter)
        let n = job.prompt.count, vocab = config.vocabSize
        if let k = job.promptLogprobs {
            var scores = [TokenLogProb]()
            scores.reserveCapacity(n - 1)
            let chunk = 64   // rows of (rows, V) logits held at once
            for first in stride(from: 0, to: n - 1, by: chunk) {
                let rows = min(chunk, n - 1 - first)
                let rowLogits = logits(hidden: hidden, first: first, rows: rows)   // (rows, V)
                rowLogits.withUnsafeBufferPointer { all in
                    for r in 0..<rows {
                        let row = UnsafeBufferPointer(rebasing: all[(r * vocab)..<((r + 1) * vocab)])
                        scores.append(TokenLogProb(logits: row, token: job.prompt[first + r + 1], top: k))
                    }
                }
            }
            events.yield(.prompt(scores))
        }
        guard job.maxTokens > 0 else {
            events.yield(.finished(.length))
            return nil
        }
        var sequence = ActiveSequence(job: job, events: events, cancellation: cancellation, cache: cache,
                                      sampler: Sampler(job.sampling), history: job.prompt, started: .now)
        let last = logits(hidden: hidden, first: n - 1, rows: 1)
        let goesOn = last.withUnsafeBufferPointer { sequence.accept(logits: $0) }
        return goesOn ? sequence : nil
    }
}
