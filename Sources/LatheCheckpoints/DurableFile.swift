#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe file operations: a reader sees either the old file or the complete new one, never a torn one.
public enum DurableFile {
    /// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path`, then fsyncs the directory
    /// so the rename itself survives a power cut.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError.io(path: path, reason: "cannot create a temporary file: \(errnoText())") }
        var failure: CheckpointError?
        bytes.withUnsafeBytes { raw in
            var next = raw.baseAddress
            var left = raw.count
            while left > 0, let p = next {
                let n = posixWrite(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .io(path: path, reason: "write failed: \(errnoText())")
                    return
                }
                next = p + n
                left -= n
            }
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        try commit(temporary, to: path)
    }

    /// Fsyncs the complete file `temporary` (beside `path`), renames it over `path` and fsyncs the directory;
    /// removes it on failure. For files written in a stream rather than from one buffer.
    public static func commit(_ temporary: String, to path: String) throws {
        let fd = open(temporary, O_RDONLY | O_CLOEXEC)
        var failure: CheckpointError?
        if fd < 0 { failure = .io(path: path, reason: "cannot reopen \(temporary): \(errnoText())") }
        if fd >= 0, fsync(fd) != 0 { failure = .io(path: path, reason: "fsync failed: \(errnoText())") }
        if fd >= 0 { close(fd) }
        if failure == nil, rename(temporary, path) != 0 { failure = .io(path: path, reason: "rename failed: \(errnoText())") }
        if let failure {
            unlink(temporary)
            throw failure
        }
        try syncDirectory(of: path)
    }

    /// Fsyncs the directory holding `path` (needed after a rename or unlink to make it durable).
    public static func syncDirectory(of path: String) throws {
        try syncDirectory(parent(of: path))
    }

    /// Fsyncs `directory` itself.
    public static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError.io(path: directory, reason: "cannot open the directory: \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CheckpointError.io(path: directory, reason: "fsync of the directory failed: \(errnoText())") }
    }

    /// The whole file at `path`, refusing files larger than `limit` bytes; `bound` names that limit and how to raise
    /// it, for the error.
    public static func read(_ path: String, limit: Int, bound: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw CheckpointError.notFound(path: path) }
            throw CheckpointError.io(path: path, reason: "cannot open: \(errnoText())")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CheckpointError.io(path: path, reason: "cannot stat: \(errnoText())") }
        let size = Int(info.st_size)
        guard size <= limit else { throw CheckpointError.tooLarge(path: path, size: size, limit: limit, bound: bound) }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let n = bytes.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress! + filled, size - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.io(path: path, reason: "read failed: \(errnoText())")
            }
            if n == 0 { break }
            filled += n
        }
        return Array(bytes[0 ..< filled])
    }

    /// Creates `path` and its missing parents (mode 0755).
    public static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0, errno != EEXIST {
                throw CheckpointError.io(path: current, reason: "cannot create the directory: \(errnoText())")
            }
        }
    }

    /// The names in `directory` (without "." and ".."), or an empty list when it does not exist.
    public static func list(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The directory part of `path` ("." when there is none).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// The C `write`, named apart from `DurableFile.write`.
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }

/// The C `read`, named apart from `DurableFile.read`.
private func posixRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { read(fd, p, n) }
