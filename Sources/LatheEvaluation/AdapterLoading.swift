import Foundation
import LatheModels

extension EvaluationModel {
    /// The model at `path` (GGUF or HF directory) with its own tokenizer, optionally with a PEFT adapter merged in
    /// (merging needs the adapted matrices in fp32, so a base kept quantised is dequantised for it).
    public static func load(path: String, adapter: String? = nil, name: String? = nil,
                            format: BaseFormat = .auto) throws -> EvaluationModel {
        let loaded = try ModelLoader.load(path, format: format)
        var weights = loaded.weights
        let peft = try adapter.map { try PEFTAdapter.read($0, model: loaded.config) }
        if let peft { weights = weights.merged(with: peft) }
        return EvaluationModel(model: DecoderModel(weights: weights, rope: loaded.rope), tokenizer: try loaded.tokenizer(for: peft),
                               name: name ?? (adapter == nil ? "base" : "adapter"))
    }
}
