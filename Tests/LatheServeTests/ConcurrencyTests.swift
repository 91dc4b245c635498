import Foundation
import LatheFormats
import LatheModels
import LatheServe
import Testing

/// Requests decoded together, and clients that go away mid-stream.
@Suite(.enabled(if: ServerFixture.modelPresent, "run `make model` to fetch SmolLM2-135M-Instruct"))
struct ConcurrencyTests {
    let server: ServerFixture

    init() async throws { server = try await ServerFixture.shared.value }

    static func completion(_ server: ServerFixture, model: String, prompt: String) throws -> (text: String, logprobs: [Double?]) {
        let body = #"{"model": "\#(model)", "prompt": "\#(prompt)", "max_tokens": 8, "temperature": 0, "logprobs": 1, "echo": true}"#
        let connection = try LoopbackConnection(port: server.port)
        defer { connection.close() }
        let response = try connection.request("POST", "/v1/completions", body: Array(body.utf8), headers: ServerFixture.auth)
        guard response.status == 200 else { throw LoopbackConnection.Failure(description: response.text) }
        let choice = try server.object(response).required("choices").array()[0]
        let values = try choice.required("logprobs").required("token_logprobs").array().map { $0.value.isNull ? nil : try $0.double() }
        return (try choice.required("text").string(), values)
    }

    @Test func twoAdaptersAtOnceGiveWhatEachGivesAlone() async throws {
        let cases = [("alpha", "Once upon a time"), ("beta", "Once upon a time"), ("alpha", "The weather today"),
                     ("beta", "The weather today"), ("smollm2", "Once upon a time")]
        let server = self.server
        let alone = try await offPool { try cases.map { try Self.completion(server, model: $0.0, prompt: $0.1) } }
        let together = ResultBox<(text: String, logprobs: [Double?])>(count: cases.count)
        try await offPool {
            let group = DispatchGroup()
            for i in cases.indices {
                group.enter()
                Thread {
                    together.set(i, Result { try Self.completion(server, model: cases[i].0, prompt: cases[i].1) })
                    group.leave()
                }.start()
            }
            group.wait()
        }
        for i in cases.indices {
            let result = try together.get(i)
            #expect(result.text == alone[i].text, "\(cases[i])")
            #expect(result.logprobs.count == alone[i].logprobs.count)
            for (a, b) in zip(result.logprobs, alone[i].logprobs) {
                #expect((a == nil) == (b == nil))
                if let a, let b { #expect(abs(a - b) < 1e-3, "\(cases[i]): \(a) vs \(b)") }
            }
        }
        // The same prompt under the two adapters must differ, or the test cannot tell adapters apart.
        #expect(alone[0].logprobs != alone[1].logprobs)
    }

    /// The value of the unlabelled metric `name` in `GET /metrics` of the server on `port` (0 when absent).
    static func metric(_ name: String, port: Int) throws -> Double {
        let connection = try LoopbackConnection(port: port)
        defer { connection.close() }
        let text = try connection.request("GET", "/metrics", headers: ServerFixture.auth).text
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ")[1]) } ?? 0
    }

    /// Polls `condition` every 0.1 s for at most two minutes; false when it never held.
    static func eventually(_ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    @Test func disconnectMidStreamCancelsTheGeneration() async throws {
        let server = self.server
        let (before, after, status, first) = try await offPool {
            let before = try Self.metric("lathe_cancelled_sequences_total", port: server.port)
            let connection = try LoopbackConnection(port: server.port)
            try connection.sendRequest("POST", "/v1/completions",
                                       body: Array(#"{"prompt": "1, 2, 3, 4,", "max_tokens": 400, "temperature": 0, "stream": true}"#.utf8),
                                       headers: ServerFixture.auth)
            let head = try connection.readHead()
            let first = try connection.readChunk().map { String(decoding: $0, as: UTF8.self) } ?? ""
            connection.close()
            var after = before
            _ = try Self.eventually {
                after = try Self.metric("lathe_cancelled_sequences_total", port: server.port)
                return after > before
            }
            return (before, after, head.status, first)
        }
        #expect(status == 200)
        #expect(first.hasPrefix("data: "))
        #expect(after > before, "the server kept generating for a client that had gone")
        #expect(try await server.request("GET", "/health", headers: [:]).status == 200)
    }

    /// A client that hangs up while waiting for a whole (non-streamed) answer: the sequence is dropped long
    /// before `max_tokens`. On a server of its own, so no other test's tokens enter its counters.
    @Test func disconnectDuringANonStreamingRequestCancelsTheGeneration() async throws {
        let loaded = server.loaded
        let served = try ServedModel(model: DecoderModel(weights: loaded.weights, rope: loaded.rope), tokenizer: try loaded.tokenizer(),
                                     adapters: [:], options: ServeOptions(baseName: "solo", maxModelLength: 512,
                                                                          limits: SchedulerLimits(maxBatch: 2, kvCacheTokens: 1024, maxQueue: 4)))
        let (port, task) = try await LatheServer.start(served)
        defer { task.cancel() }
        let maxTokens = 480
        let (started, cancelled, generated, generatedLater, running, reserved) = try await offPool {
            let connection = try LoopbackConnection(port: port)
            try connection.sendRequest("POST", "/v1/completions", body: Array(
                #"{"prompt": "1, 2, 3, 4,", "max_tokens": \#(maxTokens), "temperature": 0, "ignore_eos": true}"#.utf8))
            // Hang up once the sequence is being decoded.
            let started = try Self.eventually { try Self.metric("lathe_generation_tokens_total", port: port) >= 2 }
            connection.close()
            _ = try Self.eventually { try Self.metric("lathe_cancelled_sequences_total", port: port) >= 1 }
            let generated = try Self.metric("lathe_generation_tokens_total", port: port)
            Thread.sleep(forTimeInterval: 1)
            return (started, try Self.metric("lathe_cancelled_sequences_total", port: port), generated,
                    try Self.metric("lathe_generation_tokens_total", port: port), try Self.metric("lathe_running_sequences", port: port),
                    try Self.metric("lathe_kv_cache_reserved_tokens", port: port))
        }
        #expect(started, "the request was never decoded")
        #expect(cancelled == 1, "the server kept generating for a client that had gone")
        #expect(generated < Double(maxTokens))
        #expect(generatedLater == generated, "tokens were still generated after the cancellation")
        #expect(running == 0 && reserved == 0, "the dropped sequence still holds the batch or its KV reservation")
        let health = try await offPool { try LoopbackConnection(port: port).request("GET", "/health") }
        #expect(health.status == 200)
    }
}

/// Results written by concurrent workers.
final class ResultBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<T, Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ result: Result<T, Error>) { lock.withLock { results[i] = result } }
    func get(_ i: Int) throws -> T { try lock.withLock { results[i] }!.get() }
}
