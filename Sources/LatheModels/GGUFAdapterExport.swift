import Foundation
import LatheFormats

/// Writing a LoRA adapter as the GGUF adapter file llama.cpp loads with `--lora` (and llama-cpp-python with
/// `lora_path=`), laid out as llama.cpp's `convert_lora_to_gguf.py` writes it.
public enum GGUFAdapterExport {
    /// Writes `adapter` for a model of `config` to `path`:
    /// - metadata `general.architecture` (the base GGUF's), `general.type = adapter`, `adapter.type = lora`,
    ///   `adapter.lora.alpha`;
    /// - per adapted projection `<gguf weight name>.lora_a` with ggml shape (in, r) — PyTorch's A (r, in) — and
    ///   `.lora_b` with ggml shape (r, out) — B (out, r) — in F32; for Llama and Mistral, B's rows of q/k are
    ///   permuted as the base weights' rows are (the GGUF rotary layout).
    ///
    /// llama.cpp scales an adapter by `alpha / r`; for rsLoRA (`alpha / √r`) the stored alpha is `alpha · √r`, so
    /// llama.cpp applies the scale the adapter was trained with.
    public static func write(_ adapter: LoRAAdapter, config: ModelConfig, architecture: String, name: String,
                             to path: String) throws {
        guard !adapter.config.useDoRA else {
            throw ModelError.invalidInput("llama.cpp's GGUF LoRA format has no DoRA magnitude vector; export the merged GGUF instead")
        }
        var writer = GGUFWriter()
        let rank = adapter.config.rank
        try writer.set("general.architecture", .string(architecture))
        try writer.set("general.type", .string("adapter"))
        try writer.set("general.name", .string(name))
        try writer.set("adapter.type", .string("lora"))
        try writer.set("adapter.lora.alpha", .float32(adapter.config.scale * Float(rank)))
        for entry in adapter.layout.entries {
            let aCount = rank * entry.inFeatures, bCount = entry.outFeatures * rank
            let a = Array(adapter.parameters[entry.a..<(entry.a + aCount)])
            var b = Array(adapter.parameters[entry.b..<(entry.b + bCount)])
            if config.ggufPermutesRotaryRows {  // Llama and Mistral: convert_hf_to_gguf.py's rotary row order
                if entry.module == .q { GGUFNames.permuteRows(&b, heads: config.headCount, columns: rank) }
                if entry.module == .k { GGUFNames.permuteRows(&b, heads: config.keyValueHeadCount, columns: rank) }
            }
            let weight = GGUFNames.ggufName(forHF: "model.layers.\(entry.layer).\(entry.module.parent).\(entry.module.rawValue).weight",
                                            config: config)
            try writer.addTensor(weight + ".lora_a", shape: [rank, entry.inFeatures], values: a)
            try writer.addTensor(weight + ".lora_b", shape: [entry.outFeatures, rank], values: b)
        }
        try writer.write(to: path)
    }

    /// The `general.architecture` llama.cpp expects for `config` when the base was not a GGUF file.
    public static func architectureName(for config: ModelConfig) -> String { config.ggufArchitecture }
}
