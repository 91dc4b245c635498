import Foundation
import Testing
@testable import LatheJinja

@Test func rendersText() throws {
    #expect(try Template("hi").render([:]) == "hi")
}

@Test func syntaxErrorsCarryLineAndColumn() {
    #expect(throws: TemplateError.syntax(line: 3, column: 7, message: "unexpected '}}' in an expression")) {
        _ = try Template("a\nb\n{{ 1 +}}")
    }
    do {
        _ = try Template("line one\n{% for x in y %}\n{{ x }}")
        Issue.record("expected a syntax error")
    } catch let TemplateError.syntax(line, _, message) {
        #expect(line == 3)
        #expect(message.contains("endfor"))
    } catch {
        Issue.record("unexpected \(error)")
    }
}

@Test func renderErrorsCarryLineAndColumn() {
    do {
        _ = try Template("ok\n  {{ 1 + 'a' }}").render([:])
        Issue.record("expected a render error")
    } catch let TemplateError.render(line, column, message) {
        #expect(line == 2 && column == 8)
        #expect(message.contains("unsupported operand"))
    } catch {
        Issue.record("unexpected \(error)")
    }
    #expect(throws: TemplateError.render(line: 1, column: 11, message: "'missing' is undefined (reading its attribute 'x')")) {
        _ = try Template("{{ missing.x }}").render([:])
    }
}

@Test func jsonConversionKeepsOrderAndPythonTypes() throws {
    let v = try TemplateValue(json: #"{"z": 1, "a": [1.0, 2, true, null, "\u00e9\ud83d\ude00\n"], "m": {}}"#)
    guard case .dict(let d) = v else { Issue.record("not a dict"); return }
    #expect(d.keys == ["z", "a", "m"])
    #expect(try Template("{{ v.a }} {{ v | tojson }}").render(["v": v])
        == "[1.0, 2, True, None, 'é😀\\n'] {\"z\": 1, \"a\": [1.0, 2, true, null, \"é😀\\n\"], \"m\": {}}")
    #expect(throws: TemplateError.self) { _ = try TemplateValue(json: "{\"a\": }") }
    #expect(throws: TemplateError.self) { _ = try TemplateValue(json: String(repeating: "[", count: 10_000)) }
}

@Test func swiftValuesConvert() throws {
    let v = TemplateValue(any: ["b": 2, "a": ["x", 1.5, true, nil] as [Any?]] as [String: Any?])
    #expect(try Template("{{ v }}").render(["v": v]) == "{'a': ['x', 1.5, True, None], 'b': 2}")
    let literal: TemplateValue = ["role": "user", "n": 3, "ok": false, "xs": [1, 2]]
    #expect(try Template("{{ m.role }} {{ m.n + 1 }} {{ m.ok }} {{ m.xs | length }}").render(["m": literal]) == "user 4 False 2")
}

@Test func generationSpansAreUTF8ByteRanges() throws {
    let out = try Template("é{% generation %}ü{{ x }}{% endgeneration %}.{% generation %}{% endgeneration %}")
        .renderWithSpans(["x": "y"])
    #expect(out.text == "éüy.")
    #expect(out.generationSpans == [2..<5, 6..<6])
}

@Test func strftimeNowUsesTheInjectedClock() throws {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone.current
    let date = try #require(calendar.date(from: DateComponents(year: 2024, month: 7, day: 6, hour: 15, minute: 4, second: 5)))
    let out = try Template("{{ strftime_now('%d %b %Y|%B %A %a|%H:%M:%S %I%p|%y-%m-%j|%%') }}").renderWithSpans([:], now: date)
    #expect(out.text == "06 Jul 2024|July Saturday Sat|15:04:05 03PM|24-07-188|%")
}

@Test func namespacesRejectPrivateNames() {
    #expect(throws: TemplateError.self) { _ = try Template("{% set ns = namespace(_x=1) %}").render([:]) }
    #expect(throws: TemplateError.self) { _ = try Template("{% set ns = namespace() %}{% set ns._y = 1 %}").render([:]) }
}

@Test func sandboxHasNoEscapeHatches() throws {
    // Python internals are not reachable: they are plain undefined names or attributes.
    let probes = ["{{ ''.__class__ }}", "{{ messages.__init__ }}", "{{ cycler }}", "{{ lipsum }}", "{{ self }}",
                  "{{ config }}", "{{ request }}", "{{ range.__globals__ }}"]
    for p in probes {
        let out = try? Template(p).render(["messages": []])
        #expect(out == nil || out == "", "\(p)")
    }
    #expect(throws: TemplateError.self) { _ = try Template("{% include 'x.j2' %}") }
    #expect(throws: TemplateError.self) { _ = try Template("{% import 'x.j2' as x %}") }
    #expect(throws: TemplateError.self) { _ = try Template("{% extends 'x.j2' %}") }
}
