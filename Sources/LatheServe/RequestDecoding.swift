import LatheFormats

/// A `/v1/completions` body decoded and checked: the request, its prompts as token ids and the jobs to queue.
public struct CompletionPlan: Sendable {
    let request: CompletionRequest
    /// One token list per prompt of the request.
    let prompts: [[Int32]]
    /// `n` jobs per prompt, in prompt order.
    let jobs: [GenerationJob]
    /// How many sequences the request asks for.
    public var jobCount: Int { jobs.count }
}

/// A `/v1/chat/completions` body decoded and checked: the request, the rendered chat as token ids and the jobs.
public struct ChatPlan: Sendable {
    let request: ChatRequest
    let prompt: [Int32]
    let jobs: [GenerationJob]
    /// How many sequences the request asks for.
    public var jobCount: Int { jobs.count }
}

/// Every check a POST body passes before any work is queued: the size limit, JSON syntax, a top-level object,
/// each field's type and range, the model name, token ids against the vocabulary, the chat template and the
/// context budget. The route handlers call these; Fuzz/Sources/FuzzServeRequest feeds them arbitrary bytes.
/// Each throws only `ServeError`s, so every bad body becomes a 4xx answer.
extension ServedModel {
    /// `POST /v1/completions`.
    public func decodeCompletion(body: [UInt8]) throws(ServeError) -> CompletionPlan {
        try decoding(body) { node in
            let request = try CompletionRequest(node)
            let adapter = try adapter(for: request.sampling.model)
            // Checked before any job is built: a body of a few MiB can list millions of prompts.
            let sequences = request.prompts.count * request.sampling.n
            guard sequences <= options.limits.maxQueue else {
                throw ServeError.invalid("this request asks for \(sequences) sequences (\(request.prompts.count) prompts × n \(request.sampling.n)), more than the server queues at once (\(options.limits.maxQueue), lathe serve --max-queue); split it into smaller requests or start the server with a larger --max-queue",
                                         param: "prompt")
            }
            let prompts = try request.prompts.map(tokens)
            var jobs = [GenerationJob]()
            for prompt in prompts {
                let budget = try completionBudget(prompt: prompt, requested: request.sampling.maxTokens, defaultMax: 16)
                for c in 0..<request.sampling.n {
                    jobs.append(GenerationJob(prompt: prompt, adapter: adapter, sampling: sampling(request.sampling, index: c),
                                              maxTokens: budget, stopTokens: stopTokens(request.sampling), tokenLogprobs: request.logprobs,
                                              promptLogprobs: request.echo ? request.logprobs : nil))
                }
            }
            return CompletionPlan(request: request, prompts: prompts, jobs: jobs)
        }
    }

    /// `POST /v1/chat/completions`: the messages rendered with the model's chat template.
    public func decodeChat(body: [UInt8]) throws(ServeError) -> ChatPlan {
        try decoding(body) { node in
            let request = try ChatRequest(node)
            let adapter = try adapter(for: request.sampling.model)
            let prompt = try chatTokens(request.messages)
            let budget = try completionBudget(prompt: prompt, requested: request.sampling.maxTokens, defaultMax: 1024)
            let jobs = (0..<request.sampling.n).map { c in
                GenerationJob(prompt: prompt, adapter: adapter, sampling: sampling(request.sampling, index: c), maxTokens: budget,
                              stopTokens: stopTokens(request.sampling), tokenLogprobs: request.logprobs ? request.topLogprobs : nil,
                              promptLogprobs: nil)
            }
            return ChatPlan(request: request, prompt: prompt, jobs: jobs)
        }
    }

    /// `POST /tokenize`: the prompt's (or the rendered chat's) token ids.
    public func decodeTokenize(body: [UInt8]) throws(ServeError) -> [Int32] {
        try decoding(body) { node in
            let request = try TokenizeRequest(node)
            if let prompt = request.prompt { return tokenizer.encode(prompt, addSpecialTokens: request.addSpecialTokens) }
            return try chatTokens(request.messages ?? [])
        }
    }

    /// `POST /detokenize`: `{"tokens": [ids]}`, each inside the vocabulary.
    public func decodeDetokenize(body: [UInt8]) throws(ServeError) -> [Int32] {
        try decoding(body) { node in
            let ids = try node.required("tokens").array().map { try $0.int() }
            if let bad = ids.first(where: { $0 < 0 || $0 >= model.config.vocabSize }) {
                throw ServeError.invalid("token id \(bad) is outside the vocabulary (0..<\(model.config.vocabSize))", param: "tokens")
            }
            return ids.map { Int32($0) }
        }
    }

    /// Parses `body` as a JSON object within `options.maxBodyBytes` and runs `make` on it; a JSON error (syntax with
    /// its byte offset, or a field of the wrong type) becomes a 400 naming the field.
    private func decoding<T>(_ body: [UInt8], _ make: (JSONNode) throws -> T) throws(ServeError) -> T {
        let limit = options.maxBodyBytes
        guard body.count <= limit else { throw ServeError.bodyTooLarge(limit: limit) }
        do {
            let node = try JSONNode.parse(body, file: "request body")
            guard node.value.objectValue != nil else { throw ServeError.invalid("The request body must be a JSON object") }
            return try make(node)
        } catch let error as ServeError {
            throw error
        } catch let error as JSONFileError {
            throw ServeError.body(error)
        } catch {
            throw ServeError(status: 500, message: "\(error)", type: "server_error")
        }
    }
}
