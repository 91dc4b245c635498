import LatheSupport
import Testing
@testable import LatheTensors

@Suite struct EmbeddingTests {
    let n = 7, c = 10, vocab = 5
    let tokens: [Int32] = [3, 0, 3, 4, 1, 3, 2]   // repeats exercise the scatter-add

    @Test func forwardCopiesTableRows() {
        var rng = SplitMix64(seed: 1)
        let table = rng.floats(vocab * c)
        var out = [Float](repeating: .nan, count: n * c)
        embeddingForward(&out, tokens, table, n: n, c: c)
        for row in 0..<n {
            for j in 0..<c { #expect(out[row * c + j] == table[Int(tokens[row]) * c + j]) }
        }
    }

    @Test func backwardMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 2)
        let table = rng.floats(vocab * c), w = rng.floats(n * c)
        var dTable = [Float](repeating: 0, count: vocab * c)
        embeddingBackward(&dTable, w, tokens, n: n, c: c)
        checkGradient("dTable", table, analytic: dTable) { table in
            var out = [Float](repeating: 0, count: n * c)
            embeddingForward(&out, tokens, table, n: n, c: c)
            return weightedSum(w, out)
        }
    }

    @Test func backwardAccumulates() {
        var rng = SplitMix64(seed: 3)
        let dOut = rng.floats(n * c)
        var once = [Float](repeating: 0, count: vocab * c)
        embeddingBackward(&once, dOut, tokens, n: n, c: c)
        var twice = [Float](repeating: 0.5, count: vocab * c)
        embeddingBackward(&twice, dOut, tokens, n: n, c: c)
        embeddingBackward(&twice, dOut, tokens, n: n, c: c)
        for i in 0..<once.count { #expect(abs(twice[i] - (0.5 + 2 * once[i])) < 1e-6) }
    }
}
