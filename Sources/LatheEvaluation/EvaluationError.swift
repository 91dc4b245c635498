/// Why an evaluation task could not be loaded or run. Each case names the task file, and where it applies the
/// document index and the field, and says what to do.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    /// The task YAML is malformed or uses a key Lathe does not support.
    case invalidTask(file: String, key: String, message: String)
    /// A document could not be turned into a request (missing field, target index out of range).
    case invalidDocument(task: String, index: Int, field: String, message: String)
    /// A results file could not be written.
    case output(path: String, message: String)
    /// A suite file is malformed or names a task that does not exist.
    case invalidSuite(file: String, message: String)
    /// Evaluation options that cannot work together or with this model.
    case invalidOptions(message: String)

    public var description: String {
        switch self {
        case .invalidTask(let f, let k, let m): return "\(f): \(k): \(m)"
        case .invalidDocument(let t, let i, let field, let m): return "task \(t), document \(i), field \(field): \(m)"
        case .output(let p, let m): return "\(p): cannot write results: \(m)"
        case .invalidSuite(let f, let m): return "\(f): \(m)"
        case .invalidOptions(let m): return m
        }
    }
}
