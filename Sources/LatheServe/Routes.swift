import Foundation
import Hummingbird
import LatheFormats

/// The HTTP side of `lathe serve`: routes, bearer check, body limit, error mapping and metrics.
public enum LatheServer {
    /// The application serving `served` on `host:port` (port 0: any free port); `onRunning` gets the bound port.
    /// `run()` serves until cancelled; `runService()` also drains on SIGTERM/SIGINT.
    public static func application(_ served: ServedModel, host: String, port: Int,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: ServeContext.self)
        let routes = Routes(served: served)
        router.get("health") { request, _ in await routes.handle("health", request, auth: false) { _ in routes.json(.object(JSONObject([("status", .string("ok"))]))) } }
        router.get("metrics") { request, _ in
            await routes.handle("metrics", request) { _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                         body: .init(byteBuffer: ByteBuffer(bytes: served.metrics.text())))
            }
        }
        router.get("v1/models") { request, _ in await routes.handle("models", request) { _ in routes.json(served.modelList()) } }
        router.get("tokenizer_info") { request, _ in await routes.handle("tokenizer_info", request) { _ in routes.json(served.tokenizerInfo()) } }
        router.post("tokenize") { request, _ in
            await routes.handle("tokenize", request) { body in
                let ids = try served.decodeTokenize(body: body)
                return routes.json(.object(JSONObject([("tokens", .array(ids.map { .integer(Int($0)) })), ("count", .integer(ids.count)),
                                                       ("max_model_len", .integer(served.options.maxModelLength))])))
            }
        }
        router.post("detokenize") { request, _ in
            await routes.handle("detokenize", request) { body in
                routes.json(.object(JSONObject([("prompt", .string(served.tokenizer.decode(try served.decodeDetokenize(body: body))))])))
            }
        }
        router.post("v1/completions") { request, context in
            let connection = context.connection
            return await routes.handle("completions", request) { try await routes.completions($0, connection: connection) }
        }
        router.post("v1/chat/completions") { request, context in
            let connection = context.connection
            return await routes.handle("chat", request) { try await routes.chat($0, connection: connection) }
        }
        return Application(router: router, server: .http1(configuration: .init(additionalChannelHandlers: [ClosesOnHangUp()])),
                           configuration: .init(address: .hostname(host, port: port), serverName: "lathe"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }
}

/// The handlers, over one `ServedModel`.
struct Routes: Sendable {
    let served: ServedModel

    /// Checks the bearer token, reads the body (POST; decoded by the `ServedModel.decode…(body:)` functions), runs
    /// `body` and turns every error into an OpenAI error response; counts the request and its latency.
    func handle(_ endpoint: String, _ request: Request, auth: Bool = true,
                _ body: @Sendable ([UInt8]) async throws -> Response) async -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            if auth, let key = served.options.apiKey { try checkBearer(request, key: key) }
            response = try await body(try await read(request))
        } catch let error as ServeError {
            response = errorResponse(error)
        } catch {
            response = errorResponse(ServeError(status: 500, message: "\(error)", type: "server_error"))
        }
        let elapsed = ContinuousClock.now - start
        served.metrics.record(endpoint: endpoint, status: Int(response.status.code),
                              seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        return response
    }

    /// The bytes of a POST body (none for GET); over `maxBodyBytes` is 413 without reading the rest.
    private func read(_ request: Request) async throws -> [UInt8] {
        guard request.method == .post else { return [] }
        let limit = served.options.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw ServeError.bodyTooLarge(limit: limit) }
        do { return Array(try await request.body.collect(upTo: limit).readableBytesView) } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            throw ServeError.bodyTooLarge(limit: limit)
        }
    }

    /// `Authorization: Bearer KEY`, compared in constant time.
    private func checkBearer(_ request: Request, key: String) throws {
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        let given = header.hasPrefix(prefix) ? Array(header.utf8.dropFirst(prefix.utf8.count)) : []
        guard constantTimeEqual(given, Array(key.utf8)) else {
            throw ServeError(status: 401, message: "Missing or wrong API key: send Authorization: Bearer KEY",
                             type: "authentication_error")
        }
    }

    func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var bytes = [UInt8]()
        value.write(into: &bytes)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func errorResponse(_ error: ServeError) -> Response {
        json(error.json, status: HTTPResponse.Status(code: error.status))
    }
}

/// True when `a` and `b` are the same bytes; the time depends only on `b`'s length, not on where they differ.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
    if a.count != b.count { difference |= 1 }
    for i in 0..<b.count { difference |= (i < a.count ? a[i] : 0) ^ b[i] }
    return difference == 0
}
