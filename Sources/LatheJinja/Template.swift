import Foundation

/// A parsed Jinja template, rendered in a sandbox with the settings transformers uses for chat templates
/// (`ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)` with loop controls and `{% generation %}`).
///
/// Rendering never reads files, the network or the environment; output size, loop iterations, call depth and
/// source nesting are bounded by `TemplateLimits`.
public struct Template: Sendable {
    /// The bounds this template was parsed with and renders under.
    public let limits: TemplateLimits
    private let body: Body

    /// The parsed tree, boxed so the struct stays `Sendable` (the tree is immutable after parsing).
    private final class Body: @unchecked Sendable {
        let nodes: [Node]
        let map: SourceMap
        /// Root locals that start undefined (see `RootSymbols`).
        let shadowed: Set<String>
        init(nodes: [Node], map: SourceMap) {
            self.nodes = nodes
            self.map = map
            shadowed = RootSymbols.shadowed(nodes)
        }
    }

    /// The result of a render: the text and the UTF-8 byte ranges produced inside `{% generation %}` blocks.
    public struct Output: Sendable, Equatable {
        /// The rendered text.
        public var text: String
        /// Byte ranges (into `text.utf8`) of each `{% generation %}` body, in order.
        public var generationSpans: [Range<Int>]
    }

    /// Parses `source`; throws `TemplateError.syntax` with a line and column, or `.limitExceeded` if it is too big.
    public init(_ source: String, limits: TemplateLimits = .default) throws {
        guard source.utf8.count <= limits.maxTemplateBytes else {
            throw TemplateError.limitExceeded("template of \(source.utf8.count) bytes is larger than \(limits.maxTemplateBytes) (TemplateLimits.maxTemplateBytes; pass a larger value to raise it)")
        }
        self.limits = limits
        var lexer = Lexer(source: source)
        let tokens = try lexer.tokenize()
        var parser = Parser(tokens: tokens, map: lexer.map, maxNesting: limits.maxNesting)
        body = Body(nodes: try parser.parseTemplate(), map: lexer.map)
    }

    /// Renders with `context` as the template's variables.
    public func render(_ context: [String: TemplateValue]) throws -> String {
        try renderWithSpans(context).text
    }

    /// Renders and also reports where `{% generation %}` output landed; `now` feeds `strftime_now`.
    public func renderWithSpans(_ context: [String: TemplateValue], now: Date = Date()) throws -> Output {
        // The interpreter recurses; a thread with a known, large stack makes its depth bound safe on any caller.
        final class Slot: @unchecked Sendable { var result: Result<Output, Error>? }
        let slot = Slot()
        let body = self.body, limits = self.limits
        try Template.onRenderThread {
            slot.result = Result {
                var variables = context
                for name in body.shadowed { variables[name] = .undefined }
                let interpreter = Interpreter(context: variables, budget: Budget(limits: limits, map: body.map), now: now)
                _ = try interpreter.execute(body.nodes)
                return Output(text: interpreter.buffers[0], generationSpans: interpreter.generationSpans)
            }
        }
        guard let result = slot.result else { throw TemplateError.limitExceeded("the render thread did not finish") }
        return try result.get()
    }

    /// Runs `work` on a thread of `renderStackBytes` stack and joins it, so every object the thread held is released
    /// when this returns (a signalled-but-unjoined thread may still hold them: LeakSanitizer reported them leaked).
    static func onRenderThread(_ work: @escaping () -> Void) throws {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, renderStackBytes)
        let argument = Unmanaged.passRetained(RenderJob(work)).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let started = pthread_create(&thread, &attributes, { argument in
            Unmanaged<RenderJob>.fromOpaque(RenderJob.nonNull(argument)).takeRetainedValue().work()
            return nil
        }, argument)
        guard started == 0 else {
            Unmanaged<RenderJob>.fromOpaque(argument).release()
            throw TemplateError.limitExceeded("cannot start the render thread (pthread_create error \(started))")
        }
        #if canImport(Darwin)
        pthread_join(thread!, nil)
        #else
        pthread_join(thread, nil)
        #endif
    }

    /// Stack reserved for the render thread (address space; only touched pages are committed).
    static let renderStackBytes = 64 << 20
}

/// The closure a render thread runs, passed through `pthread_create`'s context pointer.
private final class RenderJob {
    let work: () -> Void
    init(_ work: @escaping () -> Void) { self.work = work }
    /// The context pointer, which `pthread_create` passes as optional on Linux and non-optional on Darwin.
    static func nonNull(_ p: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer { p! }
}
