import LatheSupport

/// Evaluation across the ranks of a job (`mpirun`, `srun`). Every rank builds every document's requests (few-shot
/// contexts are drawn in document order from one sampler, so that part is not split). Scoring requests are shared
/// out by the unit one process runs them in — a question's shared-context group, or one padded batch of the
/// length-sorted batch order — round-robin, because a row's log-likelihood can differ in its last bits with the rows
/// it is batched with; generation is shared by contiguous blocks of documents (each is generated on its own). The
/// responses are all-gathered (log-likelihoods as bit patterns), so every rank holds one process's responses and
/// computes the same samples and metrics.
struct EvaluationShards {
    let communicator: any Communicator

    /// The documents of `count` that rank `rank` of `size` answers.
    static func block(_ count: Int, rank: Int, size: Int) -> Range<Int> {
        (count * rank / size)..<(count * (rank + 1) / size)
    }

    /// True when unit `index` of a round-robin deal (a shared-context group, a padded batch) is this rank's.
    func owns(_ index: Int) -> Bool { index % communicator.size == communicator.rank }

    /// Every request's response on every rank: `scores` holds this rank's (the others nil); each rank sends its
    /// (index, response) pairs and fills the rest from the others'.
    func complete(_ scores: [Response?]) throws -> [Response] {
        var all = scores
        if communicator.size > 1 {
            var message = WireWriter()
            for (index, response) in scores.enumerated() {
                guard let response else { continue }
                message.int(index)
                Self.write([response], &message)
            }
            for (sender, bytes) in try communicator.allGather(message.bytes).enumerated() where sender != communicator.rank {
                var reader = WireReader(bytes, operation: "evaluation scores", sender: sender)
                while !reader.isAtEnd {
                    let index = try reader.int()
                    guard all.indices.contains(index), all[index] == nil, let response = try Self.read(&reader).first else {
                        throw reader.malformed("request \(index) is out of range, empty or answered twice")
                    }
                    all[index] = response
                }
            }
        }
        guard let missing = all.firstIndex(where: { $0 == nil }) else { return all.map { $0! } }
        throw CommunicatorError.malformed(operation: "evaluation scores", rank: communicator.rank,
                                          detail: "no rank answered request \(missing) of \(all.count)")
    }

    /// Every document's responses, in document order, on every rank: `answer` gets this rank's block of documents
    /// and returns one list of responses per document of it.
    func responses(documents count: Int, answer: (Range<Int>) throws -> [[Response]]) throws -> [[Response]] {
        let (rank, size) = (communicator.rank, communicator.size)
        guard size > 1 else { return try answer(0..<count) }
        let mine = try answer(Self.block(count, rank: rank, size: size))
        var message = WireWriter()
        for responses in mine { Self.write(responses, &message) }
        let received = try communicator.allGather(message.bytes)
        var all: [[Response]] = []
        all.reserveCapacity(count)
        for (sender, bytes) in received.enumerated() {
            var reader = WireReader(bytes, operation: "evaluation responses", sender: sender)
            for _ in Self.block(count, rank: sender, size: size) { all.append(try Self.read(&reader)) }
            guard reader.isAtEnd else { throw reader.malformed("bytes left after the responses of its documents") }
        }
        return all
    }

    /// One document's responses: a count, then each response's optional fields.
    static func write(_ responses: [Response], _ out: inout WireWriter) {
        out.int(responses.count)
        for response in responses {
            out.optional(response.logLikelihood) { $0.double($1) }
            out.optional(response.isGreedy) { $0.bool($1) }
            out.optional(response.text) { $0.string($1) }
            out.optional(response.texts) { out, texts in
                out.int(texts.count)
                for text in texts { out.string(text) }
            }
        }
    }

    /// Reads what `write` wrote.
    static func read(_ reader: inout WireReader) throws(CommunicatorError) -> [Response] {
        let count = try reader.int()
        guard count >= 0, count <= 1 << 20 else { throw reader.malformed("\(count) responses for one document") }
        var responses: [Response] = []
        for _ in 0..<count {
            let logLikelihood = try reader.optional { (r: inout WireReader) throws(CommunicatorError) in try r.double() }
            let isGreedy = try reader.optional { (r: inout WireReader) throws(CommunicatorError) in try r.bool() }
            let text = try reader.optional { (r: inout WireReader) throws(CommunicatorError) in try r.string() }
            let texts = try reader.optional { (r: inout WireReader) throws(CommunicatorError) -> [String] in
                let n = try r.int()
                guard n >= 0, n <= 1 << 20 else { throw r.malformed("\(n) texts in one response") }
                var texts: [String] = []
                for _ in 0..<n { texts.append(try r.string()) }
                return texts
            }
            responses.append(Response(logLikelihood: logLikelihood, isGreedy: isGreedy, text: text, texts: texts))
        }
        return responses
    }
}
