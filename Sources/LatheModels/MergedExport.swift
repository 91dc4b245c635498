import Foundation
import LatheFormats

/// Writing a base model with an adapter folded in, in the formats serving stacks load.
public enum MergedExport {
    /// An HF directory: `model.safetensors` (HF tensor names, F32 or BF16), `config.json`, and the base's
    /// tokenizer files when it has them (a GGUF base has none: use `writeGGUF` for llama.cpp, or transformers'
    /// `gguf_file=` loading for the tokenizer).
    public static func writeHF(_ weights: LlamaWeights, basePath: String, to directory: String, bf16: Bool = false) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for entry in weights.layout.entries {
            try writer.add(entry.name, shape: entry.shape, values: Array(weights.storage[entry.offset..<(entry.offset + entry.count)]),
                           as: bf16 ? .bf16 : .f32)
        }
        try writer.write(to: (directory as NSString).appendingPathComponent("model.safetensors"))
        let config = try JSONSerialization.data(withJSONObject: weights.config.hfConfigJSON(dtype: bf16 ? "bfloat16" : "float32"),
                                                options: [.prettyPrinted, .sortedKeys])
        try config.write(to: URL(fileURLWithPath: directory).appendingPathComponent("config.json"))
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: basePath, isDirectory: &isDirectory), isDirectory.boolValue {
            for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "generation_config.json"] {
                let source = (basePath as NSString).appendingPathComponent(name)
                let target = (directory as NSString).appendingPathComponent(name)
                guard FileManager.default.fileExists(atPath: source) else { continue }
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.copyItem(atPath: source, toPath: target)
            }
        }
    }

    /// A GGUF that llama.cpp loads: the base GGUF's metadata (architecture, tokenizer, chat template) with every
    /// weight replaced by the merged one, F32 or F16 (1-D tensors stay F32), Q/K rows permuted back as
    /// convert_hf_to_gguf.py lays them out.
    public static func writeGGUF(_ weights: LlamaWeights, baseGGUF: String, to path: String, f16: Bool = false) throws {
        let base = try GGUFFile(path: baseGGUF)
        var writer = GGUFWriter()
        for key in base.metadataKeys where key != GGUFFile.alignmentKey {
            guard let value = base.metadata[key] else { continue }
            try writer.set(key, key == "general.file_type" ? .uint32(f16 ? 1 : 0) : value)
        }
        let config = weights.config
        for name in base.tensorNames where name == "rope_freqs.weight" {
            try writer.addTensor(name, shape: try base.shape(of: name), values: try base.floats(name))
        }
        for entry in weights.layout.entries {
            var values = Array(weights.storage[entry.offset..<(entry.offset + entry.count)])
            if config.architecture == .llama {
                if entry.name.hasSuffix("self_attn.q_proj.weight") {
                    GGUFNames.permuteRows(&values, heads: config.headCount, columns: config.hiddenSize)
                } else if entry.name.hasSuffix("self_attn.k_proj.weight") {
                    GGUFNames.permuteRows(&values, heads: config.keyValueHeadCount, columns: config.hiddenSize)
                }
            }
            try writer.addTensor(GGUFNames.ggufName(forHF: entry.name), shape: entry.shape, values: values,
                                 as: f16 && entry.shape.count == 2 ? .f16 : .f32)
        }
        try writer.write(to: path)
    }
}

extension ModelConfig {
    /// `config.json` for this config, as transformers writes it for the architecture.
    public func hfConfigJSON(dtype: String) -> [String: Any] {
        var json: [String: Any] = [
            "architectures": [architecture.rawValue],
            "model_type": ["LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral", "Qwen2ForCausalLM": "qwen2"][architecture.rawValue]!,
            "hidden_size": hiddenSize, "intermediate_size": intermediateSize, "num_hidden_layers": layerCount,
            "num_attention_heads": headCount, "num_key_value_heads": keyValueHeadCount, "head_dim": headDim,
            "vocab_size": vocabSize, "rms_norm_eps": rmsNormEps, "rope_theta": ropeTheta,
            "tie_word_embeddings": tieWordEmbeddings, "max_position_embeddings": maxPositionEmbeddings,
            "hidden_act": "silu", "torch_dtype": dtype,
        ]
        if architecture == .llama { json["attention_bias"] = attentionBias; json["mlp_bias"] = false }
        if let bos = bosTokenId { json["bos_token_id"] = bos }
        if eosTokenIds.count == 1 { json["eos_token_id"] = eosTokenIds[0] } else if !eosTokenIds.isEmpty { json["eos_token_id"] = eosTokenIds }
        if let s = ropeScaling {
            json["rope_scaling"] = ["rope_type": "llama3", "factor": s.factor, "low_freq_factor": s.lowFreqFactor,
                                    "high_freq_factor": s.highFreqFactor,
                                    "original_max_position_embeddings": s.originalMaxPositionEmbeddings]
        }
        return json
    }
}
