import LatheSupport
import Testing
@testable import LatheTensors

/// The vector dropout ops make the decisions of their definition, `CounterRandom.unit(key, i) < p`, element by
/// element (eight-lane bodies, the AVX-512 DQ bodies where the CPU runs them, and scalar tails alike), and scale by
/// exactly what the definition says.
@Suite struct DropoutTests {
    /// Every body this CPU runs.
    static let bodies = DropoutBody.allCases.filter(DropoutBody.available)

    /// Counts that end in a scalar tail, and probabilities whose p · 2²⁴ is and is not an integer (0.5, 2⁻²⁴, 0.05).
    static let cases: [(count: Int, p: Float, key: UInt64)] = [
        (4096 * 3 + 5, 0.05, 1), (1003, 0.5, 0xDEAD_BEEF), (9000, 0x1.0p-24, 7), (20_001, 0.3, .max), (7, 0.9, 3),
    ]

    @Test(arguments: cases.indices, bodies)
    func forwardKeepsAndScalesWhatTheDefinitionKeeps(_ index: Int, body: DropoutBody) {
        let (count, p, key) = Self.cases[index]
        var random = SplitMix64(seed: UInt64(index))
        let x = random.floats(count, -2, 2)
        var dropped = [Float](repeating: .nan, count: count)
        let mask = DropoutMask(key: key, p: p)
        dropoutForward(&dropped, x, count: count, mask: mask, body: body)
        let keepScale = 1 / (1 - p)
        var drops = 0
        for i in 0..<count {
            let drop = CounterRandom.unit(key, UInt64(i)) < p
            #expect(mask.drops(i) == drop, "element \(i)")
            let expected: Float = drop ? 0 : x[i] * keepScale
            #expect(dropped[i].bitPattern == expected.bitPattern, "element \(i): \(dropped[i]) vs \(expected)")
            if drop { drops += 1 }
        }
        // The dropped share is p within five binomial standard deviations.
        let sigma = (Double(count) * Double(p) * (1 - Double(p))).squareRoot()
        #expect(abs(Double(drops) - Double(count) * Double(p)) <= 5 * sigma + 1, "\(drops) of \(count) at p = \(p)")
    }

    @Test(arguments: cases.indices, bodies)
    func maskedAddsChangeOnlyWhatTheyShould(_ index: Int, body: DropoutBody) {
        let (count, p, key) = Self.cases[index]
        var random = SplitMix64(seed: 100 + UInt64(index))
        let values = random.floats(count, -1, 1)
        var start = random.floats(count, -1, 1)
        for i in stride(from: 0, to: count, by: 2) { start[i] = -0.0 }   // a dropped element's dx stays -0, not +0
        let mask = DropoutMask(key: key, p: p)
        var keptOnly = start, both = start
        addDropoutMasked(&keptOnly, values, count: count, mask: mask, kept: 3, dropped: nil, body: body)
        addDropoutMasked(&both, values, count: count, mask: mask, kept: -0.25, dropped: 1, body: body)
        for i in 0..<count {
            let drop = CounterRandom.unit(key, UInt64(i)) < p
            let expectedKept: Float = drop ? start[i] : start[i] + values[i] * 3
            let expectedBoth: Float = start[i] + values[i] * (drop ? 1 : -0.25)
            #expect(keptOnly[i].bitPattern == expectedKept.bitPattern, "element \(i)")
            #expect(both[i].bitPattern == expectedBoth.bitPattern, "element \(i)")
        }
    }
}
