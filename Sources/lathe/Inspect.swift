import ArgumentParser
import LatheModels

/// `lathe inspect PATH`: what a model file or directory holds, without loading its weights.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's architecture, size, storage types and tokenizer (GGUF file or HF directory); for an architecture Lathe cannot run, its metadata and tensor table."
    )

    @Argument(help: "A .gguf file or a Hugging Face model directory (config.json + safetensors).")
    var path: String

    func run() throws {
        let summary = try ModelSummary(path: path)
        let common: [(String, String)] = [
            ("path", summary.path),
            ("format", summary.format.rawValue),
            ("parameters", "\(summary.parameterCount) (\(format(Double(summary.parameterCount) / 1e6)) M)"),
            ("storage types", summary.storageTypes.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")),
            ("tokenizer", summary.tokenizerKind ?? "none found"),
            ("chat template", summary.hasChatTemplate ? "present" : "absent"),
        ]
        guard let c = summary.config else {
            // Not a model Lathe runs: what the file holds, so the user can see what it is.
            let lines = [("architecture", "\(summary.architectureName) (not supported: Lathe cannot load, train or run it)")] + common
            for (key, value) in lines { print("\(key.padding(28)) \(value)") }
            print("reason".padding(28) + " " + (summary.unsupported ?? ""))
            print("\nmetadata (\(summary.metadata.count) keys)")
            let keyWidth = min(summary.metadata.map(\.key.count).max() ?? 0, 48)
            for entry in summary.metadata { print("  \(entry.key.padding(keyWidth)) \(entry.value)") }
            print("\ntensors (\(summary.tensors.count))")
            let nameWidth = min(summary.tensors.map(\.name.count).max() ?? 0, 64)
            for tensor in summary.tensors {
                print("  \(tensor.name.padding(nameWidth)) \(tensor.type.padding(6)) [\(tensor.shape.map(String.init).joined(separator: ", "))]")
            }
            return
        }
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
        ] + common.dropFirst(3)
        for (key, value) in lines { print("\(key.padding(28)) \(value)") }
    }
}
