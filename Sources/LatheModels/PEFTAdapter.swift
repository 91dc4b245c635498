import Foundation
import LatheFormats
import LatheTensors

/// Reading and writing LoRA adapters as PEFT directories: `adapter_config.json` + `adapter_model.safetensors`
/// with names like `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`, A (r, in), B (out, r).
/// That is what `peft.PeftModel.from_pretrained` and vLLM load.
public enum PEFTAdapter {
    /// Writes `adapter` for a base model into `directory` (created if needed; files replaced atomically).
    public static func write(_ adapter: LoRAAdapter, baseModel: String, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for tensor in adapter.layout.tensors {
            try writer.add(tensor.name, shape: tensor.shape, values: Array(adapter.parameters[tensor.range]), as: .f32)
        }
        try addTokenTables(adapter, to: &writer)
        try writer.write(to: (directory as NSString).appendingPathComponent("adapter_model.safetensors"))
        var config: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": adapter.config.rank,
            "lora_alpha": adapter.config.alpha, "lora_dropout": adapter.config.dropout,
            "target_modules": adapter.layout.targets.map(\.rawValue), "use_rslora": adapter.config.useRSLoRA,
            "bias": "none", "fan_in_fan_out": false, "init_lora_weights": true, "inference_mode": true,
            "base_model_name_or_path": baseModel, "modules_to_save": NSNull(), "use_dora": adapter.config.useDoRA,
        ]
        if let layers = adapter.config.layers { config["layers_to_transform"] = layers }
        addTokenSettings(adapter, to: &config)
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: directory).appendingPathComponent("adapter_config.json"), options: .atomic)
        try writeAddedTokens(adapter, to: directory)
    }

    /// Reads a PEFT LoRA or DoRA directory for a model of `model` shape. Unsupported options (`modules_to_save` other
    /// than the embedding and LM head, bias training, per-module ranks) are refused with the key that asks for them.
    /// Trained token rows (`trainable_token_indices`, `modules_to_save`) come with `added_tokens.json`.
    public static func read(_ directory: String, model: ModelConfig) throws -> LoRAAdapter {
        let configPath = (directory as NSString).appendingPathComponent("adapter_config.json")
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw ModelError.notAModel(path: directory, message: "no adapter_config.json; expected a PEFT adapter directory")
        }
        let lora: LoRAConfig, json: JSONNode
        do {
            json = try JSONNode.read(file: configPath, maxBytes: 16 << 20)
            lora = try loraConfig(json)
        } catch let error as JSONFileError {
            let key = error.path == "$" ? "(file)" : String(error.path.dropFirst(2))
            throw ModelError.invalidConfig(file: configPath, key: key, message: error.message)
        }
        let layout = try LoRALayout(lora: lora, model: model)
        let weightsPath = (directory as NSString).appendingPathComponent("adapter_model.safetensors")
        let file = try SafetensorsFile(path: weightsPath)
        var parameters = [Float](repeating: 0, count: layout.totalCount)
        for (name, shape, range) in layout.tensors {
            guard file.contains(name) else { throw ModelError.missingTensor(file: weightsPath, name: name) }
            let found = try file.shape(of: name)
            guard found == shape else { throw ModelError.shapeMismatch(file: weightsPath, name: name, expected: shape, found: found) }
            parameters.replaceSubrange(range, with: try file.floats(name))
        }
        guard let (tokens, values) = try readTokenTables(directory, config: json, file: file, model: model,
                                                         offset: layout.totalCount) else {
            return LoRAAdapter(config: lora, layout: layout, parameters: parameters)
        }
        return LoRAAdapter(config: lora, layout: layout, tokens: tokens, parameters: parameters + values)
    }

    /// The LoRA settings of a parsed `adapter_config.json`; options Lathe cannot apply are refused naming their key.
    private static func loraConfig(_ json: JSONNode) throws -> LoRAConfig {
        func fail(_ key: String, _ message: String) -> JSONFileError {
            JSONFileError(file: json.file, path: "$." + key, message: message)
        }
        guard try json.optionalString("peft_type")?.uppercased() == "LORA" else { throw fail("peft_type", "only LORA adapters are supported") }
        let rank = try json.required("r").int()
        let alpha = try json.required("lora_alpha").double()
        if let bias = try json.optionalString("bias"), bias != "none" { throw fail("bias", "trained biases are not supported") }
        if let pattern = try json.optional("rank_pattern"), !(try pattern.members().isEmpty) {
            throw fail("rank_pattern", "per-module ranks are not supported")
        }
        guard let targets = try json.optional("target_modules") else {
            throw fail("target_modules", "must be a list of module names or \"all-linear\"")
        }
        return LoRAConfig(rank: rank, alpha: alpha, dropout: try json.optionalDouble("lora_dropout") ?? 0,
                          useRSLoRA: try json.optionalBool("use_rslora") ?? false,
                          targets: try LoRAConfig.modules(named: targets.strings()),
                          layers: try json.optional("layers_to_transform")?.array().map { try $0.int() },
                          useDoRA: try json.optionalBool("use_dora") ?? false)
    }
}

extension DecoderWeights {
    /// The base weights with `adapter` folded in: `W += scale · B·A` for every adapted projection (PEFT `merge`),
    /// the vocabulary resized and the trained token rows written in (`withTokenRows`), then with DoRA each row scaled
    /// to its magnitude, `W' = m / ‖W + s·B·A‖ ⊙ (W + s·B·A)`; in fp32 (a base kept quantised is dequantised first).
    public func merged(with adapter: LoRAAdapter) -> DecoderWeights {
        var result = densified().withTokenRows(adapter)
        let layout = result.layout
        let r = adapter.config.rank, scale = adapter.config.scale
        result.storage.withUnsafeMutableBufferPointer { w in
            adapter.parameters.withUnsafeBufferPointer { p in
                for entry in adapter.layout.entries {
                    // A fused weight starts at its first part: qkv_proj at q's rows, gate_up_proj at gate's.
                    let offset = layout.layers[entry.layer].offset(of: entry.module)
                    // W (out, in) += scale · B (out, r) · A (r, in)
                    matmul(p.baseAddress! + entry.b, .none, p.baseAddress! + entry.a, .none, w.baseAddress! + offset,
                           m: entry.outFeatures, n: entry.inFeatures, k: r, alpha: scale, beta: 1)
                    if let m = entry.magnitude {
                        Self.scaleDoRARows(w.baseAddress! + offset, magnitude: p.baseAddress! + m,
                                           rows: entry.outFeatures, columns: entry.inFeatures)
                    }
                }
            }
        }
        return result
    }
}
