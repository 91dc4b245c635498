import Testing
@testable import LatheJinja

/// One snippet rendered by jinja2 under transformers' chat-template environment.
struct GoldenCase: CustomStringConvertible {
    let name: String
    let template: String
    let context: [String: TemplateValue]
    let expected: String?
    let errorType: String?
    var description: String { name }
}

func loadGoldenCases() throws -> [GoldenCase] {
    guard case .list(let items) = try TemplateValue(json: goldenCasesJSON) else { return [] }
    return items.compactMap { item in
        guard case .dict(let d) = item, case .string(let name)? = d["name"], case .string(let template)? = d["template"],
              case .dict(let context)? = d["context"] else { return nil }
        var ctx: [String: TemplateValue] = [:]
        for e in context.entries { ctx[e.key] = e.value }
        var expected: String? = nil
        if case .string(let s)? = d["expected"] { expected = s }
        var errorType: String? = nil
        if case .string(let s)? = d["error"] { errorType = s }
        return GoldenCase(name: name, template: template, context: ctx, expected: expected, errorType: errorType)
    }
}

@Test func goldenCasesLoad() throws {
    #expect(try loadGoldenCases().count >= 60)
}

@Test(arguments: try loadGoldenCases())
func goldenCaseMatchesJinja(_ c: GoldenCase) throws {
    if let expected = c.expected {
        let rendered = try Template(c.template).render(c.context)
        #expect(rendered == expected, "\(c.name)")
        return
    }
    do {
        _ = try Template(c.template).render(c.context)
        Issue.record("\(c.name): expected \(c.errorType ?? "an error")")
    } catch let e as TemplateError {
        switch (c.errorType, e) {
        case ("TemplateError"?, .raised): break
        case ("TemplateSyntaxError"?, .syntax): break
        case ("UndefinedError"?, .render), ("TypeError"?, .render), ("TemplateAssertionError"?, .render): break
        default: Issue.record("\(c.name): expected \(c.errorType ?? "?"), got \(e)")
        }
    }
}
