import Foundation
import LatheFormats

/// Why a tokenizer could not be loaded or used. `file` names the file it came from.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// The file is not valid JSON, or a field has the wrong type.
    case malformed(file: String, path: String, message: String)
    /// A component `"type"` Lathe does not implement.
    case unsupportedComponent(file: String, path: String, type: String)
    /// A reference to a token that is not in the vocabulary (a merge, a special token id).
    case unknownToken(file: String, message: String)
    /// The tokenizer cannot be written as `tokenizer.json` (`path` names the component), or the file cannot be written.
    case notExportable(file: String, path: String, message: String)

    public var description: String {
        switch self {
        case .malformed(let f, let p, let m): return "\(f): \(p): \(m)"
        case .unsupportedComponent(let f, let p, let t):
            return "\(f): \(p): component type \"\(t)\" is not supported by Lathe; use a tokenizer without it or file an issue"
        case .unknownToken(let f, let m): return "\(f): \(m)"
        case .notExportable(let f, let p, let m): return "\(f): \(p): cannot write the tokenizer: \(m)"
        }
    }
}

extension TokenizerError {
    /// Runs `body`, turning a `JSONFileError` (not JSON, a wrong type, a missing key, a duplicate key) into
    /// `.malformed` naming the file and the JSON path.
    static func reading<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as JSONFileError {
            throw TokenizerError.malformed(file: error.file, path: error.path, message: error.message)
        }
    }
}

extension JSONNode {
    /// Parses the contents of a tokenizer file.
    static func parse(_ data: Data, file: String) throws -> JSONNode {
        try data.withUnsafeBytes { raw in try JSONNode.parse(raw, file: file) }
    }

    /// A token id: an integer in 0 ..< 2^31.
    func tokenId() throws(JSONFileError) -> Int32 {
        let i = try int()
        guard let id = Int32(exactly: i), id >= 0 else { throw fail("\(i) is not a token id (0 ..< 2^31)") }
        return id
    }
}
