/// Why a model could not be loaded or run. Each case names the file (or tensor) and says what to do.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// `config.json` or GGUF metadata is missing a field or has one of the wrong type or range.
    case invalidConfig(file: String, key: String, message: String)
    /// An architecture Lathe does not implement.
    case unsupportedArchitecture(file: String, name: String)
    /// A weight the architecture needs is not in the checkpoint.
    case missingTensor(file: String, name: String)
    /// A weight has a shape other than the config implies.
    case shapeMismatch(file: String, name: String, expected: [Int], found: [Int])
    /// The path is neither a GGUF file nor a directory with `config.json` and safetensors weights.
    case notAModel(path: String, message: String)
    /// A token id outside the vocabulary, or a sequence longer than the model supports.
    case invalidInput(String)

    public var description: String {
        switch self {
        case .invalidConfig(let f, let k, let m): return "\(f): \(k): \(m)"
        case .unsupportedArchitecture(let f, let n):
            let known = ModelConfig.Architecture.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(f): architecture \"\(n)\" is not supported; Lathe runs \(known) (and GGUF llama/qwen2)"
        case .missingTensor(let f, let n): return "\(f): tensor \"\(n)\" is missing; the checkpoint is incomplete or not a supported architecture"
        case .shapeMismatch(let f, let n, let e, let s):
            return "\(f): tensor \"\(n)\" has shape \(s) but the config implies \(e); config and weights do not belong together"
        case .notAModel(let p, let m): return "\(p): \(m)"
        case .invalidInput(let m): return m
        }
    }
}
