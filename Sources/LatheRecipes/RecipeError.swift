/// Why a recipe could not be loaded, validated or run. Each case names the file, the key path and the line.
public enum RecipeError: Error, CustomStringConvertible, Equatable {
    /// A key, type or value in the recipe is wrong; `line` is 1-based (0 when unknown).
    case invalid(file: String, line: Int, key: String, message: String)
    /// A run directory's record (`lineage.json`) is missing or unreadable; `message` says what to do.
    case run(path: String, message: String)

    public var description: String {
        switch self {
        case .invalid(let f, let l, let k, let m): return l > 0 ? "\(f):\(l): \(k): \(m)" : "\(f): \(k): \(m)"
        case .run(let p, let m): return "\(p): \(m)"
        }
    }
}
