import Foundation
import Hummingbird
import LatheFormats
import LatheModels

/// One choice's outcome after its events are read.
struct CollectedChoice {
    var promptScores: [TokenLogProb]?
    var text: ChoiceText
    var finish = FinishReason.length
}

extension Routes {
    /// `POST /v1/completions`. A client that goes away before the answer cancels its generation.
    func completions(_ body: [UInt8], connection: ClientConnection) async throws -> Response {
        let plan = try served.decodeCompletion(body: body)
        let (request, prompts) = (plan.request, plan.prompts)
        let submissions = try served.scheduler.submit(plan.jobs)
        let model = request.sampling.model ?? served.options.baseName
        let id = responseID("cmpl")
        if request.sampling.stream {
            return stream(submissions, stops: request.sampling.stop) { index, delta, finish, _ in
                served.envelope(id: id, object: "text_completion", model: model, choices: [.object(JSONObject([
                    ("index", .integer(index)), ("text", .string(delta)), ("logprobs", .null),
                    ("finish_reason", finish.map { .string($0.rawValue) } ?? .null)]))])
            }
        }
        let collected = try await collectAll(submissions, stops: request.sampling.stop, connection: connection)
        var choices = [JSONValue](), completionTokens = 0
        for (index, choice) in collected.enumerated() {
            let p = index / request.sampling.n
            let promptText: String
            if case .text(let text) = request.prompts[p] { promptText = text } else { promptText = served.tokenizer.decode(prompts[p]) }
            completionTokens += choice.text.tokens.count
            let logprobs: JSONValue = request.logprobs == nil ? .null : served.legacyLogprobs(
                prompt: prompts[p], promptScores: request.echo ? choice.promptScores ?? [] : nil, generated: choice.text.tokens,
                scores: choice.text.scores, textStart: request.echo ? 0 : promptText.unicodeScalars.count)
            choices.append(.object(JSONObject([
                ("index", .integer(index)), ("text", .string((request.echo ? promptText : "") + choice.text.text)),
                ("logprobs", logprobs), ("finish_reason", .string(choice.finish.rawValue))])))
        }
        let promptTokens = prompts.reduce(0) { $0 + $1.count }
        return json(served.envelope(id: id, object: "text_completion", model: model, choices: choices,
                                    usage: served.usage(prompt: promptTokens, completion: completionTokens)))
    }

    /// `POST /v1/chat/completions`: the messages through the model's chat template. A client that goes away
    /// before the answer cancels its generation.
    func chat(_ body: [UInt8], connection: ClientConnection) async throws -> Response {
        let plan = try served.decodeChat(body: body)
        let (request, prompt) = (plan.request, plan.prompt)
        let submissions = try served.scheduler.submit(plan.jobs)
        let model = request.sampling.model ?? served.options.baseName
        let id = responseID("chatcmpl")
        if request.sampling.stream {
            return stream(submissions, stops: request.sampling.stop, opening: { index in
                served.envelope(id: id, object: "chat.completion.chunk", model: model, choices: [.object(JSONObject([
                    ("index", .integer(index)), ("delta", .object(JSONObject([("role", .string("assistant")), ("content", .string(""))]))),
                    ("logprobs", .null), ("finish_reason", .null)]))])
            }) { index, delta, finish, token in
                let delta: JSONValue = finish == nil || !delta.isEmpty ? .object(JSONObject([("content", .string(delta))])) : .object(JSONObject())
                let logprobs: JSONValue = request.logprobs ? token.map { served.chatLogprobs([$0.token], [$0]) } ?? .null : .null
                return served.envelope(id: id, object: "chat.completion.chunk", model: model, choices: [.object(JSONObject([
                    ("index", .integer(index)), ("delta", delta), ("logprobs", logprobs),
                    ("finish_reason", finish.map { .string($0.rawValue) } ?? .null)]))])
            }
        }
        let collected = try await collectAll(submissions, stops: request.sampling.stop, connection: connection)
        var choices = [JSONValue](), completionTokens = 0
        for (index, choice) in collected.enumerated() {
            completionTokens += choice.text.tokens.count
            choices.append(.object(JSONObject([
                ("index", .integer(index)),
                ("message", .object(JSONObject([("role", .string("assistant")), ("content", .string(choice.text.text))]))),
                ("logprobs", request.logprobs ? served.chatLogprobs(choice.text.tokens, choice.text.scores) : .null),
                ("finish_reason", .string(choice.finish.rawValue))])))
        }
        return json(served.envelope(id: id, object: "chat.completion", model: model, choices: choices,
                                    usage: served.usage(prompt: prompt.count, completion: completionTokens)))
    }

