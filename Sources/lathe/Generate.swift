import ArgumentParser
import Foundation
import LatheModels
import LatheTokenizers

/// `lathe generate`: text from a base model, optionally with a LoRA adapter, streamed as it is produced.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text with a model (and optionally a PEFT LoRA adapter), streaming tokens as they come."
    )

    @Option(help: "A .gguf file or a Hugging Face model directory.") var model: String
    @Option(help: "A PEFT adapter directory (adapter_config.json + adapter_model.safetensors) to apply.") var adapter: String?
    @Option(help: "The prompt text.") var prompt: String
    @Flag(help: "Wrap the prompt as a user message in the model's chat template.") var chat = false
    @Option(help: "System message for --chat (default: the template's own).") var system: String?
    @Option(help: "Most tokens to generate.") var maxTokens = 256
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(help: "Keep only the k most likely tokens (0: all).") var topK = 0
    @Option(help: "Nucleus sampling: keep tokens up to this cumulative probability.") var topP: Float = 1
    @Option(help: "Penalise tokens already present (transformers' repetition_penalty).") var repetitionPenalty: Float = 1
    @Option(help: "Seed for sampling.") var seed: UInt64 = 0
    @Option(name: .customLong("stop"), help: "Stop when this text appears (repeatable).") var stopStrings: [String] = []
    @OptionGroup var threads: ThreadOptions
    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past the end-of-sequence token (to compare a fixed number of tokens with another runtime).")
    var ignoreEOS = false
    @OptionGroup var base: BaseFormatOption
    @OptionGroup var decode: DecodeActivationsOption
    @Flag(help: "Print one JSON object (prompt and generated token ids, text, stop reason) instead of streaming text.")
    var json = false

    func validate() throws {
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard temperature >= 0 else { throw ValidationError("--temperature must not be negative") }
        guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard repetitionPenalty > 0 else { throw ValidationError("--repetition-penalty must be positive") }
    }

    func run() throws {
        threads.configure()
        let loaded = try ModelLoader.load(model, format: base.format)
        var weights = loaded.weights
        let peft = try adapter.map { try PEFTAdapter.read($0, model: loaded.config) }
        if let peft { weights = weights.merged(with: peft) }
        weights.decodeActivations = decode.activations
        let llama = DecoderModel(weights: weights, rope: loaded.rope)
        let tokenizer = try loaded.tokenizer(for: peft)
        var text = prompt
        if chat {
            guard let template = try tokenizer.chatTemplate() else {
                throw ValidationError("\(model) has no chat template; drop --chat or use a model that ships one")
            }
            var messages: [ChatMessage] = []
            if let system { messages.append(ChatMessage(role: "system", content: system)) }
            messages.append(ChatMessage(role: "user", content: prompt))
            text = try template.renderText(messages, addGenerationPrompt: true)
        }
        // The template already holds the special tokens it wants; plain prompts get the tokenizer's own (e.g. BOS).
        let ids = tokenizer.encode(text, addSpecialTokens: !chat, allowSpecial: chat)
        var stops = Set(loaded.config.eosTokenIds.map(Int32.init))
        if let eos = tokenizer.eosTokenId { stops.insert(eos) }
        if ignoreEOS { stops = [] }
        let generator = Generator(model: llama, parameters: SamplingParameters(
            temperature: temperature, topK: topK, topP: topP, repetitionPenalty: repetitionPenalty, seed: seed),
            maxTokens: maxTokens, stopTokens: stops, stopStrings: stopStrings)
        var stream = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: true)
        let output = FileHandle.standardOutput
        let result = try generator.generate(prompt: ids, decode: { tokenizer.decode($0, skipSpecialTokens: true) }) { token in
            if !json { output.write(Data(stream.push(token).utf8)) }
        }
        if json {
            let object: [String: Any] = ["prompt_ids": ids.map(Int.init), "ids": result.tokens.map(Int.init),
                                         "text": tokenizer.decode(result.tokens, skipSpecialTokens: true),
                                         "stop": result.reason.rawValue]
            output.write(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) + Data("\n".utf8))
        } else {
            output.write(Data((stream.finish() + "\n").utf8))
        }
    }
}
