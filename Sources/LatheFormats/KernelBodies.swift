/// A C kernel whose bodies (portable, AVX2, …) compute the same operations in the same order and so return the same
/// bits: tests force each available body in turn and compare. `Q8Kernels` and `FP32DecodeKernels` are two.
public protocol KernelBodies {
    associatedtype Body: CaseIterable, Sendable
    /// True when `body` can run here.
    static func isAvailable(_ body: Body) -> Bool
    /// Forces `body` process-wide, or with nil restores the fastest available.
    static func force(_ body: Body?)
}

extension KernelBodies {
    /// The bodies that can run here.
    public static var availableBodies: [Body] { Body.allCases.filter(isAvailable) }

    /// Runs `body` with the kernel's `chosen` body forced (it must be available). The switch is process-wide; since
    /// every body returns the same bits, a product running concurrently elsewhere is unaffected.
    public static func with<R>(_ chosen: Body, _ body: () throws -> R) rethrows -> R {
        precondition(isAvailable(chosen), "the \(chosen) kernels cannot run here")
        force(chosen)
        defer { force(nil) }
        return try body()
    }
}
