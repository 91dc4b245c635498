/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast, seedable generator, and Lathe's only one. Sampling,
/// shuffles, LoRA initialisation, dropout masks (through `CounterRandom`), MinHash permutations, bootstrap
/// resamples and the benchmarks' synthetic data all draw from it, so a seed gives the same numbers on every machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    @usableFromInline var state: UInt64

    /// A generator whose first draw is `mix(seed)`.
    @inlinable
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits: the state advances by `increment`, then goes through `finalize`.
    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.finalize(state)
    }

    /// Uniform in [0, 1) with 53 bits.
    @inlinable
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform-ish in `0..<n` by modulo reduction (bias below n / 2^64), as the shuffles and bootstrap draw.
    @inlinable
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "below(\(n))")
        return Int(next() % UInt64(n))
    }

    /// The state step, 2^64 / φ (odd, so the state visits every 64-bit value).
    @inlinable
    public static var increment: UInt64 { 0x9E37_79B9_7F4A_7C15 }

    /// The output function: a bijective mix with good avalanche (Stafford's variant 13 of MurmurHash3's finaliser).
    @inlinable @inline(__always)
    public static func finalize(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `finalize` lane-wise: the same arithmetic on each lane, so the same bits.
    @inlinable @inline(__always)
    public static func finalize(_ x: SIMD8<UInt64>) -> SIMD8<UInt64> {
        var z = x
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    /// The first draw of a generator seeded with `x`, `finalize(x + increment)`: a 64-bit hash mix.
    @inlinable @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 { finalize(x &+ increment) }

    /// Draw number `index + 1` of a generator seeded with `seed`, computed without drawing the ones before it.
    @inlinable @inline(__always)
    public static func draw(seed: UInt64, index: UInt64) -> UInt64 { finalize(seed &+ (index &+ 1) &* increment) }

    /// `draw(seed:index:)` for the eight indices `index ..< index + 8`, lane j holding index + j.
    @inlinable @inline(__always)
    public static func draws(seed: UInt64, index: UInt64) -> SIMD8<UInt64> {
        finalize(seed &+ (SIMD8<UInt64>(0, 1, 2, 3, 4, 5, 6, 7) &+ (index &+ 1)) &* increment)
    }
}

/// Counter-based random numbers: a value is a pure function of its key, so dropout masks and initialisations
/// do not depend on how many numbers were drawn before — a resumed run draws the same ones.
public enum CounterRandom {
    /// Mixes key parts into one 64-bit key.
    public static func key(_ parts: UInt64...) -> UInt64 {
        var state: UInt64 = 0x6A09_E667_F3BC_C908
        for part in parts { state = SplitMix64.mix(state ^ part) }
        return state
    }

    /// Uniform in [0, 1) (24 bits) for element `index` under `key`: `Float(unitBits(key, index)) · 2⁻²⁴`.
    @inlinable
    public static func unit(_ key: UInt64, _ index: UInt64) -> Float {
        Float(unitBits(key, index)) * 0x1.0p-24
    }

    /// The 24-bit integer behind `unit(key, index)`.
    @inlinable @inline(__always)
    public static func unitBits(_ key: UInt64, _ index: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: SplitMix64.draw(seed: key, index: index) >> 40)
    }

    /// `unitBits` for the eight indices `index ..< index + 8`.
    @inlinable @inline(__always)
    public static func unitBits8(_ key: UInt64, _ index: UInt64) -> SIMD8<UInt32> {
        SIMD8<UInt32>(truncatingIfNeeded: SplitMix64.draws(seed: key, index: index) &>> 40)
    }
}
