#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import LatheSupport

extension SHA256 {
    /// The lowercase hex digest of the file at `path`, read in 1 MiB chunks (never the whole file in memory).
    public static func hex(fileAt path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError.io(path: path, reason: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var h = SHA256()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.io(path: path, reason: "read failed: \(errnoText())")
            }
            if n == 0 { break }
            chunk.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[0 ..< n])) }
        }
        return hexString(h.finalize())
    }
}

/// The C library's message for the current `errno`.
func errnoText() -> String { String(cString: strerror(errno)) }
