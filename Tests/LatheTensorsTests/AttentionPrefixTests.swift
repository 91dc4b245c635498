import LatheSupport
import Testing
@testable import LatheTensors

/// The prefix kernel (KV-cache step and shared-context scoring) against the batched kernel on the whole sequence:
/// rows after a cached prefix must see exactly what they would see in one causal pass.
@Suite struct AttentionPrefixTests {
    static let (heads, kvHeads, headDim) = (4, 2, 8)

    /// Batched attention over one sequence of `rows` rows (q (rows, H·D), k, v (rows, KVH·D)).
    func batched(_ q: [Float], _ k: [Float], _ v: [Float], rows: Int, window: Int?) -> [Float] {
        var out = [Float](repeating: 0, count: rows * Self.heads * Self.headDim)
        var lse = [Float](repeating: 0, count: rows * Self.heads)
        attentionForward(&out, &lse, q, k, v, segments: nil, batch: 1, tokens: rows, heads: Self.heads,
                         kvHeads: Self.kvHeads, headDim: Self.headDim, window: window)
        return out
    }

    /// A prefix of 7 keys takes the row loop; one of 40 keys with 22 rows takes the blocked path
    /// (`prefixBlockMinimumRows`, `prefixBlockMinimumKeys`), in three blocks of 8 rows, the last one short. A window
    /// of 3 ends inside every suffix; one of 45 inside the prefix for some rows and before it for others.
    @Test(arguments: [7, 40], [nil, 3, 45] as [Int?])
    func suffixesAfterAPrefixEqualOneCausalPassEach(prefix: Int, window: Int?) {
        let (qw, kvw) = (Self.heads * Self.headDim, Self.kvHeads * Self.headDim)
        let suffixLengths = prefix < prefixBlockMinimumKeys ? [4, 1, 3] : [12, 1, 9]
        #expect(prefix < prefixBlockMinimumKeys || suffixLengths.reduce(0, +) >= prefixBlockMinimumRows)
        var rng = SplitMix64(seed: 80)
        let prefixQ = rng.floats(prefix * qw, -1.5, 1.5)
        let prefixK = rng.floats(prefix * kvw, -1.5, 1.5), prefixV = rng.floats(prefix * kvw)
        let suffixes = suffixLengths.map { n in (q: rng.floats(n * qw, -1.5, 1.5), k: rng.floats(n * kvw, -1.5, 1.5), v: rng.floats(n * kvw)) }
        var rowStart: [Int] = []
        for n in suffixLengths { let start = rowStart.count; rowStart += Array(repeating: start, count: n) }
        let total = rowStart.count
        var out = [Float](repeating: .nan, count: total * qw)
        prefixAttentionForward(&out, suffixes.flatMap(\.q), suffixes.flatMap(\.k), suffixes.flatMap(\.v),
                               prefixKeys: prefixK, prefixValues: prefixV, rowStart: rowStart, prefix: prefix, n: total,
                               heads: Self.heads, kvHeads: Self.kvHeads, headDim: Self.headDim, window: window)
        var row = 0
        for (s, n) in suffixLengths.enumerated() {
            let whole = batched(prefixQ + suffixes[s].q, prefixK + suffixes[s].k, prefixV + suffixes[s].v,
                                rows: prefix + n, window: window)
            let expected = Array(whole[(prefix * qw)...])
            let got = Array(out[(row * qw)..<((row + n) * qw)])
            var worst: Float = 0
            for i in got.indices { worst = max(worst, abs(got[i] - expected[i])) }
            #expect(worst < 1e-5, "prefix \(prefix) suffix \(s) window \(window ?? 0): \(worst)")
            row += n
        }
    }

    /// The batched decode step's kernel: each row attends to its own cache, exactly (bit for bit) as the
    /// KV-cache step computes that row alone, and within 1e-5 of one causal pass over its sequence.
    @Test(arguments: [nil, 3] as [Int?])
    func rowsOfDifferentSequencesEqualTheirOwnSteps(window: Int?) {
        let (qw, kvw) = (Self.heads * Self.headDim, Self.kvHeads * Self.headDim)
        let lengths = [5, 1, 9]   // each sequence's rows, its last being the row decoded now
        var rng = SplitMix64(seed: 81)
        let sequences = lengths.map { n in (q: rng.floats(n * qw, -1.5, 1.5), k: rng.floats(n * kvw, -1.5, 1.5), v: rng.floats(n * kvw)) }
        var keys = sequences.map { sequence -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: sequence.k.count)
            p.initialize(from: sequence.k, count: sequence.k.count)
            return p
        }
        var values = sequences.map { sequence -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: sequence.v.count)
            p.initialize(from: sequence.v, count: sequence.v.count)
            return p
        }
        defer { (keys + values).forEach { $0.deallocate() } }
        let positions = lengths.map { $0 - 1 }
        let queries = zip(sequences, lengths).flatMap { Array($0.q[(($1 - 1) * qw)...]) }
        var out = [Float](repeating: .nan, count: lengths.count * qw)
        sequenceAttentionForward(&out, queries, keys: &keys, values: &values, positions: positions, n: lengths.count,
                                 heads: Self.heads, kvHeads: Self.kvHeads, headDim: Self.headDim, window: window)
        for (s, n) in lengths.enumerated() {
            let last = n - 1
            var alone = [Float](repeating: .nan, count: qw)
            prefixAttentionForward(&alone, Array(sequences[s].q[(last * qw)...]), Array(sequences[s].k[(last * kvw)...]),
                                   Array(sequences[s].v[(last * kvw)...]), prefixKeys: sequences[s].k, prefixValues: sequences[s].v,
                                   rowStart: nil, prefix: last, n: 1, heads: Self.heads, kvHeads: Self.kvHeads,
                                   headDim: Self.headDim, window: window)
            let got = Array(out[(s * qw)..<((s + 1) * qw)])
            #expect(got.map(\.bitPattern) == alone.map(\.bitPattern), "sequence \(s) window \(window ?? 0)")
            let whole = batched(sequences[s].q, sequences[s].k, sequences[s].v, rows: n, window: window)
            var worst: Float = 0
            for i in got.indices { worst = max(worst, abs(got[i] - whole[last * qw + i])) }
            #expect(worst < 1e-5, "sequence \(s) window \(window ?? 0): \(worst)")
        }
    }
}
