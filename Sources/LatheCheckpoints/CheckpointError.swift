/// Why a checkpoint, a cached stage or a hashed file could not be written or read. Each case names the file and the fix.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file system refused an operation.
    case io(path: String, reason: String)
    /// The file is damaged: bad zstd frame, bad safetensors, or a hash mismatch.
    case corrupt(path: String, reason: String)
    /// The file is, or announces, more bytes than the reader allows (possible decompression bomb); `bound` names
    /// the limit and how to raise it.
    case tooLarge(path: String, size: Int, limit: Int, bound: String)
    /// No checkpoint for the requested step.
    case notFound(path: String)
    /// The checkpoint's format version is newer than this build understands.
    case unsupportedVersion(path: String, version: String)
    /// A value given to the writer is inconsistent (e.g. a shape that does not match its values).
    case invalid(name: String, reason: String)

    public var description: String {
        switch self {
        case .io(let p, let r): return "\(p): \(r); check that the directory exists, is writable and has free space"
        case .corrupt(let p, let r): return "\(p): damaged checkpoint (\(r)); it will not be loaded — resume from an earlier one"
        case .tooLarge(let p, let s, let l, let bound):
            return "\(p): \(s) bytes, more than the \(l) allowed by \(bound); refusing (possibly a decompression bomb or the wrong file)"
        case .notFound(let p): return "\(p): no such checkpoint; list the directory to see which steps exist"
        case .unsupportedVersion(let p, let v):
            return "\(p): checkpoint format version \(v) is newer than this build reads (1); update lathe"
        case .invalid(let n, let r): return "\(n): \(r)"
        }
    }
}
