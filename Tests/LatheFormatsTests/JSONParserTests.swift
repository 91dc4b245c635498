import Testing
@testable import LatheFormats

/// The one JSON reader (`JSONParser`, `JSONValue`, `JSONNode`) and the one UTF-8 validator. These tests merge
/// the suites of the three parsers that existed before (LatheFormats', LatheData's and LatheTokenizers').
@Suite("JSON parser")
struct JSONParserTests {
    @Test func parsesAllValueKindsInOrder() throws {
        let value = try JSONValue.parse(#" {"b": [1, -2.5e3, true, false, null], "a": "x\u00e9\n\ud83d\ude00", "n": -0, "big": 12345678901234567890} "#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["b", "a", "n", "big"])
        #expect(value["b"] == .array([.integer(1), .number(JSONNumber(literal: "-2.5e3")), .bool(true), .bool(false), .null]))
        #expect(value["b"]?.arrayValue?[1].doubleValue == -2500)
        #expect(value["b"]?.arrayValue?[1].intValue == nil)
        #expect(value["a"]?.stringValue == "xé\n😀")
        #expect(value["n"]?.intValue == 0)
        #expect(value["big"]?.intValue == nil)
        #expect(value["big"]?.doubleValue == 1.2345678901234567e19)
    }

    @Test func duplicateKeyIsAnErrorNamingTheKeyAndItsOffset() {
        #expect(throws: JSONError.self) { try JSONValue.parse(#"{"a": 1, "b": {"c": 1, "c": 2}}"#) }
        do {
            _ = try JSONValue.parse("{\"a\": 1,\n \"a\": 2}")
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(error.kind == .duplicateKey)
            #expect(error.duplicateKey == "a")
            #expect(error.offset == 10)
            #expect(error.line == 2)
            #expect(error.column == 2)
            #expect(error.message.contains("\"a\""))
        }
    }

    /// Objects above the linear-search size use an index; duplicates are found there too, at the right offset.
    @Test func duplicateKeyInALargeObject() {
        let members = (0 ..< 40).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        let text = "{" + members + ", \"k17\": 0}"
        do {
            _ = try JSONValue.parse(text)
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(error.duplicateKey == "k17")
            #expect(error.offset == text.utf8.count - 9)
        }
        let object = try? JSONValue.parse("{" + members + "}").objectValue
        #expect(object?.count == 40)
        #expect(object?["k39"] == .integer(39))
        #expect(object?["k40"] == nil)
    }

    /// "é" (U+00E9) and "e" + U+0301 are canonically equivalent but different bytes, and different tokens.
    @Test func keysCompareByBytesNotByCanonicalEquivalence() throws {
        let value = try JSONValue.parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        #expect(value.objectValue?.count == 2)
        #expect(value["\u{E9}"] == .integer(1))
        #expect(value["e\u{301}"] == .integer(2))
        #expect(JSONValue.string("\u{E9}") != JSONValue.string("e\u{301}"))
        #expect(throws: JSONError.self) { try JSONValue.parse("{\"\u{E9}\": 1, \"\u{E9}\": 2}") }
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "\"\\x\"", "\"\u{01}\"", "\"\\ud800\"", "\"\\udc00\"",
        "tru", "nul", "[1] 2", "{a:1}", "'a'", "\u{FEFF}{}", "[\"\\u12\"]", "+1", ".5", "NaN", "[1 2]", "{\"a\" 1}",
        "// c\n1", "[-]", "\"\\ud800\\u0041\"",
    ])
    func rejectsMalformedText(_ text: String) {
        #expect(throws: JSONError.self) { try JSONValue.parse(text) }
    }

