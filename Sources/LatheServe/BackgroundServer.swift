import Foundation
import Hummingbird

extension LatheServer {
    /// Starts serving `served` on `host:port` in a background task and returns once it listens, with the bound port.
    /// Cancelling the task stops the server.
    public static func start(_ served: ServedModel, host: String = "127.0.0.1",
                             port: Int = 0) async throws -> (port: Int, task: Task<Void, Error>) {
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let app = application(served, host: host, port: port) { bound in
            sink.yield(bound)
            sink.finish()
        }
        let task = Task {
            defer { sink.finish() }
            try await app.run()
        }
        for await bound in ports { return (bound, task) }
        task.cancel()
        throw ServeError(status: 500, message: "the server could not listen on \(host):\(port)", type: "server_error")
    }

    /// Starts serving `served` on `host:port` in a background task and returns once it listens, with the bound
    /// port, blocking the calling thread meanwhile: for `lathe bench serve`, which drives the server from plain
    /// threads. Never call it from a Swift concurrency task (it would hold a thread the server needs).
    public static func startInBackground(_ served: ServedModel, host: String = "127.0.0.1", port: Int = 0,
                                         timeout: Double = 120) throws -> (port: Int, task: Task<Void, Error>) {
        let bound = BoundPort()
        let app = application(served, host: host, port: port) { bound.set($0) }
        let task = Task {
            do { try await app.run() } catch {
                bound.fail()
                throw error
            }
        }
        guard let port = bound.wait(seconds: timeout) else {
            task.cancel()
            throw ServeError(status: 500, message: "the server did not start listening on \(host):\(port)", type: "server_error")
        }
        return (port, task)
    }
}

/// The bound port, handed from the server's start-up callback to a waiting thread.
private final class BoundPort: @unchecked Sendable {
    private let condition = NSCondition()
    private var port: Int?
    private var failed = false

    func set(_ value: Int) {
        condition.lock(); port = value; condition.broadcast(); condition.unlock()
    }

    func fail() {
        condition.lock(); failed = true; condition.broadcast(); condition.unlock()
    }

    func wait(seconds: Double) -> Int? {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while port == nil && !failed && condition.wait(until: deadline) {}
        return port
    }
}
