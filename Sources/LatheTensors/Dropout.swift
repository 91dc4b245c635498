// Inverted dropout with counter-based masks (PEFT's `lora_dropout`): element i under a key is dropped when
// `CounterRandom.unit(key, i) < p`, so a mask is a pure function of (key, i). The forward and both uses in the
// backward recompute it instead of storing it, and it is the same on every thread count. Eight elements' decisions
// come from one vector of SplitMix64 draws; the scalar tail makes the same decisions one at a time. Where the CPU
// has AVX-512 DQ, C bodies (CLatheKernels/dropout.c) decide sixteen per step with native 64-bit multiplies.
import CLatheKernels
import LatheSupport

/// Which code decides a mask: the Swift eight-lane loops, or the AVX-512 DQ C bodies where the CPU runs them.
enum DropoutBody: CaseIterable, Sendable {
    case vector, wide

    /// `wide` where available, else `vector`.
    static let fastest: DropoutBody = lathe_cpu_vector_level() >= 2 ? .wide : .vector

    /// Vector level 2 (OpenBLAS's SkylakeX kernels) includes AVX-512 DQ.
    static func available(_ body: DropoutBody) -> Bool { body == .vector || fastest == .wide }
}

/// Which elements a dropout of probability `p` drops under `key`.
public struct DropoutMask: Sendable {
    public let key: UInt64
    public let p: Float
    /// Element i is dropped when its 24-bit draw k is below this. `unit` = k · 2⁻²⁴ exactly, so for an integer k,
    /// k · 2⁻²⁴ < p ⟺ k < p · 2²⁴ ⟺ k < ⌈p · 2²⁴⌉: the decisions of `CounterRandom.unit(key, i) < p`, bit for bit.
    @usableFromInline let threshold: UInt32

    public init(key: UInt64, p: Float) {
        precondition(p >= 0 && p < 1, "dropout probability \(p)")
        self.key = key
        self.p = p
        threshold = UInt32((p * 0x1.0p24).rounded(.up))
    }

    /// 1 / (1 − p): what a kept element is multiplied by.
    public var keepScale: Float { 1 / (1 - p) }

    /// True when element `i` is dropped.
    @inlinable @inline(__always)
    public func drops(_ i: Int) -> Bool { CounterRandom.unitBits(key, UInt64(i)) < threshold }

    /// `drops` for elements `i ..< i + 8`.
    @inlinable @inline(__always)
    func drops8(_ i: Int) -> SIMDMask<SIMD8<Int32>> {
        CounterRandom.unitBits8(key, UInt64(i)) .< SIMD8(repeating: threshold)
    }
}

/// `dropped[i] = x[i] · keepScale`, or 0 where `mask` drops element i, for i in 0..<count.
public func dropoutForward(_ dropped: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, mask: DropoutMask) {
    dropoutForward(dropped, x, count: count, mask: mask, body: .fastest)
}

func dropoutForward(_ dropped: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, mask: DropoutMask,
                    body: DropoutBody) {
    precondition(DropoutBody.available(body), "dropout body \(body) does not run on this CPU")
    let scale = mask.keepScale
    let zero = Vector8()
    Parallel.forEachChunk(count, minimumChunk: 4096) { range in
        if body == .wide {
            lathe_dropout_forward(mask.key, mask.threshold, Int64(range.lowerBound), Int64(range.count), x, dropped, scale)
            return
        }
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            store8((load8(x + i) * scale).replacing(with: zero, where: mask.drops8(i)), dropped + i)
            i += 8
        }
        while i < range.upperBound { dropped[i] = mask.drops(i) ? 0 : x[i] * scale; i += 1 }
    }
}

/// `dx[i] += values[i] · kept` where `mask` keeps element i and `values[i] · dropped` where it drops it, for i in
/// 0..<count; with `dropped` nil a dropped element's `dx` is left as it is.
public func addDropoutMasked(_ dx: UnsafeMutablePointer<Float>, _ values: UnsafePointer<Float>, count: Int, mask: DropoutMask,
                             kept: Float, dropped: Float?) {
    addDropoutMasked(dx, values, count: count, mask: mask, kept: kept, dropped: dropped, body: .fastest)
}

func addDropoutMasked(_ dx: UnsafeMutablePointer<Float>, _ values: UnsafePointer<Float>, count: Int, mask: DropoutMask,
                      kept: Float, dropped: Float?, body: DropoutBody) {
    precondition(DropoutBody.available(body), "dropout body \(body) does not run on this CPU")
    let (keptFactor, droppedFactor) = (Vector8(repeating: kept), Vector8(repeating: dropped ?? 0))
    Parallel.forEachChunk(count, minimumChunk: 4096) { range in
        if body == .wide {
            lathe_dropout_add(mask.key, mask.threshold, Int64(range.lowerBound), Int64(range.count), values, dx, kept,
                              dropped ?? 0, dropped == nil ? 0 : 1)
            return
        }
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let (old, v, drops) = (load8(dx + i), load8(values + i), mask.drops8(i))
            let sum = old + v * keptFactor.replacing(with: droppedFactor, where: drops)
            store8(dropped == nil ? sum.replacing(with: old, where: drops) : sum, dx + i)
            i += 8
        }
        while i < range.upperBound {
            if !mask.drops(i) { dx[i] += values[i] * kept } else if let dropped { dx[i] += values[i] * dropped }
            i += 1
        }
    }
}
