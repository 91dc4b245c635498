#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A writer's streamed bytes (`emit` calls its sink with each chunk in order), collected in memory or written to a
/// file atomically: the two ends every file writer here offers.
enum StreamedFile {
    /// The emitted bytes as one array.
    static func bytes(_ emit: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> [UInt8] {
        var out: [UInt8] = []
        try emit { out.append(contentsOf: $0) }
        return out
    }

    /// The emitted bytes written to `path` atomically (temporary file, fsync, rename).
    static func write(to path: String, _ emit: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let file = try AtomicFile(path: path)
        try emit { try file.append($0) }
        try file.commit()
    }
}

/// A file written to a temporary name beside its destination, fsynced, then renamed over it, so a reader never sees
/// a half-written model and a crash leaves the old file intact.
final class AtomicFile {
    let path: String
    private let temporaryPath: String
    private var fd: Int32
    private var pending: [UInt8] = []

    /// Creates `path.tmp-<pid>-<n>` for writing.
    init(path: String) throws {
        self.path = path
        temporaryPath = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FormatError(.io, file: path, "cannot create a temporary file beside it: \(MappedBytes.errnoText())",
                              fix: "check that the directory exists and is writable")
        }
        pending.reserveCapacity(1 << 20)
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(temporaryPath)
        }
    }

    /// Appends bytes (buffered).
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        if pending.count + bytes.count > (1 << 20) { try flush() }
        if bytes.count >= (1 << 20) {
            try writeAll(bytes)
        } else {
            pending.append(contentsOf: bytes)
        }
    }

    /// Appends bytes (buffered).
    func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// Flushes, fsyncs, closes and renames the temporary file to `path`.
    func commit() throws {
        try flush()
        guard fsync(fd) == 0 else { throw ioError("fsync failed") }
        close(fd)
        fd = -1
        guard rename(temporaryPath, path) == 0 else {
            let error = ioError("cannot rename the temporary file into place")
            unlink(temporaryPath)
            throw error
        }
    }

    private func flush() throws {
        let bytes = pending
        pending.removeAll(keepingCapacity: true)
        try bytes.withUnsafeBytes { try writeAll($0) }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = write(fd, next, left)
            if written < 0 {
                if errno == EINTR { continue }
                throw ioError("write failed")
            }
            next += written
            left -= written
        }
    }

    private func ioError(_ what: String) -> FormatError {
        FormatError(.io, file: path, "\(what): \(MappedBytes.errnoText())", fix: "check free disk space and permissions")
    }
}
