import ArgumentParser
import LatheModels

/// `lathe inspect PATH`: what a model file or directory holds, without loading its weights.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's architecture, size, storage types and tokenizer (GGUF file or HF directory)."
    )

    @Argument(help: "A .gguf file or a Hugging Face model directory (config.json + safetensors).")
    var path: String

    func run() throws {
        let summary = try ModelSummary(path: path)
        let c = summary.config
        let rope = c.ropeScaling.map { "llama3 (factor \($0.factor))" } ?? "default"
        let lines: [(String, String)] = [
            ("path", summary.path),
            ("format", summary.format.rawValue),
            ("architecture", c.architecture.rawValue),
            ("parameters", "\(summary.parameterCount) (\(format(Double(summary.parameterCount) / 1e6)) M)"),
            ("layers", "\(c.layerCount)"),
            ("width / MLP", "\(c.hiddenSize) / \(c.intermediateSize)"),
            ("heads / kv heads / head dim", "\(c.headCount) / \(c.keyValueHeadCount) / \(c.headDim)"),
            ("vocabulary", "\(c.vocabSize)"),
            ("rope", "theta \(c.ropeTheta), scaling \(rope)"),
            ("tied embeddings", c.tieWordEmbeddings ? "yes" : "no"),
            ("q/k/v bias", c.attentionBias ? "yes" : "no"),
            ("storage types", summary.storageTypes.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")),
            ("tokenizer", summary.tokenizerKind ?? "none found"),
            ("chat template", summary.hasChatTemplate ? "present" : "absent"),
        ]
        for (key, value) in lines { print("\(key.padding(28)) \(value)") }
    }
}
