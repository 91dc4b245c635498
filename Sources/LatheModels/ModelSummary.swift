import Foundation
import LatheFormats

/// What `lathe inspect` shows: read from headers and metadata only, no weights are converted.
public struct ModelSummary: Sendable {
    public let path: String
    public let format: LoadedModel.Format
    public let config: ModelConfig
    /// Parameters counted from the tensors in the file.
    public let parameterCount: Int
    /// Number of tensors per storage type ("Q4_1": 182, "F32": 61, …).
    public let storageTypes: [String: Int]
    /// "byte-level BPE (gpt2)", "SentencePiece BPE (llama)", or nil when the files hold no tokenizer.
    public let tokenizerKind: String?
    public let hasChatTemplate: Bool

    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.notAModel(path: path, message: "no such file or directory")
        }
        self.path = path
        let source: TensorSource
        if isDirectory.boolValue {
            format = .safetensors
            let directory = URL(fileURLWithPath: path)
            config = try ModelConfig(configJSON: directory.appendingPathComponent("config.json").path)
            let single = directory.appendingPathComponent("model.safetensors").path
            source = FileManager.default.fileExists(atPath: single)
                ? try SafetensorsFile(path: single) : try ShardedSafetensors(directory: path)
            (tokenizerKind, hasChatTemplate) = Self.hfTokenizer(in: directory)
        } else {
            format = .gguf
            let file = try GGUFFile(path: path)
            config = try ModelConfig(ggufMetadata: file.metadata, tensorNames: Set(file.tensorNames), file: path)
            source = file
            switch file.metadata["tokenizer.ggml.model"]?.string {
            case "gpt2": tokenizerKind = "byte-level BPE (gguf: gpt2, pre: \(file.metadata["tokenizer.ggml.pre"]?.string ?? "default"))"
            case "llama": tokenizerKind = "SentencePiece-style BPE (gguf: llama)"
            case let other?: tokenizerKind = "unsupported (gguf: \(other))"
            case nil: tokenizerKind = nil
            }
            hasChatTemplate = file.metadata["tokenizer.chat_template"]?.string != nil
        }
        var count = 0
        var types: [String: Int] = [:]
        for name in source.tensorNames {
            count += try source.shape(of: name).reduce(1, *)
            types[try source.storageType(of: name), default: 0] += 1
        }
        parameterCount = count
        storageTypes = types
    }

    private static func hfTokenizer(in directory: URL) -> (String?, Bool) {
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        var kind: String?
        if let json = try? JSONNode.read(file: tokenizerURL.path), let model = try? json.optional("model") {
            kind = "\((try? model.optionalString("type")) ?? "unknown") (tokenizer.json)"
        }
        var template = false
        if let json = try? JSONNode.read(file: configURL.path) {
            template = json.value["chat_template"] != nil
        }
        return (kind, template)
    }
}
