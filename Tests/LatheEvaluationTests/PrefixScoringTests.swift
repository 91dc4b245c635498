import Foundation
@testable import LatheModels
import Testing

/// The prefix cache across documents: rows that share a long prefix (few-shot examples, a description) run it once,
/// and score as the padded batches do (tiny models of the model tests; no real model needed).
@Suite struct PrefixScoringTests {
    struct Tokens {
        var state: UInt64
        let vocab: Int32
        mutating func next() -> Int32 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int32((state >> 33) % UInt64(vocab))
        }
        mutating func list(_ n: Int) -> [Int32] { (0..<n).map { _ in next() } }
    }

    /// 12 documents × 3 choices after a 20-token shared prefix (plus 2 documents with another prefix, as the first
    /// documents of a first_n sampler have): grouped and whole-row scores agree to 1e-5 (fp32 sums in another order;
    /// measured ≤ 2e-6), is_greedy and token counts are equal, and every grouped row is one of the 36.
    @Test(arguments: ["tiny-llama", "tiny-qwen2"]) func groupedRowsScoreAsWholeRows(name: String) throws {
        let model = try ScoringTests.tinyModel(name)
        var random = Tokens(state: 7, vocab: Int32(model.config.vocabSize))
        let shared = random.list(20), other = random.list(20)
        var pairs = [(context: [Int32], continuation: [Int32])]()
        for document in 0..<14 {
            let context = (document < 2 ? other : shared) + random.list(3 + document % 4)
            for choice in 0..<3 { pairs.append((context, random.list(1 + (document + choice) % 3))) }
        }
        let whole = try model.scoreContinuations(pairs, maxLength: 64, batchTokens: 128, batches: { _ in true })
        let grouped = try model.scoreContinuations(pairs, maxLength: 64, batchTokens: 128, batches: { _ in true },
                                                   sharedPrefix: (tokens: 16, rows: 8))
        for (a, b) in zip(grouped, whole) {
            #expect(abs(a!.logLikelihood - b!.logLikelihood) < 1e-5, "\(a!.logLikelihood) vs \(b!.logLikelihood)")
            #expect(a!.isGreedy == b!.isGreedy && a!.tokenCount == b!.tokenCount)
        }
        let rows = pairs.map { Array(($0.context + $0.continuation).dropLast()) }
        let groups = PrefixGroup.find(rows, limits: pairs.map(\.context.count), minimumPrefix: 16, minimumRows: 8)
        #expect(groups.count == 1 && groups[0].members.sorted() == Array(6..<42) && groups[0].prefix >= 20)
    }

    /// Splitting: one run whose weakest link joins a few rows to many is split where that saves more tokens; runs
    /// below the row minimum or the prefix minimum stay in the padded batches.
    @Test func groupsSplitWhereThatSavesTokens() {
        let a = [Int32](repeating: 1, count: 30), b = [Int32](repeating: 1, count: 10) + [Int32](repeating: 2, count: 20)
        var rows = (0..<10).map { a + [Int32($0)] }          // 10 rows sharing 30 tokens
        rows += (0..<3).map { b + [Int32($0)] }              // 3 rows sharing 30 with each other, 10 with the rest
        rows += [[9, 9, 9]]                                  // shares nothing
        let limits = rows.map(\.count)
        let groups = PrefixGroup.find(rows, limits: limits, minimumPrefix: 8, minimumRows: 4)
        #expect(groups == [PrefixGroup(prefix: 30, members: Array(0..<10))])
        // With a row minimum of 2 the three rows get their own group; with a prefix minimum above 30, none qualify.
        #expect(PrefixGroup.find(rows, limits: limits, minimumPrefix: 8, minimumRows: 2).map(\.members.count).sorted() == [3, 10])
        #expect(PrefixGroup.find(rows, limits: limits, minimumPrefix: 31, minimumRows: 2).isEmpty)
        // A row's limit (its first scored position) caps what it shares: here row 0 is worth more left out.
        var capped = limits
        capped[0] = 12
        #expect(PrefixGroup.find(rows, limits: capped, minimumPrefix: 8, minimumRows: 4) == [PrefixGroup(prefix: 30, members: Array(1..<10))])
    }
}