    /// Reads every choice of a non-streaming request, in order; a client that goes away meanwhile cancels them all.
    func collectAll(_ submissions: [Submission], stops: [String], connection: ClientConnection) async throws -> [CollectedChoice] {
        try await watching(connection, cancel: submissions) {
            var choices = [CollectedChoice]()
            for submission in submissions { choices.append(try await collect(submission, stops: stops)) }
            return choices
        }
    }

    /// Reads one choice's events to the end (or to a stop string, which cancels the rest).
    func collect(_ submission: Submission, stops: [String]) async throws -> CollectedChoice {
        var choice = CollectedChoice(text: ChoiceText(tokenizer: served.tokenizer, stops: stops))
        for await event in submission.events {
            switch event {
            case .prompt(let scores): choice.promptScores = scores
            case .token(let token, let score, let isStop):
                _ = choice.text.push(token, score: score, isStop: isStop)
                if choice.text.hitStop {
                    submission.cancellation.cancel()
                    choice.finish = .stop
                    return choice
                }
            case .finished(let reason): choice.finish = reason
            case .failed(let error): throw error
            }
        }
        _ = choice.text.finish()
        return choice
    }

    /// Server-sent events: `opening(index)` per choice, then a chunk per piece of text (`chunk(index, delta,
    /// finish, score)`), then `data: [DONE]`. A client that goes away cancels every choice.
    func stream(_ submissions: [Submission], stops: [String], opening: (@Sendable (Int) -> JSONValue)? = nil,
                chunk: @escaping @Sendable (Int, String, FinishReason?, TokenLogProb?) -> JSONValue) -> Response {
        let served = self.served
        let body = ResponseBody { writer in
            func send(_ value: JSONValue) async throws {
                var bytes = Array("data: ".utf8)
                value.write(into: &bytes)
                bytes += Array("\n\n".utf8)
                try await writer.write(ByteBuffer(bytes: bytes))
            }
            do {
                if let opening { for index in submissions.indices { try await send(opening(index)) } }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let (merged, sink) = AsyncStream.makeStream(of: (Int, GenerationEvent).self)
                    for (index, submission) in submissions.enumerated() {
                        group.addTask {
                            for await event in submission.events { sink.yield((index, event)) }
                        }
                    }
                    var texts = submissions.map { _ in ChoiceText(tokenizer: served.tokenizer, stops: stops) }
                    var open = submissions.count
                    for await (index, event) in merged {
                        switch event {
                        case .prompt: continue
                        case .token(let token, let score, let isStop):
                            guard !texts[index].hitStop else { continue }
                            let delta = texts[index].push(token, score: score, isStop: isStop)
                            if texts[index].hitStop {
                                submissions[index].cancellation.cancel()
                                if !delta.isEmpty { try await send(chunk(index, delta, nil, score)) }
                                try await send(chunk(index, "", .stop, nil))
                                open -= 1
                            } else if !isStop {
                                try await send(chunk(index, delta, nil, score))
                            }
                        case .finished(let reason):
                            guard !texts[index].hitStop else { continue }
                            let rest = texts[index].finish()
                            try await send(chunk(index, rest, reason, nil))
                            open -= 1
                        case .failed(let error):
                            try await send(error.json)
                            open -= 1
                        }
                        if open == 0 { break }
                    }
                    sink.finish()
                    group.cancelAll()
                }
                try await writer.write(ByteBuffer(bytes: Array("data: [DONE]\n\n".utf8)))
                try await writer.finish(nil)
            } catch {
                for submission in submissions { submission.cancellation.cancel() }
                throw error
            }
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}
