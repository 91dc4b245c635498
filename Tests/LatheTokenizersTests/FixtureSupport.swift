import Foundation
import LatheFormats
import Testing
@testable import LatheTokenizers

/// Paths and loaders for the goldens written by Scripts/goldens/tokenizers.py.
enum Fixtures {
    static var root: URL {
        get throws {
            guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
                throw TokenizerError.malformed(file: "Fixtures", path: "$", message: "test fixtures missing from the bundle")
            }
            return url
        }
    }

    static let tokenizerNames = ["smollm2", "bytelevel", "sentencepiece", "sentencepiece_gguf", "bytelevel_gguf", "normalized", "split"]

    /// One golden row: a text, HF's ids three ways and HF's decodes.
    struct Row: Decodable {
        let text: String
        let ids: [Int32]
        let ids_split: [Int32]
        let ids_with_special: [Int32]
        let decoded: String
        let decoded_skip_special: String
    }

    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer.load(root.appendingPathComponent("tokenizers/\(name)"))
    }

    static func goldens(_ name: String) throws -> [Row] {
        let data = try Data(contentsOf: root.appendingPathComponent("tokenizers/\(name)/goldens.json"))
        return try JSONDecoder().decode([Row].self, from: data)
    }

    /// Checks `tokenizer` against every golden row of `name`: ids three ways and both decodes. Returns the row count.
    @discardableResult
    static func expectMatchesGoldens(_ tokenizer: Tokenizer, _ name: String,
                                     sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let rows = try goldens(name)
        for row in rows {
            #expect(tokenizer.encode(row.text, allowSpecial: true) == row.ids, "\(row.text.debugDescription)", sourceLocation: sourceLocation)
            #expect(tokenizer.encode(row.text) == row.ids_split, "split: \(row.text.debugDescription)", sourceLocation: sourceLocation)
            #expect(tokenizer.encode(row.text, addSpecialTokens: true, allowSpecial: true) == row.ids_with_special,
                    sourceLocation: sourceLocation)
            #expect(tokenizer.decode(row.ids) == row.decoded, sourceLocation: sourceLocation)
            #expect(tokenizer.decode(row.ids, skipSpecialTokens: true) == row.decoded_skip_special, sourceLocation: sourceLocation)
        }
        return rows.count
    }

    /// GGUF tokenizer metadata exported as {"key": {"type": …, "value": …}} back into `GGUFValue`s.
    static func ggufMetadata(_ name: String) throws -> [String: GGUFValue] {
        let data = try Data(contentsOf: root.appendingPathComponent("gguf/\(name).json"))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] else {
            throw TokenizerError.malformed(file: name, path: "$", message: "expected an object")
        }
        var out = [String: GGUFValue]()
        for (key, entry) in object {
            let type = entry["type"] as? String ?? ""
            if type == "array" {
                let element = entry["element"] as? String ?? ""
                let values = entry["value"] as? [Any] ?? []
                out[key] = .array(values.map { value(element, $0) })
            } else {
                out[key] = value(type, entry["value"] as Any)
            }
        }
        return out
    }

    private static func value(_ type: String, _ v: Any) -> GGUFValue {
        switch type {
        case "string": return .string(v as? String ?? "")
        case "bool": return .bool(v as? Bool ?? false)
        case "float32": return .float32(Float((v as? Double) ?? 0))
        case "float64": return .float64((v as? Double) ?? 0)
        case "int32": return .int32(Int32((v as? Int) ?? 0))
        case "uint32": return .uint32(UInt32((v as? Int) ?? 0))
        case "int64": return .int64(Int64((v as? Int) ?? 0))
        case "uint64": return .uint64(UInt64((v as? Int) ?? 0))
        default: return .int64(Int64((v as? Int) ?? 0))
        }
    }
}
