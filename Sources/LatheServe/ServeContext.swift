import Hummingbird
import NIOCore

/// The request context of `lathe serve`: Hummingbird's, plus whether the client is still connected, so a
/// non-streaming generation can stop when nobody waits for its answer (a streaming one finds out on its next write).
struct ServeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The request's connection.
    let connection: ClientConnection

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        connection = ClientConnection(channel: source.channel)
    }
}

/// Whether a request's client is still there.
struct ClientConnection: Sendable {
    let channel: any Channel

    /// False once the connection is closed: by the client, or by `ClosesOnHangUp` when the client closed its side.
    var isOpen: Bool { channel.isActive }
}

/// Closes a connection once its client has closed its sending side. Hummingbird allows half-closed connections,
/// so without this a client that hangs up while its request is generated would leave an open channel behind and
/// the generation would run to `max_tokens` for nobody (uvicorn, under vLLM, also takes end-of-input as a
/// disconnect). A client must therefore keep its side open until it has read the response, as HTTP clients do.
final class ClosesOnHangUp: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    /// Every part passes through untouched.
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}

extension Routes {
    /// Runs `body` (which awaits the generations of `submissions`) while watching `connection`: when the client goes
    /// away first, every submission is cancelled, so the scheduler drops its sequences before their next step.
    func watching<T>(_ connection: ClientConnection, cancel submissions: [Submission],
                     _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while connection.isOpen { try await Task.sleep(for: .milliseconds(50)) }
                for submission in submissions { submission.cancellation.cancel() }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}
