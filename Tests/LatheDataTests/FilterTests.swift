import Testing
@testable import LatheData

@Test func lengthFilterBoundsCharsWordsAndTokens() {
    var config = LengthFilter.Config(kind: .instruction)
    config.minWords = 3; config.maxChars = 40; config.maxTokens = 5
    let filter = LengthFilter(config, countTokens: { $0.split(separator: " ").count * 2 })
    #expect(code(filter.check(doc("two words"))) == "too_few_words")
    #expect(code(filter.check(doc(String(repeating: "x", count: 41)))) == "too_many_chars")
    #expect(code(filter.check(doc("one two three"))) == "too_many_tokens")
    #expect(LengthFilter(LengthFilter.Config(kind: .instruction)).check(doc("Hi.")) == .keep)
    #expect(code(LengthFilter().check(doc("Short web page."))) == "too_few_chars")
}

@Test func gopherQualityKeepsProseAndDropsEachRule() {
    let f = GopherQualityFilter()
    #expect(f.check(doc(prose(120, seed: 1))) == .keep)
    #expect(code(f.check(doc(prose(30, seed: 2)))) == "gopher_short_doc")
    #expect(code(f.check(doc((0..<80).map { _ in "a of to" }.joined(separator: " ")))) == "gopher_below_avg_threshold")
    #expect(code(f.check(doc(prose(60, seed: 3) + " " + String(repeating: "incomprehensibilities ", count: 200)))) == "gopher_above_avg_threshold")
    #expect(code(f.check(doc(prose(100, seed: 4) + String(repeating: " #tag", count: 20)))) == "gopher_too_many_hashes")
    #expect(code(f.check(doc(prose(100, seed: 5) + String(repeating: " more...", count: 15)))) == "gopher_too_many_ellipsis")
    let bullets = (0..<20).map { "- " + prose(6, seed: UInt64($0)) }.joined(separator: "\n")
    #expect(code(f.check(doc(bullets))) == "gopher_too_many_bullets")
    let trailing = (0..<20).map { prose(12, seed: UInt64($0 + 50)) + " an…" }.joined(separator: "\n")
    #expect(code(f.check(doc(trailing))) == "gopher_too_many_end_ellipsis")
    let numbers = prose(60, seed: 6) + " " + (0..<100).map { String($0 * 7919) }.joined(separator: " ")
    #expect(code(f.check(doc(numbers))) == "gopher_below_alpha_threshold")
    let noStop = (0..<80).map { syntheticWord($0 + 500) }.joined(separator: " ")
    #expect(code(f.check(doc(noStop))) == "gopher_enough_stop_words")
    // Instruction defaults accept a short answer without stop words.
    #expect(GopherQualityFilter(.init(kind: .instruction)).check(doc("Paris is France's capital.")) == .keep)
}

@Test func gopherRepetitionRules() {
    let f = GopherRepetitionFilter()
    #expect(f.check(doc(prose(300, seed: 9))) == .keep)
    let para = prose(40, seed: 1)
    #expect(code(f.check(doc([para, para, prose(40, seed: 2)].joined(separator: "\n\n")))) == "dup_para_frac")
    let lines = (0..<10).map { prose(20, seed: UInt64($0)) } + Array(repeating: "Click here to subscribe now", count: 6)
    #expect(code(f.check(doc(lines.joined(separator: "\n")))) == "dup_line_frac")
    let longLine = prose(200, seed: 3)
    #expect(code(f.check(doc([longLine, prose(10, seed: 4), prose(10, seed: 5), prose(10, seed: 6), longLine].joined(separator: "\n")))) == "dup_line_char_frac")
    let topGram = prose(100, seed: 7) + String(repeating: " buy now", count: 60)
    #expect(code(f.check(doc(topGram))) == "top_2_gram")
    let words = prose(60, seed: 8).split(separator: " ")
    let repeated = (words + words.prefix(20) + words.prefix(20)).joined(separator: " ")
    #expect(["duplicated_5_n_grams", "top_2_gram", "top_3_gram", "top_4_gram"].contains(code(f.check(doc(repeated))) ?? "keep"))
    #expect(code(f.check(doc(""))) == "empty")
    #expect(GopherRepetitionFilter(.init(kind: .instruction)).check(doc("yes yes yes")) == .keep)
}

@Test func languageDetectorGuessesScriptsAndLatinLanguages() {
    func lang(_ s: String) -> String { LanguageDetector.detect(s, words: Words.split(s)).language }
    #expect(lang("The cat sat on the mat and it was happy with that.") == "en")
    #expect(lang("Le chat est sur la table et il ne veut pas partir avec les enfants.") == "fr")
    #expect(lang("Der Hund ist nicht mit dem Auto in die Stadt gefahren, und das ist gut.") == "de")
    #expect(lang("El perro está en la casa con los niños y no quiere salir para el parque.") == "es")
    #expect(lang("Это простой текст на русском языке.") == "cyrillic")
    #expect(lang("これは日本語の文章です。漢字もあります。") == "ja")
    #expect(lang("这是一个中文句子。") == "zh")
    #expect(lang("12345 !!!") == "unknown")
    let filter = LanguageFilter(.init(allowed: ["en"]))
    #expect(filter.check(doc("The report of the engineer is ready and it was sent to the team.")) == .keep)
    #expect(code(filter.check(doc("Le rapport de l'ingénieur est prêt et il est pour les clients."))) == "language_not_allowed")
    #expect(LanguageFilter(.init()).check(doc("anything")) == .keep)
}

@Test func wordsSplitPunctuationLikeSpacy() {
    #expect(Words.split("Hello, world... (don't) e-mail 3.14!").map(String.init)
            == ["Hello", ",", "world", "...", "(", "don't", ")", "e-mail", "3.14", "!"])
}
