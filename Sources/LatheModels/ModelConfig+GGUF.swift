import LatheFormats
import LatheTensors

extension ModelConfig {
    /// The config of a model GGUF: its metadata (`init(ggufMetadata:…)`) and, for Phi-3's LongRoPE, the scaling
    /// factors `convert_hf_to_gguf.py` stores as tensors. Every reader of a GGUF's shape goes through here.
    public init(gguf file: GGUFFile, file path: String) throws {
        let names = Set(file.tensorNames)
        try self.init(ggufMetadata: file.metadata, tensorNames: names, file: path)
        if names.contains("rope_factors_long.weight") && names.contains("rope_factors_short.weight") {
            // convert_hf_to_gguf.py (Phi3MiniModel) stores LongRoPE's factors as tensors.
            let original = file.metadata["\(ggufArchitecture).rope.scaling.original_context_length"]?.int
                ?? maxPositionEmbeddings
            longRope = LongRopeScaling(
                shortFactor: try file.floats("rope_factors_short.weight").map(Double.init),
                longFactor: try file.floats("rope_factors_long.weight").map(Double.init),
                originalMaxPositionEmbeddings: original, maxPositionEmbeddings: maxPositionEmbeddings,
                attentionFactor: file.metadata["\(ggufArchitecture).rope.scaling.attn_factor"]?.double)
            try validate(file: path)
        }
    }

    /// Maps GGUF `llama.*` / `qwen2.*` / `qwen3.*` metadata to the config `config.json` would give, as llama.cpp's
    /// `convert_hf_to_gguf.py` wrote it. `tensorNames` tells whether the LM head is tied (no `output.weight`).
    public init(ggufMetadata metadata: [String: GGUFValue], tensorNames: Set<String>, file: String) throws {
        guard let arch = metadata["general.architecture"]?.string else {
            throw ModelError.invalidConfig(file: file, key: "general.architecture", message: "missing; not a model GGUF")
        }
        let architecture: Architecture
        switch arch {
        case "llama": architecture = .llama
        case "qwen2": architecture = .qwen2
        case "qwen3": architecture = .qwen3
        case "gemma3": architecture = .gemma3
        case "phi3": architecture = .phi3
        default: throw ModelError.unsupportedArchitecture(file: file, name: arch)
        }
        func int(_ key: String) throws -> Int {
            guard let value = metadata["\(arch).\(key)"] else {
                throw ModelError.invalidConfig(file: file, key: "\(arch).\(key)", message: "missing")
            }
            guard let number = value.int else {
                throw ModelError.invalidConfig(file: file, key: "\(arch).\(key)", message: "must be an integer")
            }
            return number
        }
        func double(_ key: String, default fallback: Double) throws -> Double {
            guard let value = metadata["\(arch).\(key)"] else { return fallback }
            guard let number = value.double else {
                throw ModelError.invalidConfig(file: file, key: "\(arch).\(key)", message: "must be a number")
            }
            return number
        }
        let width = try int("embedding_length")
        let heads = try int("attention.head_count")
        let kvHeads = metadata["\(arch).attention.head_count_kv"] == nil ? heads : try int("attention.head_count_kv")
        let headDim = metadata["\(arch).attention.key_length"] == nil ? nil : try int("attention.key_length")
        let vocab: Int
        if metadata["\(arch).vocab_size"] != nil {
            vocab = try int("vocab_size")
        } else if let tokens = metadata["tokenizer.ggml.tokens"]?.array {
            vocab = tokens.count
        } else {
            throw ModelError.invalidConfig(file: file, key: "\(arch).vocab_size", message: "missing, and no tokenizer.ggml.tokens to count")
        }
        let layers = try int("block_count")
        /// The head dimension the file gives, or the width over the heads (0 for no heads, which `validate` refuses).
        func derivedHeadDim(headDim: Int?) -> Int { headDim ?? (heads > 0 ? width / heads : 0) }
        // Phi-3's converter writes a window of 0 for "none".
        let window = metadata["\(arch).attention.sliding_window"] == nil ? nil : try int("attention.sliding_window")
        let rotary = metadata["\(arch).rope.dimension_count"] == nil ? nil : try int("rope.dimension_count")
        var slidingLayers: [Bool]?
        var queryScalar: Double?
        if architecture == .gemma3 {
            // llama.cpp (llama-model.cpp, LLM_ARCH_GEMMA3): every 6th layer global unless the file lists the
            // pattern; the local layers' RoPE base is 10000; scores scale by 1/√key_length (27B: 1/√(C/H)).
            if let pattern = metadata["gemma3.attention.sliding_window_pattern"]?.array {
                slidingLayers = pattern.map { $0.bool ?? false }
            } else {
                slidingLayers = Self.layerIndices(layers).map { ($0 + 1) % 6 != 0 }
            }
            queryScalar = Double(layers == 62 ? derivedHeadDim(headDim: nil) : derivedHeadDim(headDim: headDim))
        }
        var eos: [Int] = []
        if let id = metadata["tokenizer.ggml.eos_token_id"]?.int { eos.append(id) }
        if let id = metadata["tokenizer.ggml.eot_token_id"]?.int, !eos.contains(id) { eos.append(id) }
        self.init(architecture: architecture, hiddenSize: width, intermediateSize: try int("feed_forward_length"),
                  layerCount: layers, headCount: heads, keyValueHeadCount: kvHeads, headDim: headDim,
                  vocabSize: vocab, rmsNormEps: try double("attention.layer_norm_rms_epsilon", default: 1e-5),
                  ropeTheta: try double("rope.freq_base", default: 10000), ropeScaling: nil,
                  tieWordEmbeddings: !tensorNames.contains("output.weight"),
                  attentionBias: architecture == .qwen2,
                  // convert_hf_to_gguf.py writes no window for Llama/Mistral (llama.cpp then runs full attention);
                  // a file that carries one gets it.
                  slidingWindow: window == 0 ? nil : window, slidingLayers: slidingLayers, queryPreAttentionScalar: queryScalar,
                  localRopeTheta: architecture == .gemma3 ? try double("rope.freq_base_swa", default: 10000) : nil,
                  finalLogitSoftcap: metadata["\(arch).final_logit_softcapping"] == nil ? nil
                      : try double("final_logit_softcapping", default: 0),
                  partialRotaryFactor: rotary.map { Double($0) / Double(derivedHeadDim(headDim: headDim)) } ?? 1,
                  maxPositionEmbeddings: try int("context_length"),
                  bosTokenId: metadata["tokenizer.ggml.bos_token_id"]?.int, eosTokenIds: eos)
        padTokenId = metadata["tokenizer.ggml.padding_token_id"]?.int
        try validate(file: file)
    }
}