    @Test func invalidUTF8IsReportedAtItsByte() {
        for (bytes, offset) in [([0x22, 0xC0, 0xAF, 0x22], 1), ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),
                                (Array(#"{"text": "ok"#.utf8) + [0xFF, 0x22, 0x7D], 12)] as [([UInt8], Int)] {
            do {
                _ = try JSONValue.parse(bytes)
                Issue.record("invalid UTF-8 was accepted")
            } catch {
                #expect(error.kind == .invalidUTF8)
                #expect(error.offset == offset)
            }
        }
    }

    @Test func depthLimitIsOneHundredTwentyEight() throws {
        let limit = JSONParser.maxDepth
        #expect(limit == 128)
        let fine = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect((try? JSONValue.parse(fine)) != nil)
        let objects = String(repeating: "{\"a\":", count: limit) + "1" + String(repeating: "}", count: limit)
        #expect((try? JSONValue.parse(objects)) != nil)
        for depth in [limit + 1, 100_000] {
            do {
                _ = try JSONValue.parse(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
                Issue.record("nesting \(depth) deep was accepted")
            } catch {
                #expect(error.kind == .tooDeep)
                #expect(error.offset == limit)
                #expect(error.message.contains("128"))
            }
        }
    }

    @Test func truncatedTextIsMarkedEndOfInput() {
        for text in [#"{"a": "b"#, #"{"a": [1, 2"#, #"{"a": tr"#, #"{"a": 1"#] {
            do {
                _ = try JSONValue.parse(text)
                Issue.record("truncated text was accepted")
            } catch {
                #expect(error.endOfInput, "\(text)")
            }
        }
        #expect((try? JSONValue.parse("[1] x")) == nil)
    }

    /// Numbers keep their source text, so a record is written back byte for byte (the cleaner relies on it).
    @Test func numberSourceTextRoundTrips() throws {
        let text = #"{"a":1.50,"b":-0.0e+00,"c":1E999,"d":12345678901234567890,"e":0.1,"f":-7}"#
        let value = try JSONValue.parse(text)
        #expect(value.serialized() == text)
        #expect(value["a"]?.scalarText == "1.50")
        #expect(value["c"]?.doubleValue == .infinity)
        #expect(value["d"]?.intValue == nil)
        #expect(value["f"]?.intValue == -7)
        #expect(JSONValue.double(.nan) == .null)
        #expect(JSONValue.double(2.5).serialized() == "2.5")
        #expect(JSONValue.integer(-3).serialized() == "-3")
    }

    @Test func serialisationRoundTripsAndEscapes() throws {
        let text = #"{"z":[1,2.5,"a\"b\\c\n\u0001é\b\f"],"a":{"x":null,"y":false}}"#
        let value = try JSONValue.parse(text)
        #expect(value.serialized() == text)
        #expect(try JSONValue.parse(value.serialized()) == value)
        let record = try JSONValue.parse(#"{"a": "x\"\n\u00e9\ud83d\ude00\u2028", "b": [1.5e3, true, null]}"#)
        #expect(record.serialized(.init(escapeLineSeparators: true)) == #"{"a":"x\"\né😀\u2028","b":[1.5e3,true,null]}"#)
        #expect(JSONValue.string("é😀\u{7F}").serialized(.init(asciiOnly: true)) == #""\u00e9\ud83d\ude00\u007f""#)
    }

    @Test func typedAccessorsNameTheFileAndPath() throws {
        let root = try JSONNode.parse(Array(#"{"model": {"vocab": {"a": 0, "b": "1"}, "r": 8.0}, "list": ["x", "y"]}"#.utf8), file: "t.json")
        #expect(try root.required("model").required("r").int() == 8)
        #expect(try root.required("list").strings() == ["x", "y"])
        #expect(try root.optional("missing") == nil)
        #expect(try root.required("model").required("vocab").members().map(\.key) == ["a", "b"])
        do {
            _ = try root.required("model").required("vocab").required("b").int()
            Issue.record("a string was read as an integer")
        } catch {
            #expect(error.file == "t.json")
            #expect(error.path == "$.model.vocab.b")
            #expect(error.description == "t.json: at $.model.vocab.b: expected an integer, found a string")
        }
        #expect(throws: JSONFileError.self) { try root.required("nope") }
        do {
            _ = try JSONNode.parse(Array("{\"a\": 1,\n\"a\": 2}".utf8), file: "c.json")
        } catch {
            #expect(error.syntax?.duplicateKey == "a")
            #expect(error.description == "c.json: not valid JSON: line 2, column 1 (byte 9): duplicate key \"a\" (a key may occur once per object)")
        }
    }

    private struct Config: Decodable, Equatable {
        var name: String
        var size: Int
        var scale: Double?
        var tags: [String]
        var nested: [String: Int]
    }

    @Test func decodableTypesReadThroughTheParser() throws {
        let json = #"{"name": "m", "size": 4, "scale": 1e-5, "tags": ["a"], "nested": {"x": 1}, "extra": null}"#
        let config = try JSONNode.parse(Array(json.utf8), file: "c.json").decode(Config.self)
        #expect(config == Config(name: "m", size: 4, scale: 1e-5, tags: ["a"], nested: ["x": 1]))
        #expect {
            _ = try JSONNode.parse(Array(#"{"name": "m", "size": 4.5, "tags": [], "nested": {}}"#.utf8), file: "c.json").decode(Config.self)
        } throws: { error in
            guard case DecodingError.dataCorrupted(let context) = error else { return false }
            return context.codingPath.map(\.stringValue) == ["size"]
        }
        #expect {
            _ = try JSONNode.parse(Array(#"{"name": "m", "tags": [], "nested": {}}"#.utf8), file: "c.json").decode(Config.self)
        } throws: { error in
            guard case DecodingError.keyNotFound(let key, _) = error else { return false }
            return key.stringValue == "size"
        }
    }

    @Test func utf8ValidationFindsTheFirstBadByte() {
        #expect(UTF8Validation.firstInvalidByte(Array("héllo wörld, plain ascii text".utf8)) == nil)
        #expect(UTF8Validation.firstInvalidByte([0x61, 0x62, 0xC0, 0x80]) == 2)          // overlong
        #expect(UTF8Validation.firstInvalidByte([0x61, 0xED, 0xA0, 0x80]) == 1)          // surrogate
        #expect(UTF8Validation.firstInvalidByte([0xF4, 0x90, 0x80, 0x80]) == 0)          // above U+10FFFF
        #expect(UTF8Validation.firstInvalidByte(Array("abcdefghij".utf8) + [0xE2, 0x82]) == 10)  // truncated
        #expect(UTF8Validation.firstInvalidByte(Array("0123456789abcdef".utf8) + [0x80]) == 16)  // after the ASCII fast path
    }
}
