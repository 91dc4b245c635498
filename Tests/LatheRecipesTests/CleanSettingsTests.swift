import LatheData
import Testing
@testable import LatheRecipes

/// A recipe's `clean:` keys use LatheData's own vocabulary: `normalize` is `TextNormalizer.Form` (the values of
/// `lathe clean --unicode`) and sets only the form; `pii` lists `PIIType`s by the names the CLI and reports use.
@Suite struct CleanSettingsTests {
    @Test func normalizeSetsOnlyTheUnicodeForm() throws {
        let project = try TestProject()
        defer { project.remove() }
        for form in TextNormalizer.Form.allCases {
            let recipe = try project.load(TestProject.recipe("clean:\n  normalize: \(form.rawValue)\n")).recipe
            #expect(recipe.clean.normalize == form)
            var expected = TextNormalizer.Config()
            expected.form = form
            #expect(CleanStage.cleaningConfig(recipe).normalization == expected, "\(form)")
        }
        var none = TextNormalizer.Config()
        none.form = .none
        let text = TextNormalizer(none).normalize("Cafe\u{301}  au   lait")
        #expect(Array(text.utf8) == Array("Cafe\u{301} au lait".utf8), "none keeps code points and collapses spaces")
    }

    @Test func piiNamesAreLatheDataTypes() throws {
        let project = try TestProject()
        defer { project.remove() }
        let recipe = try project.load(TestProject.recipe("clean:\n  pii: [ip_address, secret]\n")).recipe
        #expect(CleanStage.cleaningConfig(recipe).pii?.types == [.ipAddress, .secret])
        let error = try #require(project.error(TestProject.recipe("clean:\n  pii: [ip]\n")))
        #expect(error.key == "clean.pii[0]" && error.message.contains("ip_address"), "\(error)")
        #expect(PIIType.allCases.map(\.rawValue) == ["email", "phone", "ip_address", "credit_card", "iban", "ssn", "secret"])
    }
}
