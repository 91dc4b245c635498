import Foundation
import Glibc

/// A blocking HTTP/1.1 client over one TCP connection to 127.0.0.1, for `lathe bench serve` and the tests: it
/// sends bytes exactly as given (malformed requests included) and can hang up mid-response.
public final class LoopbackConnection {
    /// A response: status, lower-cased headers and the body (chunked encoding undone).
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Why a request failed on the wire.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    private let socket: Int32
    private var buffer: [UInt8] = []
    private var closed = false

    /// Connects to 127.0.0.1:`port`.
    public init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(socket)
            throw Failure(description: "connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    deinit { close() }

    /// Closes the connection (the server sees the client go away).
    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(socket)
    }

    /// Sends raw bytes.
    public func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            sent += n
        }
    }

    /// Sends a request with `body` (JSON unless `contentType` says otherwise).
    public func sendRequest(_ method: String, _ path: String, body: [UInt8] = [], headers: [String: String] = [:]) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n"
        if !body.isEmpty && headers["Content-Type"] == nil { head += "Content-Type: application/json\r\n" }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        try send(Array((head + "\r\n").utf8) + body)
    }

    /// Status line and headers of the response.
    public func readHead() throws -> (status: Int, headers: [String: String]) {
        let line = try readLine()
        let parts = line.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "bad status line \"\(line)\"") }
        var headers = [String: String]()
        while true {
            let header = try readLine()
            if header.isEmpty { break }
            guard let colon = header.firstIndex(of: ":") else { continue }
            headers[header[..<colon].lowercased()] = header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    /// The next piece of a chunked body; nil after the last.
    public func readChunk() throws -> [UInt8]? {
        let sizeLine = try readLine()
        guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
            throw Failure(description: "bad chunk size \"\(sizeLine)\"")
        }
        if size == 0 { _ = try readLine(); return nil }
        let data = try readBytes(size)
        _ = try readLine()
        return data
    }

    /// Sends a request and reads the whole response.
    public func request(_ method: String, _ path: String, body: [UInt8] = [], headers: [String: String] = [:]) throws -> Response {
        try sendRequest(method, path, body: body, headers: headers)
        return try readResponse()
    }

    /// Reads one whole response (Content-Length or chunked).
    public func readResponse() throws -> Response {
        let (status, headers) = try readHead()
        var body = [UInt8]()
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while let chunk = try readChunk() { body += chunk }
        } else if let length = headers["content-length"].flatMap(Int.init) {
            body = try readBytes(length)
        }
        return Response(status: status, headers: headers, body: body)
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure(description: n == 0 ? "the server closed the connection" : "recv failed: errno \(errno)") }
        buffer += chunk[0..<n]
    }

    private func readLine() throws -> String {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[..<end].last == UInt8(ascii: "\r") ? buffer[..<(end - 1)] : buffer[..<end]
                defer { buffer.removeSubrange(...end) }
                return String(decoding: line, as: UTF8.self)
            }
            try fill()
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        defer { buffer.removeSubrange(..<count) }
        return Array(buffer[..<count])
    }
}
