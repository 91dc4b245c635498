import Foundation
import LatheFormats
import LatheTensors

/// An artefact an adapter is exported as.
public enum ExportFormat: String, CaseIterable, Codable, Sendable {
    /// PEFT adapter directory (`adapter_config.json` + `adapter_model.safetensors`): transformers, vLLM.
    case peft
    /// Base weights with the adapter folded in, as a Hugging Face directory (with the tokenizer).
    case merged
    /// The merged model as one GGUF file (llama.cpp, Ollama); needs a GGUF base for the tokenizer metadata.
    case gguf
    /// The adapter as a llama.cpp GGUF LoRA (`llama-cli --lora`).
    case ggufLoRA = "gguf-lora"

    /// Where the artefact goes inside an export directory.
    public var fileName: String {
        switch self {
        case .peft: "peft"
        case .merged: "merged"
        case .gguf: "merged.gguf"
        case .ggufLoRA: "adapter.gguf"
        }
    }
}

/// Storage type of exported merged weights (PEFT and GGUF LoRA adapters are always F32: they are small).
public enum ExportDType: String, CaseIterable, Codable, Sendable {
    case f32, f16, bf16
    /// GGUF only: 8-bit blocks of 32 (llama.cpp Q8_0).
    case q8_0
}

/// Something a serving stack will do differently from what the user may expect, said before exporting.
public struct ExportWarning: Sendable, Equatable, CustomStringConvertible {
    /// The format the warning is about.
    public let format: ExportFormat
    /// What will happen and what to do about it.
    public let message: String

    public var description: String { "\(format.rawValue): \(message)" }
}

/// Exports a trained adapter for a base model in the formats serving stacks load, into one directory:
/// `peft/`, `merged/`, `merged.gguf`, `adapter.gguf` (see `ExportFormat.fileName`).
public struct AdapterExporter {
    /// The base model the adapter was trained on.
    public let base: LoadedModel
    /// The adapter.
    public let adapter: LoRAAdapter
    /// What `adapter_config.json` records as `base_model_name_or_path` (an HF id such as
    /// `HuggingFaceTB/SmolLM2-135M-Instruct` lets transformers and vLLM find the base); default the base's path.
    public var baseModelID: String

    /// vLLM's `--max-lora-rank` choices; its default is 16.
    static let vllmRanks = [1, 8, 16, 32, 64, 128, 256, 320, 512]

    public init(base: LoadedModel, adapter: LoRAAdapter, baseModelID: String? = nil) {
        self.base = base
        self.adapter = adapter
        self.baseModelID = baseModelID ?? base.path
    }

    /// Problems with `formats` at `dtype` that make exporting pointless (thrown by `export` too).
    public func check(_ formats: [ExportFormat], dtype: ExportDType) throws {
        if formats.contains(.merged) && dtype == .q8_0 {
            throw ModelError.invalidInput("dtype q8_0 is a GGUF storage type; the merged HF directory takes f32, f16 or bf16 "
                                          + "(export merged and gguf separately, or drop merged)")
        }
        if formats.contains(.ggufLoRA) && adapter.config.useDoRA {
            throw ModelError.invalidInput("llama.cpp's GGUF LoRA holds only lora_a and lora_b, not DoRA's magnitude "
                                          + "vector, so a DoRA adapter cannot be written as adapter.gguf; export the "
                                          + "merged GGUF (--format gguf), which folds the magnitude into the weights")
        }
        if formats.contains(.ggufLoRA) && adapter.tokens != nil {
            throw ModelError.invalidInput("a GGUF LoRA cannot add tokens or carry trained embedding rows (train.new_tokens, "
                                          + "train.embeddings); export gguf (the merged GGUF has them) instead of gguf-lora")
        }
        if formats.contains(.merged) && base.format == .gguf
            && base.rope.inverseFrequencies != RopeFrequencies(config: base.config).inverseFrequencies {
            throw ModelError.invalidInput("\(base.path) holds its llama3 RoPE scaling only as per-frequency divisors "
                                          + "(rope_freqs.weight), which config.json cannot state, so transformers would "
                                          + "rotate differently; export merged from the model's Hugging Face directory "
                                          + "(--base DIR), or export gguf")
        }
        if formats.contains(.gguf) && base.format != .gguf {
            throw ModelError.invalidInput("the merged GGUF copies the tokenizer and chat template from a GGUF base, and "
                                          + "\(base.path) is an HF directory; export merged and convert it with llama.cpp's "
                                          + "convert_hf_to_gguf.py, or train on the GGUF of this model")
        }
    }

