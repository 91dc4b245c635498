import LatheSupport
import Testing
@testable import LatheData

/// A corpus of unrelated documents followed by planted variants of some of them with known shingle overlap.
struct PlantedCorpus {
    var texts: [String] = []
    /// (base index, variant index, exact Jaccard of their 5-gram shingle sets).
    var pairs: [(Int, Int, Double)] = []

    init(bases: Int, similar: Int, distractors: Int, words: Int = 200) {
        var rng = seededGenerator(42)
        func word() -> String { syntheticWord(Int(rng.next() % 60_000) + 5000) }
        var docs: [[String]] = (0..<bases).map { _ in (0..<words).map { _ in word() } }
        texts = docs.map { $0.joined(separator: " ") }
        let shingler = Shingler(n: 5)
        for v in 0..<(similar + distractors) {
            let base = v % bases
            // Similar: 0–4 edited words (Jaccard ≥ ~0.8); distractors: 14–24 (Jaccard ≤ ~0.55).
            let edits = v < similar ? Int(rng.next() % 5) : 14 + Int(rng.next() % 11)
            var variant = docs[base]
            for _ in 0..<edits { variant[Int(rng.next() % UInt64(words))] = word() }
            docs.append(variant)
            texts.append(variant.joined(separator: " "))
            let j = Shingler.jaccard(shingler.shingleSet(texts[base]), shingler.shingleSet(texts.last!))
            pairs.append((base, texts.count - 1, j))
        }
    }

    /// Survivor of each text under `config`.
    func cluster(_ config: MinHash.Config) throws -> NearDuplicates.Result {
        let minHash = MinHash(config)
        var keys: [UInt64] = []
        var signed: [Bool] = []
        for t in texts {
            let k = minHash.bandKeys(of: t)
            keys += k ?? [UInt64](repeating: 0, count: config.bands)
            signed.append(k != nil)
        }
        let shingler = Shingler(n: config.ngram)
        let sets = texts.map(shingler.shingleSet)
        let verify: ((Int, Int) -> Bool)? = config.jaccardThreshold.map { t in { Shingler.jaccard(sets[$0], sets[$1]) >= t } }
        return try NearDuplicates.cluster(count: texts.count, bands: config.bands, keys: keys, hasSignature: signed, verify: verify)
    }
}

func recallAndPrecision(_ corpus: PlantedCorpus, _ result: NearDuplicates.Result) -> (recall: Double, precision: Double, truePairs: Int) {
    let truePairs = corpus.pairs.filter { $0.2 >= 0.8 }
    let found = truePairs.filter { result.survivor[$0.0] == result.survivor[$0.1] }.count
    let shingler = Shingler(n: 5)
    var predicted = 0, correct = 0
    for (i, s) in result.survivor.enumerated() where s != i {
        predicted += 1
        if Shingler.jaccard(shingler.shingleSet(corpus.texts[i]), shingler.shingleSet(corpus.texts[s])) >= 0.8 { correct += 1 }
    }
    return (Double(found) / Double(truePairs.count), predicted == 0 ? 1 : Double(correct) / Double(predicted), truePairs.count)
}

@Test func minHashFindsPlantedNearDuplicates() throws {
    let corpus = PlantedCorpus(bases: 300, similar: 160, distractors: 100)
    #expect(corpus.pairs.filter { $0.2 >= 0.8 }.count >= 140)
    #expect(corpus.pairs.suffix(100).allSatisfy { $0.2 < 0.6 })
    var unconfirmed = MinHash.Config(); unconfirmed.jaccardThreshold = nil
    let plain = recallAndPrecision(corpus, try corpus.cluster(unconfirmed))
    #expect(plain.recall >= 0.95)
    #expect(plain.precision >= 0.95)
    let verified = recallAndPrecision(corpus, try corpus.cluster(MinHash.Config()))
    #expect(verified.recall >= 0.95)
    #expect(verified.precision == 1.0)
}

@Test func unrelatedDocumentsAreNotClustered() throws {
    let corpus = PlantedCorpus(bases: 200, similar: 0, distractors: 0)
    let result = try corpus.cluster(MinHash.Config())
    #expect(result.survivor == Array(0..<200))
}

@Test func signatureMatchesAPlainModularReference() {
    let minHash = MinHash(MinHash.Config())
    let shingles: [UInt64] = [1, 12345, UInt64.max, 1 << 61, 987_654_321_987]
    var signature = [UInt64](repeating: 0, count: minHash.permutations)
    _ = signature.withUnsafeMutableBufferPointer { minHash.signature(shingles, into: $0) }
    // Reference with exact 128-bit arithmetic through two 64-bit halves, one permutation at a time.
    var state: UInt64 = 1
    func next() -> UInt64 { state &+= 0x9E37_79B9_7F4A_7C15; return Hash64.mix(state) }
    let p = MinHash.prime
    let a = (0..<112).map { _ in 1 + next() % (p - 1) }
    let b = (0..<112).map { _ in next() % p }
    for j in [0, 1, 57, 111] {
        let expected = shingles.map { h -> UInt64 in
            let x = h % p
            let (hi, lo) = a[j].multipliedFullWidth(by: x)
            let (q, r) = p.dividingFullWidth((hi, lo))
            _ = q
            return (r + b[j]) % p
        }.min()!
        #expect(signature[j] == expected)
    }
}

@Test func unionFindKeepsTheEarliestRecord() {
    var sets = UnionFind(count: 6)
    sets.union(4, 2); sets.union(5, 4); sets.union(1, 3)
    #expect((0..<6).map { sets.find($0) } == [0, 1, 2, 1, 2, 2])
}

@Test func contaminationIndexMatchesNearCopiesOfEvalTexts() {
    let evalText = prose(120, seed: 77)
    var index = ContaminationIndex(evaluationTexts: [evalText, "too short"], minHash: MinHash())
    #expect(index.indexedCount == 1)
    let recased = evalText.replacingOccurrences(of: "the", with: "The")
    let keys = MinHash().bandKeys(of: recased)!
    #expect(keys.withUnsafeBufferPointer { index.match(keys: $0, text: recased) } == 0)
    let otherText = prose(120, seed: 78)
    let other = MinHash().bandKeys(of: otherText)!
    #expect(other.withUnsafeBufferPointer { index.match(keys: $0, text: otherText) } == nil)
    var strict = MinHash.Config(); strict.jaccardThreshold = 0.9
    index = ContaminationIndex(evaluationTexts: [evalText], minHash: MinHash(strict))
    let near = MinHash(strict).bandKeys(of: evalText)!
    #expect(near.withUnsafeBufferPointer { index.match(keys: $0, text: evalText) } == 0)
}

@Test func shinglesIgnoreCasePunctuationNumbersAndAccents() {
    let s = Shingler(n: 2)
    #expect(s.shingleSet("Hello, World! It costs 3.50 today") == s.shingleSet("hello world it costs 7 today"))
    #expect(s.shingleSet("Café crème brûlée") == s.shingleSet("cafe creme brulee"))
    #expect(s.shingleSet("one") .isEmpty)
}
