/// Sandbox bounds for parsing and rendering one template. Exceeding any of them throws `TemplateError.limitExceeded`.
public struct TemplateLimits: Sendable, Equatable {
    /// Largest template source accepted, in UTF-8 bytes.
    public var maxTemplateBytes: Int
    /// Largest rendered output, and largest string any expression may build, in UTF-8 bytes.
    public var maxOutputBytes: Int
    /// Total loop iterations in one render, counting the internal iterations of filters, comparisons and `tojson`.
    public var maxIterations: Int
    /// Deepest macro call chain.
    public var maxCallDepth: Int
    /// Deepest nesting of blocks and expressions in the source (bounds the parser's recursion).
    public var maxNesting: Int
    /// Longest `range(...)`; Jinja's sandbox refuses ranges over 100,000 items (`MAX_RANGE`).
    public var maxRangeLength: Int

    /// Creates limits; every argument has the default shown.
    public init(maxTemplateBytes: Int = 1 << 20, maxOutputBytes: Int = 1 << 20, maxIterations: Int = 1_000_000,
                maxCallDepth: Int = 64, maxNesting: Int = 100, maxRangeLength: Int = 100_000) {
        self.maxTemplateBytes = maxTemplateBytes
        self.maxOutputBytes = maxOutputBytes
        self.maxIterations = maxIterations
        self.maxCallDepth = maxCallDepth
        self.maxNesting = maxNesting
        self.maxRangeLength = maxRangeLength
    }

    /// 1 MB template and output, a million iterations, call depth 64, nesting 100, ranges up to 100,000.
    public static let `default` = TemplateLimits()
}

/// The running counters of one render, shared by the interpreter, filters and formatters.
final class Budget {
    let limits: TemplateLimits
    let map: SourceMap
    var iterations = 0
    /// Byte offset of the node being evaluated, for error positions.
    var offset = 0

    init(limits: TemplateLimits, map: SourceMap) {
        self.limits = limits
        self.map = map
    }

    /// Counts `n` units of work against `maxIterations`.
    func tick(_ n: Int) throws {
        if n > limits.maxIterations - iterations {
            iterations = limits.maxIterations + 1
            throw TemplateError.limitExceeded("more than \(limits.maxIterations) loop iterations (TemplateLimits.maxIterations; pass a larger value to raise it) (\(location))")
        }
        iterations += n
    }

    /// Refuses strings larger than `maxOutputBytes`.
    func checkSize(_ s: String) throws {
        if s.utf8.count > limits.maxOutputBytes {
            throw TemplateError.limitExceeded("a string or the output grew past \(limits.maxOutputBytes) bytes (TemplateLimits.maxOutputBytes; pass a larger value to raise it) (\(location))")
        }
    }

    /// Refuses building something of `bytes` bytes before allocating it.
    func checkSize(bytes: Int) throws {
        if bytes > limits.maxOutputBytes || bytes < 0 {
            throw TemplateError.limitExceeded("a string or list would grow past \(limits.maxOutputBytes) bytes (TemplateLimits.maxOutputBytes; pass a larger value to raise it) (\(location))")
        }
    }

    var location: String {
        let p = map.position(offset)
        return "template line \(p.line), column \(p.column)"
    }

    func typeError(_ message: String) -> TemplateError {
        let p = map.position(offset)
        return .render(line: p.line, column: p.column, message: message)
    }
}
