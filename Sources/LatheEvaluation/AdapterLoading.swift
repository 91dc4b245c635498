import Foundation
import LatheFormats
import LatheModels

/// Reads a PEFT LoRA directory (`adapter_config.json` + `adapter_model.safetensors`) for evaluation.
enum AdapterLoading {
    static func read(_ directory: String, model: ModelConfig) throws -> LoRAAdapter {
        let configPath = (directory as NSString).appendingPathComponent("adapter_config.json")
        func fail(_ key: String, _ message: String) -> EvaluationError { .invalidTask(file: configPath, key: key, message: message) }
        guard let data = FileManager.default.contents(atPath: configPath),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw fail("-", "no readable adapter_config.json; --adapter expects a PEFT LoRA directory")
        }
        guard (json["peft_type"] as? String)?.uppercased() == "LORA" else { throw fail("peft_type", "only LORA adapters are supported") }
        guard let rank = json["r"] as? Int, let alpha = (json["lora_alpha"] as? NSNumber)?.doubleValue else {
            throw fail("r", "r and lora_alpha must be numbers")
        }
        if json["use_dora"] as? Bool == true { throw fail("use_dora", "DoRA adapters are not supported") }
        let names = (json["target_modules"] as? [String]) ?? (json["target_modules"] as? String).map { [$0] } ?? []
        let lora = LoRAConfig(rank: rank, alpha: alpha, useRSLoRA: json["use_rslora"] as? Bool ?? false,
                              targets: try LoRAConfig.modules(named: names), layers: json["layers_to_transform"] as? [Int])
        let layout = try LoRALayout(lora: lora, model: model)
        let file = try SafetensorsFile(path: (directory as NSString).appendingPathComponent("adapter_model.safetensors"))
        var parameters = [Float](repeating: 0, count: layout.totalCount)
        for entry in layout.entries {
            for (matrix, offset, shape) in [("A", entry.a, [rank, entry.inFeatures]), ("B", entry.b, [entry.outFeatures, rank])] {
                let name = entry.peftName(matrix)
                guard try file.shape(of: name) == shape else { throw fail(name, "expected shape \(shape)") }
                parameters.replaceSubrange(offset..<offset + shape[0] * shape[1], with: try file.floats(name))
            }
        }
        return LoRAAdapter(config: lora, layout: layout, parameters: parameters)
    }
}

extension EvaluationModel {
    /// The model at `path` (GGUF or HF directory) with its own tokenizer, optionally with a PEFT adapter merged in.
    public static func load(path: String, adapter: String? = nil, name: String? = nil) throws -> EvaluationModel {
        let loaded = try ModelLoader.load(path)
        var weights = loaded.weights
        if let adapter { weights = weights.addingLoRA(try AdapterLoading.read(adapter, model: loaded.config)) }
        return EvaluationModel(model: LlamaModel(weights: weights, rope: loaded.rope), tokenizer: try tokenizer(for: loaded),
                               name: name ?? (adapter == nil ? "base" : "adapter"))
    }
}
