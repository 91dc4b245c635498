/// A row-major fp32 array with a shape. Ops work on raw pointers into `storage` (llm.c style);
/// a `Tensor` is how buffers are owned, sized and passed between stages.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first, e.g. `[B, T, C]`.
    public private(set) var shape: [Int]
    /// `shape.reduce(1, *)` values, row-major.
    public var storage: [Float]

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.storage = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor over existing values; `values.count` must equal the product of `shape`.
    public init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values do not fill shape \(shape)")
        self.shape = shape
        self.storage = values
    }

    /// Number of elements.
    @inlinable public var count: Int { storage.count }

    /// The same values under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, values: storage)
    }

    /// Sets every element to zero, keeping the allocation.
    public mutating func zero() {
        storage.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Largest absolute difference to `other` (same shape); used by tests and golden comparisons.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shape \(shape) vs \(other.shape)")
        var worst: Float = 0
        for i in 0..<count { worst = max(worst, abs(storage[i] - other.storage[i])) }
        return worst
    }
}
