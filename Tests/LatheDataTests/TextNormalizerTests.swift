import Testing
@testable import LatheData

@Test func nfcComposesAndNfkcFoldsCompatibilityForms() {
    let decomposed = "Cafe\u{301}"
    #expect(TextNormalizer().normalize(decomposed) == "Café")
    #expect(TextNormalizer().normalize(decomposed).unicodeScalars.count == 4)
    var nfkc = TextNormalizer.Config(); nfkc.form = .nfkc
    #expect(TextNormalizer(nfkc).normalize("ﬁle Ｈｅｌｌｏ") == "file Hello")
    #expect(TextNormalizer().normalize("ﬁle") == "ﬁle")
}

@Test func controlCharactersAreStrippedAndWhitespaceCollapsed() {
    let n = TextNormalizer()
    #expect(n.normalize("a\u{0}b\u{7}c\u{85}d") == "abcd")
    #expect(n.normalize("  one   two\t\tthree  \r\nfour\u{A0}\u{A0}five   \n\n\n\n\nsix  ") == "one two three\nfour five\n\nsix")
    #expect(n.normalize("tabs\tkept\nas\tone") == "tabs kept\nas one")
}

@Test func indentationIsKeptWhenAsked() {
    var config = TextNormalizer.Config(); config.keepIndentation = true
    let code = "def f(x):\n    if x:   \n        return  1\n"
    #expect(TextNormalizer(config).normalize(code) == "def f(x):\n    if x:\n        return 1")
    #expect(TextNormalizer().normalize(code) == "def f(x):\nif x:\nreturn 1")
    var raw = TextNormalizer.Config(); raw.collapseWhitespace = false
    #expect(TextNormalizer(raw).normalize("a  b   \n  c") == "a  b\n  c")
}
