import Testing
@testable import LatheFormats

@Suite("JSON parser")
struct JSONParserTests {
    @Test func parsesAllValueKindsInOrder() throws {
        let value = try JSONValue.parse(#" {"b": [1, -2.5e3, true, false, null], "a": "x\u00e9\n\ud83d\ude00", "n": -0, "big": 12345678901234567890} "#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["b", "a", "n", "big"])
        #expect(value["b"] == .array([.integer(1), .number(-2500), .bool(true), .bool(false), .null]))
        #expect(value["a"]?.stringValue == "xé\n😀")
        #expect(value["n"] == .integer(0))
        #expect(value["big"]?.intValue == nil)
        #expect(value["big"]?.doubleValue == 1.2345678901234567e19)
    }

    @Test func rejectsDuplicateKeys() {
        #expect(throws: JSONError.self) { try JSONValue.parse(#"{"a": 1, "b": {"c": 1, "c": 2}}"#) }
        do {
            _ = try JSONValue.parse("{\"a\": 1,\n \"a\": 2}")
        } catch {
            #expect(error.duplicateKey == "a")
            #expect(error.line == 2)
            #expect(error.column == 2)
        }
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "\"\\x\"", "\"\u{01}\"", "\"\\ud800\"", "\"\\udc00\"",
        "tru", "nul", "[1] 2", "{a:1}", "'a'", "\u{FEFF}{}", "[\"\\u12\"]", "+1", ".5", "NaN",
    ])
    func rejectsMalformedText(_ text: String) {
        #expect(throws: JSONError.self) { try JSONValue.parse(text) }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONError.self) { try JSONValue.parse([0x22, 0xC0, 0xAF, 0x22]) }
        #expect(throws: JSONError.self) { try JSONValue.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError.self) { try JSONValue.parse(deep) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect((try? JSONValue.parse(fine)) != nil)
    }

    @Test func serialisationRoundTrips() throws {
        let text = #"{"z":[1,2.5,"a\"b\\c\n\u0001é"],"a":{"x":null,"y":false}}"#
        let value = try JSONValue.parse(text)
        #expect(value.serialized() == text)
        #expect(try JSONValue.parse(value.serialized()) == value)
    }
}