/// GGUF tensor names (llama.cpp's) for the HF names in `WeightLayout`.
enum GGUFNames {
    static func ggufName(forHF name: String, config: ModelConfig) -> String {
        switch name {
        case "model.embed_tokens.weight": return "token_embd.weight"
        case "model.norm.weight": return "output_norm.weight"
        case "lm_head.weight": return "output.weight"
        default: break
        }
        // model.layers.N.<module>
        let parts = name.split(separator: ".", maxSplits: 3).map(String.init)
        guard parts.count == 4, parts[0] == "model", parts[1] == "layers" else { return name }
        let block = "blk.\(parts[2])."
        let table: [String: String] = [
            "input_layernorm.weight": "attn_norm.weight",
            "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
            "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
            "self_attn.q_proj.bias": "attn_q.bias", "self_attn.k_proj.bias": "attn_k.bias",
            "self_attn.v_proj.bias": "attn_v.bias",
            "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight",
            // Llama's norm before the MLP is `post_attention_layernorm`; Gemma's is `pre_feedforward_layernorm`.
            "post_attention_layernorm.weight": config.sandwichNorms ? "post_attention_norm.weight" : "ffn_norm.weight",
            "pre_feedforward_layernorm.weight": "ffn_norm.weight", "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
            "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
            "mlp.down_proj.weight": "ffn_down.weight",
            "self_attn.qkv_proj.weight": "attn_qkv.weight", "mlp.gate_up_proj.weight": "ffn_up.weight",
        ]
        return table[parts[3]].map { block + $0 } ?? name
    }

    /// The GGUF row holding each HF row of a (heads·D, ·) Q or K weight: `LlamaModel.permute` of convert_hf_to_gguf.py
    /// sends HF row half·D/2 + j of each head to GGUF row 2j + half.
    static func ggufRowOrder(rows: Int, heads: Int) -> [Int] {
        let rowsPerHead = rows / heads
        let half = rowsPerHead / 2
        var order = [Int](repeating: 0, count: rows)
        for h in 0..<heads {
            for j in 0..<half {
                for part in 0..<2 { order[h * rowsPerHead + part * half + j] = h * rowsPerHead + 2 * j + part }
            }
        }
        return order
    }

    /// Applies `LlamaModel.permute` to a (heads·D, columns) weight, as the converter writes it to a GGUF.
    static func permuteRows(_ values: inout [Float], heads: Int, columns: Int) {
        let original = values
        for (hfRow, ggufRow) in ggufRowOrder(rows: values.count / columns, heads: heads).enumerated() {
            for col in 0..<columns { values[ggufRow * columns + col] = original[hfRow * columns + col] }
        }
    }
}
