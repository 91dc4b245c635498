#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only bytes of a whole file, memory-mapped (never copied into memory), or an owned copy of an in-memory buffer.
///
/// The mapping lives as long as this object. Readers keep it alive and hand out views only inside closures.
public final class MappedBytes: @unchecked Sendable {
    // @unchecked: the memory is never written after init, so sharing it between threads is safe.

    /// The name used in error messages: the path, or the name given to an in-memory buffer.
    public let name: String
    /// The bytes.
    public let buffer: UnsafeRawBufferPointer
    private let isMapped: Bool

    /// Maps the regular file at `path` read-only.
    public init(path: String) throws {
        name = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw FormatError(.io, file: path, "cannot open: \(Self.errnoText())",
                              fix: "check that the path exists and is readable")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw FormatError(.io, file: path, "cannot stat: \(Self.errnoText())", fix: "check the file system")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FormatError(.io, file: path, "not a regular file", fix: "pass the path of a model file, not a directory")
        }
        let size = Int(info.st_size)
        if size == 0 {
            buffer = UnsafeRawBufferPointer(start: nil, count: 0)
            isMapped = false
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw FormatError(.io, file: path, "cannot memory-map \(size) bytes: \(Self.errnoText())",
                              fix: "check free address space and that the file is on a local file system")
        }
        buffer = UnsafeRawBufferPointer(start: UnsafeRawPointer(address), count: size)
        isMapped = true
    }

    /// Copies `bytes` into memory owned by this object; `name` is used in error messages.
    public init(bytes: [UInt8], name: String) {
        self.name = name
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { copy.baseAddress!.copyMemory(from: base, byteCount: source.count) }
        }
        buffer = UnsafeRawBufferPointer(start: copy.baseAddress, count: bytes.count)
        isMapped = false
    }

    deinit {
        guard let base = buffer.baseAddress else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), buffer.count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    /// The number of bytes.
    public var count: Int { buffer.count }

    static func errnoText() -> String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        return String(cString: text)
    }
}
