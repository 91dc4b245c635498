import Foundation
import LatheFormats

/// Writing a base model with an adapter folded in, in the formats serving stacks load.
public enum MergedExport {
    /// An HF directory: `model.safetensors` (HF tensor names, F32, F16 or BF16), `config.json`, and the
    /// tokenizer — the base directory's files, or for a GGUF base `tokenizer.json` + `tokenizer_config.json`
    /// (with the chat template) written from the GGUF's tokenizer metadata.
    /// With `adapter` adding tokens, the tokenizer files are written with them (`LoadedModel.tokenizer(for:)`).
    public static func writeHF(_ weights: DecoderWeights, base: LoadedModel, to directory: String, dtype: ExportDType = .f32,
                               adapter: LoRAAdapter? = nil) throws {
        let (storage, torchName): (SafetensorsWriter.OutputType, String)
        switch dtype {
        case .f32: (storage, torchName) = (.f32, "float32")
        case .f16: (storage, torchName) = (.f16, "float16")
        case .bf16: (storage, torchName) = (.bf16, "bfloat16")
        case .q8_0: throw ModelError.invalidInput("q8_0 is a GGUF storage type; write the HF directory as f32, f16 or bf16")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for entry in weights.layout.entries {
            var values = weights.values(of: entry)
            // Gemma's checkpoints store RMSNorm weights as w of (1 + w); the loader folded the 1 in.
            if weights.config.normAddsOne && entry.name.hasSuffix("norm.weight") { for i in values.indices { values[i] -= 1 } }
            try writer.add(entry.name, shape: entry.shape, values: values, as: storage)
        }
        try writer.write(to: (directory as NSString).appendingPathComponent("model.safetensors"))
        // Through JSONValue, not JSONSerialization, which writes 10.0 as 10: transformers' strict config fields
        // (Gemma 3's final_logit_softcapping: float) refuse an integer.
        let config = Data((jsonValue(weights.config.hfConfigJSON(dtype: torchName)).serialized() + "\n").utf8)
        try config.write(to: URL(fileURLWithPath: directory).appendingPathComponent("config.json"), options: .atomic)
        let addsTokens = !(adapter?.tokens?.newTokens.isEmpty ?? true)
        if base.format == .gguf || addsTokens {
            let tokenizer = try base.tokenizer(for: adapter)
            try tokenizer.writeHuggingFace(to: directory, chatTemplate: nil,
                                           modelMaxLength: weights.config.maxPositionEmbeddings)
        }
        if base.format != .gguf {
            let tokenizerFiles = addsTokens ? [] : ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
            for name in tokenizerFiles + ["chat_template.jinja", "generation_config.json"] {
                let source = (base.path as NSString).appendingPathComponent(name)
                let target = (directory as NSString).appendingPathComponent(name)
                guard FileManager.default.fileExists(atPath: source) else { continue }
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.copyItem(atPath: source, toPath: target)
            }
        }
    }

    /// A GGUF that llama.cpp loads: the base GGUF's metadata (architecture, tokenizer, chat template) with every
    /// weight replaced by the merged one as F32, F16, BF16 or Q8_0 (1-D tensors, and Q8_0 rows not a multiple of
    /// 32 wide, stay F32 / F16), Q/K rows permuted back as convert_hf_to_gguf.py lays them out.
    /// `newTokens` (an adapter's added tokens) are appended to `tokenizer.ggml.tokens` as CONTROL tokens.
    public static func writeGGUF(_ weights: DecoderWeights, baseGGUF: String, to path: String, dtype: ExportDType = .f32,
                                 newTokens: [String] = []) throws {
        let base = try GGUFFile(path: baseGGUF)
        // llama.cpp's llama_ftype: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q8_0 7, MOSTLY_BF16 32.
        let (matrixType, fileType): (GGMLType, UInt32)
        switch dtype {
        case .f32: (matrixType, fileType) = (.f32, 0)
        case .f16: (matrixType, fileType) = (.f16, 1)
        case .bf16: (matrixType, fileType) = (.bf16, 32)
        case .q8_0: (matrixType, fileType) = (.q8_0, 7)
        }
        var writer = GGUFWriter()
        for key in base.metadataKeys where key != GGUFFile.alignmentKey {
            guard let value = base.metadata[key] else { continue }
            try writer.set(key, key == "general.file_type" ? .uint32(fileType)
                           : GGUFNames.withNewTokens(key, value, newTokens, vocab: weights.config.vocabSize))
        }
        let config = weights.config
        // RoPE tensors that are not weights: llama3's rope_freqs, Phi-3's LongRoPE factors (convert_hf_to_gguf.py).
        let ropeTensors: Set = ["rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight"]
        for name in base.tensorNames where ropeTensors.contains(name) {
            try writer.addTensor(name, shape: try base.shape(of: name), values: try base.floats(name))
        }
        for entry in weights.layout.entries {
            var values = weights.values(of: entry)
            if config.ggufPermutesRotaryRows {
                if entry.name.hasSuffix("self_attn.q_proj.weight") {
                    GGUFNames.permuteRows(&values, heads: config.headCount, columns: config.hiddenSize)
                } else if entry.name.hasSuffix("self_attn.k_proj.weight") {
                    GGUFNames.permuteRows(&values, heads: config.keyValueHeadCount, columns: config.hiddenSize)
                }
            }
            var type = entry.shape.count == 2 ? matrixType : .f32
            if type == .q8_0 && entry.shape[1] % 32 != 0 { type = .f16 }
            try writer.addTensor(GGUFNames.ggufName(forHF: entry.name, config: config), shape: entry.shape, values: values, as: type)
        }
        try writer.write(to: path)
    }
}

/// A `[String: Any]` tree of JSON values as `JSONValue`, object keys sorted; a Double keeps its fraction ("10.0").
private func jsonValue(_ any: Any) -> JSONValue {
    switch any {
    case let b as Bool where type(of: any) == Bool.self: return .bool(b)
    case let i as Int: return .integer(i)
    case let d as Double: return .double(d)
    case let f as Float: return .double(Double(f))
    case let s as String: return .string(s)
    case let items as [Any]: return .array(items.map(jsonValue))
    case let object as [String: Any]:
        return .object(JSONObject(object.keys.sorted().map { ($0, jsonValue(object[$0]!)) }))
    default: return .null
    }
}

extension ModelConfig {
    /// `config.json` for this config, as transformers writes it for the architecture.
    public func hfConfigJSON(dtype: String) -> [String: Any] {
        var json: [String: Any] = [
            "architectures": [architecture.rawValue],
            "model_type": ["LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral", "Qwen2ForCausalLM": "qwen2",
                           "Qwen3ForCausalLM": "qwen3", "Gemma3ForCausalLM": "gemma3_text", "Phi3ForCausalLM": "phi3"][architecture.rawValue]!,
            "hidden_size": hiddenSize, "intermediate_size": intermediateSize, "num_hidden_layers": layerCount,
            "num_attention_heads": headCount, "num_key_value_heads": keyValueHeadCount, "head_dim": headDim,
            "vocab_size": vocabSize, "rms_norm_eps": rmsNormEps, "rope_theta": ropeTheta,
            "tie_word_embeddings": tieWordEmbeddings, "max_position_embeddings": maxPositionEmbeddings,
            "hidden_act": "silu", "torch_dtype": dtype,
        ]
        if architecture == .llama { json["attention_bias"] = attentionBias; json["mlp_bias"] = false }
        if architecture == .qwen3 { json["attention_bias"] = attentionBias }
        if let longRope {
            json["original_max_position_embeddings"] = longRope.originalMaxPositionEmbeddings
            json["rope_parameters"] = ["rope_type": "longrope", "rope_theta": ropeTheta, "short_factor": longRope.shortFactor,
                                       "long_factor": longRope.longFactor, "attention_factor": longRope.attentionFactor,
                                       "original_max_position_embeddings": longRope.originalMaxPositionEmbeddings,
                                       "partial_rotary_factor": partialRotaryFactor]
            json.removeValue(forKey: "rope_theta")
        } else if partialRotaryFactor != 1 {
            json["partial_rotary_factor"] = partialRotaryFactor
        }
        if architecture == .gemma3 {
            json["model_type"] = "gemma3_text"
            json["hidden_activation"] = activation.rawValue
            json.removeValue(forKey: "hidden_act")
            json.removeValue(forKey: "rope_theta")
            // Gemma3TextConfig types it int (strictly): integral scalars are written as integers.
            json["query_pre_attn_scalar"] = queryPreAttentionScalar.map { $0 == $0.rounded() && abs($0) < 1e9 ? Int($0) as Any : $0 }
            json["final_logit_softcapping"] = finalLogitSoftcap ?? NSNull()
            json["rope_parameters"] = ["full_attention": ["rope_type": "default", "rope_theta": ropeTheta],
                                       "sliding_attention": ["rope_type": "default", "rope_theta": localRopeTheta ?? ropeTheta]]
        }
        if let slidingWindow {
            json["sliding_window"] = slidingWindow
            if architecture == .qwen2 || architecture == .qwen3 { json["use_sliding_window"] = true }
            if slidingLayers != nil { json["layer_types"] = (0..<layerCount).map { attentionWindow(layer: $0) == nil ? "full_attention" : "sliding_attention" } }
        }
        if let bos = bosTokenId { json["bos_token_id"] = bos }
        if let pad = padTokenId { json["pad_token_id"] = pad }
        if eosTokenIds.count == 1 { json["eos_token_id"] = eosTokenIds[0] } else if !eosTokenIds.isEmpty { json["eos_token_id"] = eosTokenIds }
        if let s = ropeScaling {
            json["rope_scaling"] = ["rope_type": "llama3", "factor": s.factor, "low_freq_factor": s.lowFreqFactor,
                                    "high_freq_factor": s.highFreqFactor,
                                    "original_max_position_embeddings": s.originalMaxPositionEmbeddings]
        }
        return json
    }
}
