import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The classes of work `OpProfiler` splits a training or evaluation step into.
public enum OpClass: Int, CaseIterable, Sendable {
    /// Products with the frozen base weights (fp32 or dequantised tile by tile), forward and input gradient.
    case baseMatmul
    /// The adapters' low-rank products (and their dropout masks).
    case loraMatmul
    /// Attention's score and value products and its softmax, forward and backward.
    case attention
    /// Norms, RoPE, activations, residual adds, embedding gathers and buffer clears: memory-bound passes.
    case elementwise
    /// The LM head over the target rows and the cross-entropy (forward and backward).
    case lmHead
    /// Gradient reduction, clipping and AdamW.
    case optimizer
    /// Taking the next micro-batch: data order, packing, tokenising.
    case data

    /// The name shown in a profile table.
    public var label: String {
        switch self {
        case .baseMatmul: "base matmuls"
        case .loraMatmul: "LoRA matmuls"
        case .attention: "attention"
        case .elementwise: "norms + element-wise"
        case .lmHead: "LM head + cross-entropy"
        case .optimizer: "optimiser"
        case .data: "data + tokenising"
        }
    }

    /// Whether the class is judged by its arithmetic rate (GFLOP/s against sgemm) rather than by bytes moved.
    public var isCompute: Bool { [.baseMatmul, .loraMatmul, .attention, .lmHead].contains(self) }
}

/// Wall time per `OpClass`, recorded by hooks in the kernels the shipped code runs (`OpProfiler.measure`).
///
/// Off by default: with no profiler `start`ed, a hook costs one load and a branch. Only the thread that called
/// `start` records (hooks are placed outside parallel loops, around calls that use every thread). Scopes nest
/// with the outermost winning: a product inside the LM head's scope counts as LM head, not as a base matmul.
/// The step time not covered by any class — serial glue, threads waiting — is what `rows(total:)` reports as
/// the remainder.
public final class OpProfiler: @unchecked Sendable {
    /// One class's totals.
    public struct Totals: Sendable, Equatable {
        public var nanoseconds: UInt64 = 0
        /// Useful floating-point operations (compute classes) as the hooks count them.
        public var flops: Double = 0
        /// Bytes the memory-bound passes must read and write at least.
        public var bytes: Double = 0
        public var calls = 0
    }

    nonisolated(unsafe) private static var active: OpProfiler?
    private let owner: pthread_t
    private var depth = 0
    public private(set) var totals = [Totals](repeating: Totals(), count: OpClass.allCases.count)

    private init() { owner = pthread_self() }

    /// Starts recording on the calling thread and returns the profiler (replacing any running one).
    public static func start() -> OpProfiler {
        let profiler = OpProfiler()
        active = profiler
        return profiler
    }

    /// Stops recording; the returned profiler keeps its totals.
    public func stop() { if Self.active === self { Self.active = nil } }

    /// Clears the totals (e.g. after a warm-up step).
    public func reset() { totals = [Totals](repeating: Totals(), count: OpClass.allCases.count) }

    /// An open scope: where its time started, or 0 when this call records nothing.
    public struct Span: Sendable {
        fileprivate let start: UInt64
    }

    /// Opens a scope on the calling thread (`let span = OpProfiler.begin(); defer { OpProfiler.end(span, …) }`):
    /// records only when a profiler is running on this thread and no outer scope is open.
    @inline(__always)
    public static func begin() -> Span {
        guard let profiler = active, profiler.depth == 0, pthread_equal(profiler.owner, pthread_self()) != 0 else {
            return Span(start: 0)
        }
        profiler.depth = 1
        return Span(start: DispatchTime.now().uptimeNanoseconds)
    }

    /// Closes `span`, adding its wall time, `flops` and `bytes` to `kind`.
    @inline(__always)
    public static func end(_ span: Span, _ kind: OpClass, flops: Double = 0, bytes: Double = 0) {
        guard span.start != 0, let profiler = active else { return }
        let elapsed = DispatchTime.now().uptimeNanoseconds - span.start
        profiler.depth = 0
        profiler.totals[kind.rawValue].nanoseconds += elapsed
        profiler.totals[kind.rawValue].flops += flops
        profiler.totals[kind.rawValue].bytes += bytes
        profiler.totals[kind.rawValue].calls += 1
    }

    /// Runs `body` inside a scope of `kind` (`begin`, then `end`).
    @inline(__always)
    public static func measure<R>(_ kind: OpClass, flops: Double = 0, bytes: Double = 0, _ body: () throws -> R) rethrows -> R {
        let span = begin()
        defer { end(span, kind, flops: flops, bytes: bytes) }
        return try body()
    }

    /// One line of a profile: a class (nil for the remainder of the step), its seconds and share of `total`, and
    /// its rate.
    public struct Row: Sendable {
        public let kind: OpClass?
        public let seconds: Double
        public let share: Double
        /// GFLOP/s for compute classes, GB/s for memory-bound ones; nil when nothing was counted.
        public let rate: Double?
    }

    /// The table over `total` seconds of wall time: every class in order, then the remainder (time inside the
    /// step no hook covered: serial glue between kernels and threads idle outside them). Shares sum to 1.
    public func rows(total: Double) -> [Row] {
        var rows = OpClass.allCases.map { kind -> Row in
            let t = totals[kind.rawValue]
            let seconds = Double(t.nanoseconds) / 1e9
            let amount = kind.isCompute ? t.flops : t.bytes
            return Row(kind: kind, seconds: seconds, share: total > 0 ? seconds / total : 0,
                       rate: seconds > 0 && amount > 0 ? amount / seconds / 1e9 : nil)
        }
        let rest = max(0, total - rows.reduce(0) { $0 + $1.seconds })
        rows.append(Row(kind: nil, seconds: rest, share: total > 0 ? rest / total : 0, rate: nil))
        return rows
    }
}
