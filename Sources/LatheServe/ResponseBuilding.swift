import Foundation
import LatheFormats
import LatheModels
import LatheTokenizers

/// JSON shapes of OpenAI's responses, built from token ids and scores.
extension ServedModel {
    /// The text one token stands for (special tokens spelled out), as the `tokens` of legacy log-probabilities.
    func tokenText(_ id: Int32) -> String { tokenizer.decode([id]) }

    /// Legacy completions `logprobs`: `{tokens, token_logprobs, top_logprobs, text_offset}` over the echoed prompt
    /// (its first token unscored: null) and the generated tokens. `textStart` is where the first token's text
    /// begins, counted in characters (Unicode scalars, as Python's `len`).
    func legacyLogprobs(prompt: [Int32], promptScores: [TokenLogProb]?, generated: [Int32], scores: [TokenLogProb],
                        textStart: Int) -> JSONValue {
        var tokens = [JSONValue](), values = [JSONValue](), tops = [JSONValue](), offsets = [JSONValue]()
        var offset = textStart
        func add(_ id: Int32, _ score: TokenLogProb?) {
            let text = tokenText(id)
            tokens.append(.string(text))
            offsets.append(.integer(offset))
            offset += text.unicodeScalars.count
            guard let score else { values.append(.null); tops.append(.null); return }
            values.append(.double(score.logProb))
            var top = JSONObject()
            for (token, logProb) in score.top where top[tokenText(token)] == nil { top[tokenText(token)] = .double(logProb) }
            // The scored token is listed too (as vLLM does), so a client can compare it with the best.
            if top[text] == nil { top[text] = .double(score.logProb) }
            tops.append(.object(top))
        }
        if let promptScores {
            for (i, id) in prompt.enumerated() { add(id, i == 0 ? nil : promptScores[i - 1]) }
        }
        for (i, id) in generated.enumerated() { add(id, i < scores.count ? scores[i] : nil) }
        return .object(JSONObject([("tokens", .array(tokens)), ("token_logprobs", .array(values)),
                                   ("top_logprobs", .array(tops)), ("text_offset", .array(offsets))]))
    }

    /// Chat `logprobs.content` entries: `{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}`.
    func chatLogprobs(_ tokens: [Int32], _ scores: [TokenLogProb]) -> JSONValue {
        func entry(_ id: Int32, _ logProb: Double) -> [(String, JSONValue)] {
            let text = tokenText(id)
            return [("token", .string(text)), ("logprob", .double(logProb)),
                    ("bytes", .array(Array(text.utf8).map { .integer(Int($0)) }))]
        }
        let content: [JSONValue] = zip(tokens, scores).map { id, score in
            .object(JSONObject(entry(id, score.logProb) + [("top_logprobs", .array(score.top.map {
                .object(JSONObject(entry($0.token, $0.logProb)))
            }))]))
        }
        return .object(JSONObject([("content", .array(content))]))
    }

    /// `usage`: prompt, completion and total tokens.
    func usage(prompt: Int, completion: Int) -> JSONValue {
        .object(JSONObject([("prompt_tokens", .integer(prompt)), ("completion_tokens", .integer(completion)),
                            ("total_tokens", .integer(prompt + completion))]))
    }

    /// The envelope of a response or stream chunk: `{id, object, created, model, choices[, usage]}`.
    func envelope(id: String, object: String, model: String, choices: [JSONValue], usage: JSONValue? = nil) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("id", .string(id)), ("object", .string(object)),
                                            ("created", .integer(Int(Date().timeIntervalSince1970))),
                                            ("model", .string(model)), ("choices", .array(choices))]
        if let usage { pairs.append(("usage", usage)) }
        return .object(JSONObject(pairs))
    }

    /// `GET /v1/models`: the base, then each adapter with the base as its parent.
    func modelList() -> JSONValue {
        let entries: [JSONValue] = modelNames.enumerated().map { i, name in
            .object(JSONObject([("id", .string(name)), ("object", .string("model")), ("created", .integer(created)),
                                ("owned_by", .string("lathe")), ("root", .string(options.baseName)),
                                ("parent", i == 0 ? .null : .string(options.baseName)),
                                ("max_model_len", .integer(options.maxModelLength))]))
        }
        return .object(JSONObject([("object", .string("list")), ("data", .array(entries))]))
    }

    /// `GET /tokenizer_info`: the special tokens and the chat template, as vLLM reports them for lm-eval.
    func tokenizerInfo() -> JSONValue {
        let config = tokenizer.config
        func text(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object(JSONObject([
            ("tokenizer_class", .string("PreTrainedTokenizerFast")), ("eos_token", text(config.eosToken)),
            ("bos_token", text(config.bosToken)), ("pad_token", text(config.padToken)), ("unk_token", text(config.unkToken)),
            ("chat_template", text(config.chatTemplate)), ("model_max_length", .integer(options.maxModelLength)),
            ("add_bos_token", config.addBosToken.map(JSONValue.bool) ?? .null),
            ("vocab_size", .integer(tokenizer.vocabularySize)),
        ]))
    }
}

/// A fresh response id such as `cmpl-3f9a…`.
func responseID(_ prefix: String) -> String {
    prefix + "-" + String((0..<24).map { _ in "0123456789abcdef".randomElement()! })
}
