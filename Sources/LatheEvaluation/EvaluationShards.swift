import LatheSupport

/// Evaluation across the ranks of a job (`mpirun`, `srun`). Every rank builds every document's requests (few-shot
/// contexts are drawn in document order from one sampler, so that part is not split); rank r answers the requests of
/// its contiguous block of documents, and the responses are all-gathered in document order. Every rank then holds
/// one process's responses — log-likelihoods travel as bit patterns — and computes the same samples and metrics.
/// A document's responses do not depend on which other documents share its batch: rows are right-padded under a
/// causal mask and the padded positions are never scored (`DecoderModel.scoreContinuations`).
struct EvaluationShards {
    let communicator: any Communicator

    /// The documents of `count` that rank `rank` of `size` answers.
    static func block(_ count: Int, rank: Int, size: Int) -> Range<Int> {
        (count * rank / size)..<(count * (rank + 1) / size)
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
