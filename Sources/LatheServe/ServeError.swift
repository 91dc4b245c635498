import LatheFormats

/// Why a request was refused, as OpenAI reports it: an HTTP status and `{"error": {"message", "type", "param",
/// "code"}}`. Every bad input maps to one of these, so the server answers and keeps serving.
public struct ServeError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status (4xx for the client's mistakes, 5xx for the server's).
    public let status: Int
    /// What was wrong and what to do.
    public let message: String
    /// OpenAI's error type: `invalid_request_error`, `authentication_error`, `not_found_error`, …
    public let type: String
    /// The request field at fault, when there is one (`prompt`, `messages[1].content`).
    public let param: String?

    public init(status: Int, message: String, type: String, param: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
    }

    public var description: String { "\(status) \(type)\(param.map { " (\($0))" } ?? ""): \(message)" }

    /// A malformed or ill-typed request field.
    static func invalid(_ message: String, param: String? = nil) -> ServeError {
        ServeError(status: 400, message: message, type: "invalid_request_error", param: param)
    }

    /// A body over the server's size limit (413), naming the limit and the flag that raises it.
    static func bodyTooLarge(limit: Int) -> ServeError {
        ServeError(status: 413, message: "The request body is over the server's limit of \(limit) bytes; send a smaller body, or start `lathe serve` with a larger --max-body-bytes",
                   type: "invalid_request_error")
    }

    /// A `model` that names neither the base nor a loaded adapter.
    static func unknownModel(_ name: String, known: [String]) -> ServeError {
        ServeError(status: 404, message: "The model `\(name)` does not exist; this server has: \(known.joined(separator: ", "))",
                   type: "not_found_error", param: "model")
    }

    /// The request body as parsed JSON failed: syntax (with its byte offset) or a field of the wrong type.
    static func body(_ error: JSONFileError) -> ServeError {
        if let syntax = error.syntax {
            return invalid("The request body is not valid JSON: \(syntax.description)")
        }
        return invalid(error.message, param: param(fromPath: error.path))
    }

    /// `$.messages[1].content` → `messages[1].content`; nil for the whole body.
    static func param(fromPath path: String) -> String? {
        path == "$" ? nil : String(path.dropFirst(path.hasPrefix("$.") ? 2 : 1))
    }

    /// The JSON body of the error.
    public var json: JSONValue {
        .object(JSONObject([("error", .object(JSONObject([
            ("message", .string(message)), ("type", .string(type)),
            ("param", param.map(JSONValue.string) ?? .null), ("code", .null),
        ])))]))
    }
}
