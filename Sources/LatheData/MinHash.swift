import LatheSupport

/// MinHash signatures over shingle hashes with universal hashing modulo the Mersenne prime 2^61 − 1, as
/// datatrove's `MinhashDedupSignature` (permutation j maps h to (a_j·h + b_j) mod p; the signature keeps the
/// minimum per permutation), grouped into `bands` × `rows` for locality-sensitive hashing.
public struct MinHash: Sendable {
    /// The Mersenne prime 2^61 − 1.
    public static let prime: UInt64 = (1 << 61) - 1

    /// Settings, with datatrove's defaults plus the Jaccard confirmation.
    public struct Config: Codable, Sendable, Equatable {
        /// Words per shingle (5).
        public var ngram = 5
        /// LSH bands (14).
        public var bands = 14
        /// Rows (hashes) per band (8). `bands × rows` permutations in all (112).
        public var rows = 8
        /// Seed of the permutation parameters (1).
        public var seed: UInt64 = 1
        /// A candidate pair counts as a near duplicate only if the exact Jaccard similarity of its shingle sets is
        /// at least this (0.8). datatrove confirms nothing: its 14 × 8 bands are tuned so that pairs at s = 0.8
        /// are caught with probability 1−(1−0.8⁸)¹⁴ = 0.92 (minhash.py's header; the S-curve's midpoint is
        /// (1/14)^(1/8) ≈ 0.72), so 0.8 is the similarity the banding is meant to find; text-dedup and
        /// data-juicer default to 0.7–0.8. Exact rather than estimated from signatures: it costs one re-read of
        /// the two staged records per candidate pair and no memory per record, where keeping 112 signature
        /// values would cost 896 bytes per record, and an estimate from 112 permutations has a standard error of
        /// ≈ 0.04 at 0.8. nil joins every candidate pair, as datatrove does.
        public var jaccardThreshold: Double? = 0.8
        /// Creates the defaults.
        public init() {}
        enum CodingKeys: String, CodingKey { case ngram, bands, rows, seed, jaccardThreshold = "jaccard_threshold" }
    }

    /// Settings.
    public let config: Config
    private let a: [UInt64]
    private let b: [UInt64]

    /// Creates the permutations from the seed (a in [1, p), b in [0, p)): the SplitMix64 stream from one step
    /// past the seed, as the permutations have always been drawn (signatures stay comparable across versions).
    public init(_ config: Config = Config()) {
        self.config = config
        var random = SplitMix64(seed: config.seed &+ SplitMix64.increment)
        let count = config.bands * config.rows
        a = (0..<count).map { _ in 1 + random.next() % (Self.prime - 1) }
        b = (0..<count).map { _ in random.next() % Self.prime }
    }

    /// Permutations in all.
    public var permutations: Int { a.count }

    /// x mod p for x < 2^64.
    @inline(__always)
    static func reduce(_ x: UInt64) -> UInt64 {
        let r = (x & prime) &+ (x >> 61)
        return r >= prime ? r - prime : r
    }

    /// Writes the signature of `shingles` (permutations values) into `signature`; false when there are no shingles.
    /// Permutation-major: each permutation's minimum stays in a register while the shingles stream past, two
    /// permutations per pass.
    public func signature(_ shingles: [UInt64], into signature: UnsafeMutableBufferPointer<UInt64>) -> Bool {
        guard !shingles.isEmpty else { return false }
        let reduced = shingles.map(Self.reduce)
        let count = a.count
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                reduced.withUnsafeBufferPointer { hashes in
                    var j = 0
                    while j + 1 < count {
                        let (a0, b0, a1, b1) = (a[j], b[j], a[j + 1], b[j + 1])
                        var m0 = UInt64.max, m1 = UInt64.max
                        for h in hashes {
                            m0 = min(m0, Self.permute(h, a0, b0))
                            m1 = min(m1, Self.permute(h, a1, b1))
                        }
                        signature[j] = m0; signature[j + 1] = m1
                        j += 2
                    }
                    if j < count {
                        var m = UInt64.max
                        for h in hashes { m = min(m, Self.permute(h, a[j], b[j])) }
                        signature[j] = m
                    }
                }
            }
        }
        return true
    }

    /// (a·h + b) mod p for h < p, a < p, b < p.
    @inline(__always)
    static func permute(_ h: UInt64, _ a: UInt64, _ b: UInt64) -> UInt64 {
        let (hi, lo) = a.multipliedFullWidth(by: h)   // < 2^122
        // (hi·2^64 + lo) mod p = (lo & p) + (hi << 3 | lo >> 61), then + b, folded twice.
        var s = (lo & prime) &+ ((hi << 3) | (lo >> 61)) &+ b
        s = (s & prime) &+ (s >> 61)
        if s >= prime { s -= prime }
        return s
    }

    /// One key per band: a hash of the band's rows and its index. Records sharing any band key are candidates.
    public func bandKeys(_ signature: UnsafeBufferPointer<UInt64>, into keys: UnsafeMutableBufferPointer<UInt64>) {
        for band in 0..<config.bands {
            var h = Hash64.mix(UInt64(band) &+ 0xBA4D)
            for r in 0..<config.rows { h = Hash64.mix(h ^ signature[band * config.rows + r]) }
            keys[band] = h
        }
    }

    /// Band keys of `text` (nil when it has fewer words than one shingle).
    public func bandKeys(of text: String) -> [UInt64]? {
        var words: [UInt64] = [], shingles: [UInt64] = []
        Shingler(n: config.ngram).shingles(text, words: &words, into: &shingles)
        var signature = [UInt64](repeating: 0, count: permutations)
        var keys = [UInt64](repeating: 0, count: config.bands)
        let ok = signature.withUnsafeMutableBufferPointer { self.signature(shingles, into: $0) }
        guard ok else { return nil }
        signature.withUnsafeBufferPointer { s in keys.withUnsafeMutableBufferPointer { bandKeys(s, into: $0) } }
        return keys
    }
}
