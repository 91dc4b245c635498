import Foundation
import LatheFormats
import LatheModels
import Testing

/// A model's shape comes from a file (config.json, GGUF metadata), so values no real model has — no heads, a
/// negative layer count, a rotary factor of 1e300, a window pattern of 0 — are refused with the key that holds
/// them, where the arithmetic before validation used to trap (found by review while adding the `model-config`
/// fuzz target).
@Suite struct ConfigBoundsTests {
    /// `tiny-<name>/hf/config.json` with `edit` applied, written to a scratch file, and read.
    private func readEdited(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> ModelConfig {
        let data = try Data(contentsOf: URL(fileURLWithPath: Golden.path("tiny-\(name)/hf/config.json")))
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        edit(&json)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-bounds-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("config.json").path
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return try ModelConfig(configJSON: path)
    }

    /// The key of the `ModelError.invalidConfig` `body` throws, or nil.
    private func refusedKey(_ body: () throws -> ModelConfig) -> String? {
        do {
            _ = try body()
            return nil
        } catch ModelError.invalidConfig(_, let key, _) {
            return key
        } catch {
            return "\(error)"
        }
    }

    @Test func configJSONValuesNoModelHasAreRefusedByKey() throws {
        #expect(refusedKey { try readEdited("qwen2") { $0["partial_rotary_factor"] = 1e300 } } == "partial_rotary_factor")
        #expect(refusedKey { try readEdited("qwen2") { $0["partial_rotary_factor"] = -0.5 } } == "partial_rotary_factor")
        #expect(refusedKey { try readEdited("qwen2") { $0["use_sliding_window"] = true; $0["sliding_window"] = 4
            $0["num_hidden_layers"] = -3 } } == "num_hidden_layers")
        #expect(refusedKey { try readEdited("gemma3") { $0["layer_types"] = nil; $0["sliding_window_pattern"] = 0 } }
                == "sliding_window_pattern")
        #expect(refusedKey { try readEdited("gemma3") { $0["layer_types"] = nil; $0["num_hidden_layers"] = 1 << 40 } }
                == "num_hidden_layers")
        // Unedited, and with the pattern transformers applies when layer_types is absent, the configs still read.
        let gemma = try readEdited("gemma3") { $0["layer_types"] = nil; $0["sliding_window_pattern"] = 3 }
        #expect(gemma.slidingLayers == [true, true, false, true, true, false])
        #expect(try readEdited("qwen2") { _ in }.rotaryDim == 16)
    }

    private func gemmaMetadata(_ extra: [String: GGUFValue]) -> [String: GGUFValue] {
        var metadata: [String: GGUFValue] = [
            "general.architecture": .string("gemma3"), "gemma3.block_count": .uint32(2), "gemma3.context_length": .uint32(128),
            "gemma3.embedding_length": .uint32(32), "gemma3.feed_forward_length": .uint32(64),
            "gemma3.attention.head_count": .uint32(2), "gemma3.vocab_size": .uint32(320),
        ]
        metadata.merge(extra) { $1 }
        return metadata
    }

    @Test func ggufMetadataValuesNoModelHasAreRefusedByKey() throws {
        func key(_ extra: [String: GGUFValue]) -> String? {
            refusedKey { try ModelConfig(ggufMetadata: gemmaMetadata(extra), tensorNames: [], file: "m.gguf") }
        }
        #expect(key([:]) == nil)
        #expect(key(["gemma3.attention.head_count": .uint32(0)]) == "num_attention_heads")
        #expect(key(["gemma3.attention.head_count": .uint32(0), "gemma3.rope.dimension_count": .uint32(8)]) == "num_attention_heads")
        #expect(key(["gemma3.block_count": .int32(-1)]) == "num_hidden_layers")
        #expect(key(["gemma3.block_count": .int64(1 << 40)]) == "num_hidden_layers")
        #expect(key(["gemma3.block_count": .uint32(62), "gemma3.attention.head_count": .uint32(0)]) == "num_attention_heads")
        // Each size within 2^24, but together past any weight offset (2^24 · 2^24 per matrix, 4096 layers), or
        // more layers than any model: refused before WeightLayout sums the offsets or lists millions of entries.
        #expect(key(["gemma3.embedding_length": .uint32(1 << 24), "gemma3.feed_forward_length": .uint32(1 << 24),
                     "gemma3.block_count": .uint32(4096)]) == "hidden_size")
        #expect(key(["gemma3.block_count": .uint32(1 << 20)]) == "num_hidden_layers")
        let largest = try ModelConfig(ggufMetadata: gemmaMetadata(["gemma3.block_count": .uint32(UInt32(ModelConfig.maxLayers))]),
                                      tensorNames: [], file: "m.gguf")
        #expect(WeightLayout(config: largest).layers.count == ModelConfig.maxLayers)
    }
}
