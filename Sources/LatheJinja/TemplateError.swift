/// Why a Jinja template could not be parsed or rendered. `line` and `column` are 1-based positions in the template.
public enum TemplateError: Error, CustomStringConvertible, Equatable {
    /// The template text is not valid in the supported Jinja subset.
    case syntax(line: Int, column: Int, message: String)
    /// Rendering failed: an unknown filter, a type error, an undefined value used as a value.
    case render(line: Int, column: Int, message: String)
    /// The template called `raise_exception(message)` (transformers' global), e.g. "roles must alternate".
    case raised(line: Int, column: Int, message: String)
    /// A sandbox bound was hit (output size, loop iterations, recursion depth).
    case limitExceeded(String)

    /// A one-line message with the position and what went wrong.
    public var description: String {
        switch self {
        case .syntax(let l, let c, let m): return "template line \(l), column \(c): \(m)"
        case .render(let l, let c, let m): return "template line \(l), column \(c): \(m)"
        case .raised(let l, let c, let m): return "template line \(l), column \(c) raised: \(m)"
        case .limitExceeded(let m): return "template stopped: \(m)"
        }
    }
}
