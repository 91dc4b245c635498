import Foundation
import LatheFormats

/// What `lathe inspect` shows: read from headers and metadata only, no weights are converted. A file whose
/// architecture Lathe cannot run still gets a summary: its metadata and tensor table, with `unsupported` saying why.
public struct ModelSummary: Sendable {
    /// One metadata entry, its value rendered short (long arrays as their element count).
    public struct Metadata: Sendable, Equatable {
        public let key: String
        public let value: String
    }

    /// One tensor of the file.
    public struct Tensor: Sendable, Equatable {
        public let name: String
        /// Storage type as the file names it ("F32", "BF16", "Q4_1", …).
        public let type: String
        /// Row-major shape (PyTorch order, also for GGUF).
        public let shape: [Int]
    }

    public let path: String
    public let format: LoadedModel.Format
    /// The architecture as the file names it: GGUF `general.architecture`, or config.json's `architectures[0]`
    /// (else `model_type`).
    public let architectureName: String
    /// The config Lathe runs the model with; nil when it cannot run it.
    public let config: ModelConfig?
    /// Why Lathe cannot run the model (the config reader's error); nil when it can.
    public let unsupported: String?
    /// GGUF metadata, or config.json's top-level keys, in file order.
    public let metadata: [Metadata]
    /// Every tensor, in file order.
    public let tensors: [Tensor]
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
        let readConfig: () throws -> ModelConfig
        if isDirectory.boolValue {
            format = .safetensors
            let directory = URL(fileURLWithPath: path)
            let configPath = directory.appendingPathComponent("config.json").path
            guard FileManager.default.fileExists(atPath: configPath) else {
                throw ModelError.notAModel(path: path, message: "a model directory needs config.json (Hugging Face layout) — or pass a .gguf file")
            }
            let json = try JSONNode.read(file: configPath, maxBytes: 16 << 20)
            let members = json.value.objectValue.map { Array(zip($0.keys, $0.values)) } ?? []
            metadata = members.map { Metadata(key: $0.0, value: Self.render($0.1)) }
            let architectures = json.value["architectures"]?.arrayValue?.first?.stringValue
            architectureName = architectures ?? json.value["model_type"]?.stringValue ?? "(none)"
            readConfig = { try ModelConfig(configJSON: configPath) }
            let single = directory.appendingPathComponent("model.safetensors").path
            source = FileManager.default.fileExists(atPath: single)
                ? try SafetensorsFile(path: single) : try ShardedSafetensors(directory: path)
            (tokenizerKind, hasChatTemplate) = Self.hfTokenizer(in: directory)
        } else {
            format = .gguf
            let file = try GGUFFile(path: path)
            metadata = file.metadataKeys.compactMap { key in file.metadata[key].map { Metadata(key: key, value: Self.render($0)) } }
            architectureName = file.metadata["general.architecture"]?.string ?? "(none)"
            readConfig = { try ModelConfig(gguf: file, file: path) }
            source = file
            switch file.metadata["tokenizer.ggml.model"]?.string {
            case "gpt2": tokenizerKind = "byte-level BPE (gguf: gpt2, pre: \(file.metadata["tokenizer.ggml.pre"]?.string ?? "default"))"
            case "llama": tokenizerKind = "SentencePiece-style BPE (gguf: llama)"
            case let other?: tokenizerKind = "unsupported (gguf: \(other))"
            case nil: tokenizerKind = nil
            }
            hasChatTemplate = file.metadata["tokenizer.chat_template"]?.string != nil
        }
        do {
            config = try readConfig()
            unsupported = nil
        } catch let error as ModelError {
            // An architecture or option Lathe does not implement: still a model file worth describing.
            switch error {
            case .unsupportedArchitecture, .invalidConfig:
                config = nil
                unsupported = error.description
            default: throw error
            }
        }
        var count = 0
        var types: [String: Int] = [:]
        var tensors: [Tensor] = []
        for name in source.tensorNames {
            let shape = try source.shape(of: name), type = try source.storageType(of: name)
            count += shape.reduce(1, *)
            types[type, default: 0] += 1
            tensors.append(Tensor(name: name, type: type, shape: shape))
        }
        self.tensors = tensors
        parameterCount = count
        storageTypes = types
    }

    /// A GGUF value as one short line: scalars as written, arrays of more than 8 elements as their count.
    static func render(_ value: GGUFValue) -> String {
        switch value {
        case .string(let s): return s.count > 80 ? JSONValue.quoted(String(s.prefix(77))) + "… (\(s.utf8.count) bytes)" : JSONValue.quoted(s)
        case .array(let items):
            if items.count > 8 { return "[\(items.count) items]" }
            return "[" + items.map(render).joined(separator: ", ") + "]"
        case .bool(let b): return b ? "true" : "false"
        case .float32(let f): return "\(f)"
        case .float64(let d): return "\(d)"
        default: return value.int.map(String.init) ?? "?"
        }
    }

    /// A config.json value as one short line: scalars as written, arrays and objects of more than 8 members as counts.
    static func render(_ value: JSONValue) -> String {
        if let string = value.stringValue { return JSONValue.quoted(string) }
        if let scalar = value.scalarText { return scalar }
        if let items = value.arrayValue {
            return items.count > 8 ? "[\(items.count) items]" : "[" + items.map(render).joined(separator: ", ") + "]"
        }
        guard let object = value.objectValue else { return "?" }
        if object.keys.count > 8 { return "{\(object.keys.count) keys}" }
        return "{" + zip(object.keys, object.values).map { "\($0): \(render($1))" }.joined(separator: ", ") + "}"
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
