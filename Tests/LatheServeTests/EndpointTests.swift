import Foundation
import LatheFormats
import LatheModels
import LatheServe
import Testing

/// Every endpoint of `lathe serve` over a real loopback socket, on SmolLM2-135M-Instruct.
@Suite(.enabled(if: ServerFixture.modelPresent, "run `make model` to fetch SmolLM2-135M-Instruct"))
struct EndpointTests {
    let server: ServerFixture

    init() async throws { server = try await ServerFixture.shared.value }

    @Test func healthNeedsNoKey() async throws {
        let response = try await server.request("GET", "/health", headers: [:])
        #expect(response.status == 200)
        #expect(try server.object(response).required("status").string() == "ok")
    }

    @Test func modelsListTheBaseAndEachAdapter() async throws {
        let data = try server.object(try await server.request("GET", "/v1/models")).required("data").array()
        #expect(try data.map { try $0.required("id").string() } == ["smollm2", "alpha", "beta"])
        #expect(try data[1].required("parent").string() == "smollm2")
    }

    @Test func tokenizerInfoAndTokenizeServeLmEval() async throws {
        let info = try server.object(try await server.request("GET", "/tokenizer_info"))
        #expect(try info.required("eos_token").string() == "<|im_end|>")
        #expect(try info.required("chat_template").string().contains("im_start"))
        let tokens = try server.object(try await server.request("POST", "/tokenize", json: #"{"prompt": "test", "add_special_tokens": false}"#))
        let ids = try tokens.required("tokens").array().map { try $0.int() }
        #expect(ids.map(Int32.init) == (try server.loaded.tokenizer().encode("test")))
        let text = try server.object(try await server.request("POST", "/detokenize", json: #"{"tokens": \#(ids)}"#))
        #expect(try text.required("prompt").string() == "test")
    }

    @Test func echoReturnsPromptLogprobsInTheLegacyShape() async throws {
        let prompt = try server.loaded.tokenizer().encode("The capital of France is Paris")
        let body = #"{"model": "smollm2", "prompt": [\#(prompt.map(String.init).joined(separator: ","))], "max_tokens": 1, "temperature": 0, "logprobs": 1, "echo": true}"#
        let response = try await server.request("POST", "/v1/completions", json: body)
        #expect(response.status == 200)
        let choice = try server.object(response).required("choices").array()[0]
        #expect(try choice.required("index").int() == 0)
        let logprobs = try choice.required("logprobs")
        let values = try logprobs.required("token_logprobs").array()
        #expect(values.count == prompt.count + 1)
        #expect(values[0].value.isNull)
        #expect(try logprobs.required("top_logprobs").array()[0].value.isNull)
        #expect(try logprobs.required("text_offset").array()[0].int() == 0)
        #expect(try logprobs.required("tokens").array().count == prompt.count + 1)
        // Each echoed prompt token's log-probability is what scoring the prompt in-process gives.
        let reference = server.reference(adapter: nil)
        for i in 1..<prompt.count {
            let score = try reference.scoreContinuations([(Array(prompt[..<i]), [prompt[i]])], maxLength: 64)[0].logLikelihood
            #expect(abs(try values[i].double() - score) < 1e-4, "token \(i)")
        }
    }

    @Test(arguments: ["alpha", "beta"]) func adapterByNameMatchesTheMergedAdapter(name: String) async throws {
        let prompt = try server.loaded.tokenizer().encode("The capital of France is Paris")
        let body = #"{"model": "\#(name)", "prompt": [[\#(prompt.map(String.init).joined(separator: ","))]], "max_tokens": 1, "temperature": 0, "logprobs": 1, "echo": true}"#
        let choice = try server.object(try await server.request("POST", "/v1/completions", json: body)).required("choices").array()[0]
        let values = try choice.required("logprobs").required("token_logprobs").array()
        let merged = server.reference(adapter: name), base = server.reference(adapter: nil)
        let pairs = (1..<prompt.count).map { (Array(prompt[..<$0]), [prompt[$0]]) }
        let adapted = try merged.scoreContinuations(pairs, maxLength: 64), plain = try base.scoreContinuations(pairs, maxLength: 64)
        var differs = false
        for i in 1..<prompt.count {
            #expect(abs(try values[i].double() - adapted[i - 1].logLikelihood) < 1e-4, "token \(i)")
            if abs(adapted[i - 1].logLikelihood - plain[i - 1].logLikelihood) > 1e-3 { differs = true }
        }
        #expect(differs, "the test adapter must change the scores, or the check proves nothing")
    }

    @Test func completionPromptsAndChoicesAreIndexed() async throws {
        let body = #"{"prompt": ["One, two,", "A, B,"], "max_tokens": 3, "temperature": 0, "n": 2}"#
        let object = try server.object(try await server.request("POST", "/v1/completions", json: body))
        let choices = try object.required("choices").array()
        #expect(try choices.map { try $0.required("index").int() } == [0, 1, 2, 3])
        // Greedy: both choices of one prompt agree.
        #expect(try choices[0].required("text").string() == choices[1].required("text").string())
        #expect(try object.required("usage").required("completion_tokens").int() <= 12)
    }

    @Test func stopStringEndsTheText() async throws {
        let body = #"{"prompt": "1, 2, 3, 4,", "max_tokens": 20, "temperature": 0, "stop": [", 7"]}"#
        let choice = try server.object(try await server.request("POST", "/v1/completions", json: body)).required("choices").array()[0]
        let text = try choice.required("text").string()
        #expect(text == " 5, 6", "got \(text)")
        #expect(try choice.required("finish_reason").string() == "stop")
    }

    @Test func chatAnswersWithTheTemplate() async throws {
        let body = #"{"model": "smollm2", "messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 16, "temperature": 0, "logprobs": true, "top_logprobs": 2}"#
        let object = try server.object(try await server.request("POST", "/v1/chat/completions", json: body))
        let choice = try object.required("choices").array()[0]
        #expect(try choice.required("message").required("content").string().contains("Paris"))
        let content = try choice.required("logprobs").required("content").array()
        #expect(try content[0].required("top_logprobs").array().count == 2)
        #expect(try content[0].required("logprob").double() <= 0)
    }

    @Test func streamedChatIsTheSameText() async throws {
        let messages = #"[{"role": "user", "content": "Name three colours."}]"#
        let plain = try server.object(try await server.request("POST", "/v1/chat/completions",
                                                         json: #"{"messages": \#(messages), "max_tokens": 24, "temperature": 0}"#))
        let expected = try plain.required("choices").array()[0].required("message").required("content").string()
        let response = try await server.request("POST", "/v1/chat/completions",
                                                json: #"{"messages": \#(messages), "max_tokens": 24, "temperature": 0, "stream": true}"#)
        #expect(response.headers["content-type"] == "text/event-stream")
        let events = response.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.last == "data: [DONE]")
        var text = "", finish: String?
        for event in events.dropLast() {
            let chunk = try JSONNode.parse(Array(event.dropFirst("data: ".count).utf8), file: "chunk")
            let choice = try chunk.required("choices").array()[0]
            text += try choice.required("delta").optionalString("content") ?? ""
            finish = try choice.optionalString("finish_reason") ?? finish
        }
        #expect(text == expected)
        #expect(finish != nil)
    }

    @Test func metricsAreInPrometheusText() async throws {
        _ = try await server.request("GET", "/health", headers: [:])
        let response = try await server.request("GET", "/metrics")
        #expect(response.status == 200)
        for name in ["lathe_requests_total", "lathe_queue_depth", "lathe_request_duration_seconds_bucket", "lathe_generation_tokens_total"] {
            #expect(response.text.contains(name), "\(name) missing")
        }
        // Names are whole (no unit appended twice), each with its help line and type.
        #expect(response.text.contains("# HELP lathe_requests_total HTTP requests answered\n# TYPE lathe_requests_total counter"))
        #expect(response.text.contains("lathe_requests_total{endpoint=\"health\",status=\"200\"} "), "\(response.text)")
        #expect(response.text.contains("# TYPE lathe_queue_depth gauge"))
    }
}
