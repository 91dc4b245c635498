import Foundation
import LatheFormats
import LatheServe
import Testing

/// Each bad input gets a 4xx with OpenAI's error body, and the server answers the next request.
@Suite(.enabled(if: ServerFixture.modelPresent, "run `make model` to fetch SmolLM2-135M-Instruct"))
struct BadInputTests {
    let server: ServerFixture

    init() async throws { server = try await ServerFixture.shared.value }

    /// Sends `json` to `path`, checks status and error shape, then that the server still serves.
    func expectError(_ path: String, _ json: String, status: Int, type: String? = nil, param: String? = nil,
                     headers: [String: String] = ServerFixture.auth) async throws {
        let response = try await server.request("POST", path, json: json, headers: headers)
        #expect(response.status == status, "\(json.prefix(80)): \(response.text.prefix(200))")
        let error = try server.object(response).required("error")
        #expect(!(try error.required("message").string()).isEmpty)
        if let type { #expect(try error.required("type").string() == type) }
        #expect(try error.optionalString("param") == param, "\(response.text.prefix(200))")
        #expect(try await server.request("GET", "/health", headers: [:]).status == 200)
    }

    @Test func malformedJSON() async throws {
        try await expectError("/v1/completions", #"{"prompt": "hi", "max_tokens": 2"#, status: 400, type: "invalid_request_error")
        try await expectError("/v1/chat/completions", "not json at all", status: 400)
        try await expectError("/v1/completions", "[1, 2]", status: 400)
    }

    @Test func wrongTypes() async throws {
        try await expectError("/v1/completions", #"{"prompt": "hi", "max_tokens": "ten"}"#, status: 400, param: "max_tokens")
        try await expectError("/v1/completions", #"{"prompt": {"text": "hi"}}"#, status: 400, param: "prompt")
        try await expectError("/v1/completions", #"{"prompt": "hi", "temperature": 7}"#, status: 400, param: "temperature")
        try await expectError("/v1/chat/completions", #"{"messages": [{"role": "user", "content": 5}]}"#, status: 400, param: "messages[0].content")
        try await expectError("/v1/chat/completions", #"{"messages": "hello"}"#, status: 400, param: "messages")
        try await expectError("/v1/completions", #"{"prompt": [1, -4]}"#, status: 400, param: "prompt")
        try await expectError("/v1/completions", #"{"prompt": [999999]}"#, status: 400, param: "prompt")
    }

    @Test func unknownModel() async throws {
        try await expectError("/v1/completions", #"{"model": "gamma", "prompt": "hi"}"#, status: 404, type: "not_found_error", param: "model")
    }

    @Test func promptLongerThanTheContext() async throws {
        let ids = Array(repeating: "42", count: 600).joined(separator: ",")   // the fixture's context is 512
        try await expectError("/v1/completions", #"{"prompt": [\#(ids)], "max_tokens": 1}"#, status: 400, param: "prompt")
    }

    @Test func maxTokensTooLarge() async throws {
        try await expectError("/v1/completions", #"{"prompt": "hi", "max_tokens": 100000}"#, status: 400, param: "max_tokens")
        try await expectError("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000}"#,
                        status: 400, param: "max_tokens")
    }

    /// libFuzzer's finding (Fuzz/run.sh serve-request): `max_tokens` Int.max overflowed the prompt + completion sum
    /// and trapped the server. The committed input (endpoint byte `c`, then the body) is replayed here over HTTP.
    @Test func maxTokensIntMaxFinding() async throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz/serve-request/crash-6c3ff596638b4a6c596a9bef595838205b150594")
        let input = try Data(contentsOf: file)
        #expect(input.first == UInt8(ascii: "c"))
        let body = String(decoding: input.dropFirst(), as: UTF8.self)
        #expect(body.contains("9223372036854775807"))
        try await expectError("/v1/completions", body, status: 400, param: "max_tokens")
        try await expectError("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 9223372036854775807}"#,
                              status: 400, param: "max_tokens")
    }

    @Test func moreSequencesThanTheQueueHolds() async throws {
        let prompts = Array(repeating: #""hi""#, count: 33).joined(separator: ", ")   // 33 × n 2 = 66; the fixture queues 64
        try await expectError("/v1/completions", #"{"prompt": [\#(prompts)], "n": 2, "max_tokens": 1}"#, status: 400, param: "prompt")
        let response = try await server.request("POST", "/v1/completions", json: #"{"prompt": [\#(prompts)], "n": 2, "max_tokens": 1}"#)
        let message = try server.object(response).required("error").required("message").string()
        #expect(message.contains("66 sequences") && message.contains("--max-queue"), "\(message)")
    }

    @Test func bodyOverTheSizeLimit() async throws {
        let big = String(repeating: "a", count: 70 << 10)   // the fixture's limit is 64 KiB
        try await expectError("/v1/completions", #"{"prompt": "\#(big)"}"#, status: 413)
        // The message names the limit and the flag that raises it.
        let response = try await server.request("POST", "/v1/completions", json: #"{"prompt": "\#(big)"}"#)
        let message = try server.object(response).required("error").required("message").string()
        #expect(message.contains("\(64 << 10) bytes") && message.contains("--max-body-bytes"), "\(message)")
    }

    @Test func missingOrWrongKey() async throws {
        try await expectError("/v1/completions", #"{"prompt": "hi"}"#, status: 401, type: "authentication_error", headers: [:])
        try await expectError("/v1/completions", #"{"prompt": "hi"}"#, status: 401, headers: ["Authorization": "Bearer sk-tesT"])
        #expect(try await server.request("GET", "/v1/models", headers: [:]).status == 401)
    }
}
