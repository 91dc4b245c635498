import Foundation
import Testing
@testable import LatheEvaluation

/// Metrics, filters and the bootstrap, against values worked out from lm-eval / HF evaluate definitions.
@Suite struct MetricsTests {
    @Test func exactMatchOptions() {
        #expect(Metrics.exactMatch("Paris", "paris") == 0)
        #expect(Metrics.exactMatch("Paris", "paris", ignoreCase: true) == 1)
        #expect(Metrics.exactMatch("Paris!", "paris", ignoreCase: true) == 0)
        #expect(Metrics.exactMatch("Paris!", "paris", ignoreCase: true, ignorePunctuation: true) == 1)
        #expect(Metrics.exactMatch("The answer is 42", "42", regexesToIgnore: ["The answer is "]) == 1)
        #expect(Metrics.exactMatch("1,000", "1000", regexesToIgnore: [","]) == 1)
    }

    @Test func tokenF1AndRougeL() {
        #expect(Metrics.tokenF1("the cat sat", "a cat sat down") == 2 * (2.0 / 2) * (2.0 / 3) / (1 + 2.0 / 3))
        #expect(Metrics.tokenF1("", "") == 1)
        #expect(Metrics.tokenF1("dog", "cat") == 0)
        // LCS of [police, killed, gunman] and [gunman, police, killed] is 2 → P = R = 2/3.
        #expect(abs(Metrics.rougeL("police killed the gunman", "the gunman police killed") - 2.0 / 3) < 1e-12)
        #expect(Metrics.rougeL("a b c", "a b c") == 1)
    }

    @Test func perplexityFamily() {
        let word = MetricSamples(name: "word_perplexity", filter: "none", aggregation: .weightedPerplexity,
                                 values: [-10, -20], weights: [5, 5])
        #expect(abs(word.aggregate() - exp(3)) < 1e-12)
        #expect(word.standardError() == nil)
        let bits = MetricSamples(name: "bits_per_byte", filter: "none", aggregation: .bitsPerByte, values: [-10, -20], weights: [10, 20])
        #expect(abs(bits.aggregate() - 1 / log(2)) < 1e-12)
        let ppl = MetricSamples(name: "perplexity", filter: "none", aggregation: .perplexity, values: [-1, -3], weights: [])
        #expect(abs(ppl.aggregate() - exp(2)) < 1e-12)
        #expect(Metrics.wordCount("one two  three\nfour") == 4)
        #expect(Metrics.wordCount(" lead") == 2)   // re.split gives an empty first field, as in lm-eval
    }

    @Test func meanStderrIsTheSampleStandardError() {
        let acc = MetricSamples(name: "acc", filter: "none", aggregation: .mean, values: [1, 0, 0, 1, 1], weights: [])
        let variance = (3 * 0.16 + 2 * 0.36) / 4   // mean 0.6
        #expect(abs(acc.standardError()! - (variance / 5).squareRoot()) < 1e-12)
    }

    @Test func bootstrapIsDeterministicAndPaired() {
        let base = MetricSamples(name: "acc", filter: "none", aggregation: .mean, values: (0..<50).map { Double($0 % 2) }, weights: [])
        var adapted = base
        adapted.values[0] = 1
        let first = Bootstrap.pairedDeltaError(base: base, adapted: adapted, iterations: 500, seed: 7)
        #expect(first == Bootstrap.pairedDeltaError(base: base, adapted: adapted, iterations: 500, seed: 7))
        #expect(first != Bootstrap.pairedDeltaError(base: base, adapted: adapted, iterations: 500, seed: 8))
        // Identical runs: every paired resample has delta 0.
        #expect(Bootstrap.pairedDeltaError(base: base, adapted: base, iterations: 200, seed: 1) == 0)
        #expect(first! < Bootstrap.standardError(of: base, iterations: 500, seed: 7)!)
        let comparison = Comparison(base: [], adapted: [])
        #expect(comparison.rows.isEmpty)
    }

    @Test func regexAndTakeFirstFilters() {
        let steps: [FilterStep] = [.regex(pattern: #"#### (\-?[0-9\.\,]+)"#, groupSelect: 0, fallback: "[invalid]"), .takeFirst]
        #expect(OutputFilters.apply(steps, to: ["so #### 42 and #### 7", "#### 1"]) == .text("42"))
        #expect(OutputFilters.apply(steps, to: ["no number"]) == .text("[invalid]"))
        #expect(OutputFilters.regexFilter("a1 b2", pattern: "([a-z])([0-9])", groupSelect: -1, fallback: "x") == "b")
        #expect(OutputFilters.regexFilter(" x ", pattern: "x", groupSelect: 0, fallback: "?") == "x")
    }

    @Test func pythonListLiterals() {
        #expect(PythonLiteral.stringList("['a', \"b c\", 3]") == ["a", "b c", "3"])
        #expect(PythonLiteral.stringList("[]") == [])
        #expect(PythonLiteral.stringList("['it\\'s']") == ["it's"])
        #expect(PythonLiteral.stringList("a, b") == nil)
    }
}
