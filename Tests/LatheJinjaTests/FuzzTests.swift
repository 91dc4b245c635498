import LatheSupport
import Testing
@testable import LatheJinja

let fuzzFragments = [
    "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "{{-", "-}}", "(", ")", "[", "]", "{", "}", "'", "\"", "|", ".",
    ",", ":", "-", "+", "*", "**", "//", "%", "~", "=", "==", " if ", " else ", " for ", " in ", " endfor ", " endif ",
    " set ", " macro ", " endmacro ", " not ", " and ", " or ", " is ", " defined ", "loop.index", "ns.x",
    "namespace(x=1)", "range(5)", "messages", "[::-1]", "|tojson", "|trim", "|length", "raise_exception('x')",
    "caller()", "\\", "\n", " ", "0", "-1", "1e5", "none", "{% generation %}", "{% endgeneration %}", "{% break %}",
    "{% raw %}", "{% endraw %}", "\u{3000}", "é",
]

func mutate(_ source: String, _ rng: inout SplitMix64) -> String {
    var s = Array(source.unicodeScalars)
    for _ in 0..<(1 + rng.below(4)) {
        let i = rng.below(s.count + 1)
        switch rng.below(4) {
        case 0:  // delete a run
            let n = min(rng.below(8) + 1, s.count - i)
            if n > 0 { s.removeSubrange(i..<i + n) }
        case 1:  // insert a fragment
            s.insert(contentsOf: Array(fuzzFragments[rng.below(fuzzFragments.count)].unicodeScalars), at: i)
        case 2:  // duplicate a run
            let n = min(rng.below(16) + 1, s.count - i)
            if n > 0 { s.insert(contentsOf: Array(s[i..<i + n]), at: i) }
        default:  // replace one scalar with a random ASCII one
            if i < s.count, let c = Unicode.Scalar(UInt32(32 + rng.below(95))) { s[i] = c }
        }
    }
    return String(String.UnicodeScalarView(s))
}

/// Random mutations of real templates must only ever throw `TemplateError`, never crash or hang.
@Test func mutatedTemplatesOnlyThrowTemplateErrors() throws {
    let seeds = try loadGoldenCases()
    let limits = TemplateLimits(maxOutputBytes: 1 << 16, maxIterations: 20_000, maxCallDepth: 16)
    let context: [String: TemplateValue] = [
        "messages": [["role": "user", "content": "hi {{ x }}"], ["role": "assistant", "content": " ok "]],
        "x": 3, "d": ["k": [1, 2]], "l": [3, 1, 2], "s": "héllo", "bos_token": "<s>", "add_generation_prompt": true,
    ]
    var rng = SplitMix64(seed: 20_241_129)  // fixed, so the fuzz run is the same every time
    var rendered = 0, rejected = 0
    for seed in seeds {
        for _ in 0..<150 {
            let source = mutate(seed.template, &rng)
            do {
                _ = try Template(source, limits: limits).render(seed.context.merging(context) { a, _ in a })
                rendered += 1
            } catch is TemplateError {
                rejected += 1
            }
        }
    }
    #expect(rendered + rejected == seeds.count * 150)
    #expect(rendered > 0 && rejected > 0)
}