    /// What the targets of `formats` will reject or do differently, to print before exporting.
    public func warnings(for formats: [ExportFormat]) -> [ExportWarning] {
        var warnings: [ExportWarning] = []
        let rank = adapter.config.rank
        if formats.contains(.peft) && rank > 16 {
            let needed = Self.vllmRanks.first { $0 >= rank } ?? rank
            warnings.append(ExportWarning(format: .peft, message:
                "rank \(rank) is above vLLM's default --max-lora-rank 16; vLLM refuses the adapter unless started with "
                + "--max-lora-rank \(needed)"))
        }
        if formats.contains(.peft) && adapter.config.useDoRA {
            warnings.append(ExportWarning(format: .peft, message:
                "vLLM refuses DoRA adapters (use_dora: true); serve the merged export there, or load the PEFT "
                + "directory with transformers + PEFT"))
        }
        if formats.contains(.peft) && (baseModelID.hasSuffix(".gguf") || baseModelID.hasPrefix("/")) {
            warnings.append(ExportWarning(format: .peft, message:
                "adapter_config.json names the base as \(baseModelID); transformers' AutoPeftModel and vLLM look that "
                + "up, so pass the base's Hugging Face id (--base-model-id, recipe export.base_model_id), e.g. "
                + "HuggingFaceTB/SmolLM2-135M-Instruct"))
        }
        let quantized = Set(base.storageTypes.values).subtracting(["F32", "F16", "BF16"]).sorted()
        if !quantized.isEmpty && (formats.contains(.peft) || formats.contains(.ggufLoRA)) {
            let format: ExportFormat = formats.contains(.peft) ? .peft : .ggufLoRA
            warnings.append(ExportWarning(format: format, message:
                "the adapter was trained against \(quantized.joined(separator: "/"))-quantised base weights; on the "
                + "full-precision base it behaves slightly differently (the merged exports carry the weights it was "
                + "trained against)"))
        }
        if formats.contains(.peft), let tokens = adapter.tokens {
            warnings.append(ExportWarning(format: .peft, message:
                "the adapter trains embedding rows (\(tokens.wholeMatrices ? "modules_to_save" : "trainable_token_indices")); "
                + "load it on the base after model.resize_token_embeddings(\(tokens.vocab)) with the tokenizer of merged/ or "
                + "added_tokens.json; vLLM does not load such adapters: serve merged/ instead"))
        }
        if formats.contains(.ggufLoRA) && adapter.config.useRSLoRA {
            warnings.append(ExportWarning(format: .ggufLoRA, message:
                "llama.cpp scales by alpha/r; rsLoRA's alpha/√r is kept by storing adapter.lora.alpha = alpha·√r"))
        }
        return warnings
    }

    /// Writes each of `formats` into `directory` (created if needed); returns the paths written, by format.
    @discardableResult
    public func export(_ formats: [ExportFormat], dtype: ExportDType, to directory: String) throws -> [ExportFormat: String] {
        try check(formats, dtype: dtype)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [ExportFormat: String] = [:]
        func target(_ format: ExportFormat) -> String {
            let path = (directory as NSString).appendingPathComponent(format.fileName)
            written[format] = path
            return path
        }
        if formats.contains(.peft) {
            try PEFTAdapter.write(adapter, baseModel: baseModelID, to: target(.peft))
        }
        if formats.contains(.ggufLoRA) {
            let architecture = base.ggufMetadata?["general.architecture"]?.string ?? GGUFAdapterExport.architectureName(for: base.config)
            try GGUFAdapterExport.write(adapter, config: base.config, architecture: architecture,
                                        name: "LoRA r\(adapter.config.rank)", to: target(.ggufLoRA))
        }
        guard formats.contains(.merged) || formats.contains(.gguf) else { return written }
        let merged = base.weights.merged(with: adapter)
        if formats.contains(.merged) {
            try MergedExport.writeHF(merged, base: base, to: target(.merged), dtype: dtype, adapter: adapter)
        }
        if formats.contains(.gguf) {
            try MergedExport.writeGGUF(merged, baseGGUF: base.path, to: target(.gguf), dtype: dtype,
                                       newTokens: adapter.tokens?.newTokens ?? [])
        }
        return written
    }
}
