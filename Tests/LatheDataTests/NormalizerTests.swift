import Testing
@testable import LatheData

@Test func nfcComposesAndNfkcFoldsCompatibilityForms() {
    let decomposed = "Cafe\u{301}"
    #expect(Normalizer().normalize(decomposed) == "Café")
    #expect(Normalizer().normalize(decomposed).unicodeScalars.count == 4)
    var nfkc = Normalizer.Config(); nfkc.form = .nfkc
    #expect(Normalizer(nfkc).normalize("ﬁle Ｈｅｌｌｏ") == "file Hello")
    #expect(Normalizer().normalize("ﬁle") == "ﬁle")
}

@Test func controlCharactersAreStrippedAndWhitespaceCollapsed() {
    let n = Normalizer()
    #expect(n.normalize("a\u{0}b\u{7}c\u{85}d") == "abcd")
    #expect(n.normalize("  one   two\t\tthree  \r\nfour\u{A0}\u{A0}five   \n\n\n\n\nsix  ") == "one two three\nfour five\n\nsix")
    #expect(n.normalize("tabs\tkept\nas\tone") == "tabs kept\nas one")
}

@Test func indentationIsKeptWhenAsked() {
    var config = Normalizer.Config(); config.keepIndentation = true
    let code = "def f(x):\n    if x:   \n        return  1\n"
    #expect(Normalizer(config).normalize(code) == "def f(x):\n    if x:\n        return 1")
    #expect(Normalizer().normalize(code) == "def f(x):\nif x:\nreturn 1")
    var raw = Normalizer.Config(); raw.collapseWhitespace = false
    #expect(Normalizer(raw).normalize("a  b   \n  c") == "a  b\n  c")
}
