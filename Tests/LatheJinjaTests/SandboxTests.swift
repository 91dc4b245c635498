import Testing
@testable import LatheJinja

/// True when rendering `source` stops with `TemplateError.limitExceeded` (at parse or render time).
func hitsLimit(_ source: String, _ limits: TemplateLimits = .default, _ context: [String: TemplateValue] = [:]) -> Bool {
    do {
        _ = try Template(source, limits: limits).render(context)
        return false
    } catch TemplateError.limitExceeded {
        return true
    } catch {
        return false
    }
}

@Test func hugeRangeIsRefused() {
    #expect(hitsLimit("{% for i in range(10**9) %}x{% endfor %}"))
}

@Test func nestedLoopsHitTheIterationBound() {
    #expect(hitsLimit("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                      TemplateLimits(maxIterations: 50_000)))
    #expect(hitsLimit("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
                      TemplateLimits(maxIterations: 10_000)))
}

@Test func unboundedMacroRecursionHitsTheCallDepth() throws {
    #expect(hitsLimit("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"))
    // The bound is on depth, not on the number of calls: 2^8 calls at depth 8 are fine.
    let fanOut = "{% macro f(n) %}{% if n < 8 %}{{ f(n + 1) }}{{ f(n + 1) }}{% else %}.{% endif %}{% endmacro %}{{ f(0) }}"
    #expect(try Template(fanOut, limits: TemplateLimits(maxCallDepth: 10)).render([:]) == String(repeating: ".", count: 256))
}

@Test func hugeStringsAreRefusedBeforeAllocation() {
    #expect(hitsLimit("{{ 'a' * 10**9 }}"))
    #expect(hitsLimit("{{ 'abc' * 9223372036854775807 }}"))
    #expect(hitsLimit("{% set ns = namespace(s='ab') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}"))
    #expect(hitsLimit("{% set ns = namespace(s='ab') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"))
    #expect(hitsLimit("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", TemplateLimits(maxOutputBytes: 100_000)))
    #expect(hitsLimit("{{ 'x' * 2000 }}", TemplateLimits(maxOutputBytes: 1000)))
}

@Test func growingListsAndSharedTreesAreBounded() {
    #expect(hitsLimit("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}"))
    #expect(hitsLimit("{{ [1] * 10**12 }}"))
    let tree = "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}"
    #expect(hitsLimit(tree + "{{ ns.l | tojson }}"))
    #expect(hitsLimit(tree + "{{ ns.l }}"))
    #expect(hitsLimit(tree + "{{ ns.l == ns.l }}"))
    #expect(hitsLimit(tree + "{{ ns.l | string | length }}"))
}

@Test func deepSourceNestingIsRefusedNotCrashing() {
    let parens = String(repeating: "(", count: 50_000) + "1" + String(repeating: ")", count: 50_000)
    #expect(hitsLimit("{{ " + parens + " }}"))
    // 100,000 unclosed brackets: the parser reaches the end without overflowing the stack and says what is missing.
    #expect(throws: TemplateError.self) { _ = try Template("{{ " + String(repeating: "[", count: 100_000) + " }}") }
    #expect(hitsLimit(String(repeating: "{% if true %}", count: 20_000) + String(repeating: "{% endif %}", count: 20_000)))
    #expect(hitsLimit("{{ 1" + String(repeating: " + 1", count: 100_000) + " }}"))
    #expect(hitsLimit("{{ x" + String(repeating: "|trim", count: 100_000) + " }}"))
    #expect(hitsLimit("{{ x" + String(repeating: ".a", count: 100_000) + " }}"))
    #expect(hitsLimit("{{ " + String(repeating: "not ", count: 100_000) + "x }}"))
    #expect(hitsLimit("{{ " + String(repeating: "-", count: 100_000) + "1 }}"))
}

@Test func deepButAllowedNestingInsideDeepRecursionDoesNotOverflowTheStack() throws {
    // A call at the bottom of a deeply nested expression, recursing to the call-depth bound.
    let inner = String(repeating: "(", count: 40) + "f(n + 1)" + String(repeating: ")", count: 40)
    let source = "{% macro f(n) %}{% if n < 64 %}{% if true %}{% for i in [1] %}{{ \(inner) }}{% endfor %}{% endif %}{% endif %}{% endmacro %}{{ f(1) }}"
    #expect(try Template(source).render([:]) == "")
}

/// Recursion that goes through every heavy evaluator path stops at the frame bound instead of overflowing the stack.
@Test func deepRecursionThroughEveryPathStopsCleanly() {
    let wraps: [(String, String)] = [
        (String(repeating: "[", count: 45), String(repeating: "]", count: 45)),
        (String(repeating: "{'k': ", count: 45), String(repeating: "}", count: 45)),
        ("(", ")" + String(repeating: "|trim|default('')|replace('a', 'b')", count: 15)),
        ("(", ")" + String(repeating: " ~ 'x' if true else 'y'", count: 15)),
        ("[", "] | map('string') | select('string') | selectattr('x', 'defined') | join"),
        ("(", ")" + String(repeating: ".strip().lower()", count: 15)),
    ]
    for (open, close) in wraps {
        let source = "{% macro f(n) %}{% if n < 60 %}{% for i in [1] %}{{ \(open)f(n + 1)\(close) }}{% endfor %}{% endif %}{% endmacro %}{{ f(1) }}"
        do {
            _ = try Template(source).render([:])
        } catch TemplateError.limitExceeded {
            // Stopped at a bound (nesting depth or output size) instead of overflowing the stack.
        } catch {
            Issue.record("\(open): unexpected \(error)")
        }
    }
    let caller = "{% macro f(n) %}{% call f(n + 1) %}{{ caller() }}{% endcall %}{% endmacro %}{{ f(1) }}"
    #expect(hitsLimit(caller))
}

@Test func oversizedTemplateIsRefused() {
    #expect(hitsLimit(String(repeating: "a", count: 2_000), TemplateLimits(maxTemplateBytes: 1_000)))
}

/// Where Python's unbounded integers would give a number Lathe's 64-bit ones cannot hold, rendering stops with a
/// `TemplateError`; where Python gives a small result from huge operands, Lathe gives the same.
@Test func arithmeticOverflowIsAnErrorNotATrap() throws {
    let overflowing = ["{{ 10 ** 100 }}", "{{ 9223372036854775807 + 1 }}", "{{ -(-9223372036854775807 - 1) }}",
                       "{{ (-9223372036854775807 - 1) // -1 }}", "{{ range(0, 10, -9223372036854775807 - 1) | list }}",
                       "{{ '%d' | format(1e300) }}", "{{ 1e300 | int }}", "{{ '1e300' | int }}", "{{ 1 / 0 }}", "{{ 1 % 0 }}"]
    for source in overflowing {
        do {
            let rendered = try Template(source).render([:])
            Issue.record("\(source): rendered \"\(rendered)\" instead of stopping with an error")
        } catch is TemplateError {
        } catch {
            Issue.record("\(source): unexpected \(error)")
        }
    }
    let fitting = ["{{ [1, 2][::9223372036854775807] }}": "[1]",
                   "{{ 'a b c'.split(none, 9223372036854775807) }}": "['a', 'b', 'c']",
                   "{{ (-9223372036854775807 - 1) // 1 }}": "-9223372036854775808",
                   "{{ 'nan' | float | int(7) }}": "7"]
    for (source, expected) in fitting {
        #expect(try Template(source).render([:]) == expected, "\(source)")
    }
}
