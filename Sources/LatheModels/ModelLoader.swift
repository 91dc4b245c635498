import Foundation
import LatheFormats
import LatheTensors

/// A base model read from disk: its config, its frozen weights (matrices in fp32 or kept in a stored type), and
/// what the files held.
public struct LoadedModel: Sendable {
    public enum Format: String, Sendable { case gguf = "GGUF", safetensors = "safetensors" }

    public let path: String
    public let format: Format
    public let config: ModelConfig
    public let weights: DecoderWeights
    /// RoPE inverse frequencies: from the config, or from a GGUF's `rope_freqs.weight` factors (llama3 scaling).
    public let rope: RopeFrequencies
    /// Storage type of each weight ("F32", "BF16", "Q4_1", …), by HF name: the file's, or the type a matrix was
    /// quantised to on load.
    public let storageTypes: [String: String]
    /// The GGUF metadata, when the model came from a GGUF file (the tokenizer reads it too).
    public let ggufMetadata: [String: GGUFValue]?
}

/// Opens a model path: a `.gguf` file, or an HF directory with `config.json` and `model.safetensors`
/// (or shards listed in `model.safetensors.index.json`).
public enum ModelLoader {
    /// `format` says how the base's matrices are held (`BaseFormat.auto`: the file's form when it is quantised).
    public static func load(_ path: String, format: BaseFormat = .auto) throws -> LoadedModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.notAModel(path: path, message: "no such file or directory")
        }
        if isDirectory.boolValue { return try loadHFDirectory(path, format: format) }
        return try loadGGUF(path, format: format)
    }

    static func loadGGUF(_ path: String, format: BaseFormat) throws -> LoadedModel {
        let file = try GGUFFile(path: path)
        let names = Set(file.tensorNames)
        let config = try ModelConfig(gguf: file, file: path)
        let permute = config.ggufPermutesRotaryRows
        let weights = try DecoderWeights.load(
            config: config, from: file, file: path, format: format,
            rename: { GGUFNames.ggufName(forHF: $0, config: config) },
            rowOrder: { name, rows in
                guard permute else { return nil }
                if name.hasSuffix("self_attn.q_proj.weight") { return GGUFNames.ggufRowOrder(rows: rows, heads: config.headCount) }
                if name.hasSuffix("self_attn.k_proj.weight") { return GGUFNames.ggufRowOrder(rows: rows, heads: config.keyValueHeadCount) }
                return nil
            })
        let types = try storageTypes(weights, file) { GGUFNames.ggufName(forHF: $0, config: config) }
        var rope = RopeFrequencies(config: config)
        if names.contains("rope_freqs.weight") {
            // convert_hf_to_gguf.py stores llama3 scaling as per-frequency divisors (llama.cpp `freq_factors`).
            let factors = try file.floats("rope_freqs.weight")
            guard factors.count == config.headDim / 2, factors.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw ModelError.shapeMismatch(file: path, name: "rope_freqs.weight", expected: [config.headDim / 2],
                                               found: [factors.count])
            }
            rope = RopeFrequencies(headDim: config.headDim,
                                   inverseFrequencies: zip(rope.inverseFrequencies, factors).map { $0 / $1 })
        }
        return LoadedModel(path: path, format: .gguf, config: config, weights: weights, rope: rope,
                           storageTypes: types, ggufMetadata: file.metadata)
    }

    static func loadHFDirectory(_ path: String, format: BaseFormat) throws -> LoadedModel {
        let directory = URL(fileURLWithPath: path)
        let configPath = directory.appendingPathComponent("config.json").path
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw ModelError.notAModel(path: path, message: "a model directory needs config.json (Hugging Face layout) — or pass a .gguf file")
        }
        let config = try ModelConfig(configJSON: configPath)
        let source: TensorSource
        let single = directory.appendingPathComponent("model.safetensors").path
        if FileManager.default.fileExists(atPath: single) {
            source = try SafetensorsFile(path: single)
        } else if FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors.index.json").path) {
            source = try ShardedSafetensors(directory: path)
        } else {
            throw ModelError.notAModel(path: path, message: "no model.safetensors or model.safetensors.index.json; only safetensors weights are read (convert .bin files first)")
        }
        let weights = try DecoderWeights.load(config: config, from: source, file: path, format: format, transform: { name, values in
            // Gemma's RMSNorm applies (1 + w): fold the 1 in, as llama.cpp's converter does for GGUF.
            if config.normAddsOne && name.hasSuffix("norm.weight") { for i in values.indices { values[i] += 1 } }
        })
        let types = try storageTypes(weights, source) { $0 }
        let rope = RopeFrequencies(config: config)
        return LoadedModel(path: path, format: .safetensors, config: config, weights: weights, rope: rope,
                           storageTypes: types, ggufMetadata: nil)
    }

    /// Each weight's type in memory: the file's, or the type a matrix was quantised to on load (so that the PEFT
    /// export warns about an adapter trained over quantised weights either way).
    private static func storageTypes(_ weights: DecoderWeights, _ source: TensorSource,
                                     _ rename: (String) -> String) throws -> [String: String] {
        var types: [String: String] = [:]
        for entry in weights.layout.entries {
            types[entry.name] = try weights.quantized[entry.offset]?.type.name ?? source.storageType(of: rename(entry.name))
        }
        return types
    }
}
