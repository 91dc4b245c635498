import Foundation
import LatheFormats
import LatheModels
import Testing

/// config.json and adapter_config.json are read by LatheFormats' strict `JSONParser` (they used to go through
/// Foundation, which kept one of two duplicate keys): a key twice is an error naming the key and byte offset.
@Suite struct ConfigJSONTests {
    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-config-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private var qwenConfig: String {
        get throws { try String(contentsOfFile: Golden.path("tiny-qwen2/hf/config.json"), encoding: .utf8) }
    }

    @Test func configReadsThroughTheOneParser() throws {
        let config = try ModelConfig(configJSON: Golden.path("tiny-qwen2/hf/config.json"))
        #expect(config.hiddenSize == 64 && config.layerCount == 2 && config.vocabSize == 320)
    }

    @Test func duplicateKeyInConfigIsAnError() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = try qwenConfig.replacingOccurrences(of: "\"hidden_size\": 64,", with: "\"hidden_size\": 64,\n  \"hidden_size\": 128,")
        let path = directory + "/config.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let offset = try #require(text.utf8.indices(of: "\"hidden_size\": 128").first)
        #expect {
            _ = try ModelConfig(configJSON: path)
        } throws: { error in
            guard case ModelError.invalidConfig(let file, _, let message) = error else { return false }
            return file == path && message.contains("duplicate key \"hidden_size\"") && message.contains("(byte \(offset))")
        }
    }

    @Test func wrongTypeInConfigNamesTheKey() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/config.json"
        try qwenConfig.replacingOccurrences(of: "\"num_hidden_layers\": 2", with: "\"num_hidden_layers\": \"2\"")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ModelError.invalidConfig(file: path, key: "num_hidden_layers", message: "has the wrong type (expected Int)")) {
            _ = try ModelConfig(configJSON: path)
        }
    }

    @Test func duplicateKeyInAdapterConfigIsAnError() throws {
        let model = try ModelConfig(configJSON: Golden.path("tiny-qwen2/hf/config.json"))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj"], "r": 64}"#
            .write(toFile: directory + "/adapter_config.json", atomically: true, encoding: .utf8)
        #expect {
            _ = try PEFTAdapter.read(directory, model: model)
        } throws: { error in
            guard case ModelError.invalidConfig(_, let key, let message) = error else { return false }
            return key == "(file)" && message.contains("duplicate key \"r\"") && message.contains("(byte 77)")
        }
    }

    @Test func adapterConfigOfTheWrongTypeNamesTheKey() throws {
        let model = try ModelConfig(configJSON: Golden.path("tiny-qwen2/hf/config.json"))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"{"peft_type": "LORA", "r": "two", "lora_alpha": 4, "target_modules": ["q_proj"]}"#
            .write(toFile: directory + "/adapter_config.json", atomically: true, encoding: .utf8)
        #expect(throws: ModelError.invalidConfig(file: directory + "/adapter_config.json", key: "r",
                                                 message: "expected an integer, found a string")) {
            _ = try PEFTAdapter.read(directory, model: model)
        }
    }
}

private extension String.UTF8View {
    /// Byte offsets where `needle` starts.
    func indices(of needle: String) -> [Int] {
        let haystack = Array(self), pattern = Array(needle.utf8)
        guard pattern.count <= haystack.count else { return [] }
        return (0 ... haystack.count - pattern.count).filter { Array(haystack[$0 ..< $0 + pattern.count]) == pattern }
    }
}
