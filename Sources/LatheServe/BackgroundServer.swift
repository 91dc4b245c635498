import Foundation
import Hummingbird

extension LatheServer {
    /// Starts serving `served` on `host:port` in a background task and returns once it listens, with the bound
    /// port (for `lathe bench serve` and the tests, which drive it from plain threads). Cancelling the task stops
    /// the server.
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
