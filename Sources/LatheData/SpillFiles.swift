import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How much memory the cleaning stage's bookkeeping may hold before it spills to disk (`--memory-budget`,
/// recipe `clean.memory_budget`). It bounds the sort buffers of exact-duplicate keys, MinHash band keys and
/// candidate pairs, and the caches of the near-duplicate check; the rest of a run's memory is one batch of
/// records (≤ 16 MiB of input per thread) plus 4 bytes and 1 bit per record for the clustering.
public enum MemoryBudget {
    /// Fraction of the available memory used when no budget is given.
    public static let defaultFraction = 0.25
    /// Smallest budget accepted: enough for a few sort entries per buffer.
    public static let minimumBytes = 1024

    /// `defaultFraction` of `MemAvailable` in /proc/meminfo (else of physical memory), at least 64 MiB.
    public static var defaultBytes: Int {
        let available = availableBytes ?? Int(ProcessInfo.processInfo.physicalMemory)
        return max(64 << 20, Int(Double(available) * defaultFraction))
    }

    /// `MemAvailable` from /proc/meminfo, in bytes.
    static var availableBytes: Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// Parses a budget: a number with an optional unit, `K`, `M`, `G` or `T` (powers of 1024, `B`/`iB` may
    /// follow), or `B` for bytes. A bare number is MiB, as `--memory-budget 512` reads. "512M", "2G", "4096B".
    public static func parse(_ text: String, key: String = "memory_budget") throws(DataError) -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        var unit = String(trimmed.dropFirst(digits.count)).trimmingCharacters(in: .whitespaces)
        if unit.hasSuffix("IB") { unit.removeLast(2) } else if unit.count > 1, unit.hasSuffix("B") { unit.removeLast() }
        let scale: Double? = switch unit {
        case "": Double(1 << 20)
        case "B": 1
        case "K": Double(1 << 10)
        case "M": Double(1 << 20)
        case "G": Double(1 << 30)
        case "T": Double(1 << 40)
        default: nil
        }
        guard let value = Double(digits), let scale, value.isFinite, value * scale < Double(Int.max) else {
            throw .invalidConfig(key: key, reason: "'\(text)' is not a size; write e.g. 512M, 2G, 4096B (a bare number is MiB)")
        }
        let bytes = Int(value * scale)
        guard bytes >= minimumBytes else {
            throw .invalidConfig(key: key, reason: "'\(text)' is \(bytes) bytes, under the minimum of \(minimumBytes) bytes")
        }
        return bytes
    }
}

/// A temporary binary file of the spilling machinery (sort runs, the record journal) read and written through
/// its file descriptor.
final class RawFile {
    let path: String
    private var fd: Int32

    /// Creates (or truncates) `path` for writing, or opens it for reading.
    init(path: String, writing: Bool) throws(DataError) {
        self.path = path
        fd = writing ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw writing ? DataError.cannotWrite(path: path, reason: reason) : DataError.cannotRead(path: path, reason: reason)
        }
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    /// Appends all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(DataError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw DataError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
            done += n
        }
    }

    /// Reads from the current position (or from `offset` when given) until `buffer` is full or the file ends;
    /// returns the bytes read.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int? = nil) throws(DataError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = offset.map { pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t($0 + done)) }
                ?? Glibc.read(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw DataError.cannotRead(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Appends the bytes of `values`.
    func write<T: BitwiseCopyable>(_ values: [T]) throws(DataError) {
        try values.withUnsafeBytes { bytes in Result { () throws(DataError) in try write(bytes) } }.get()
    }

    /// Fills `buffer` from the current position (or `offset`); returns the bytes read.
    func read(into buffer: inout [UInt8], at offset: Int? = nil) throws(DataError) -> Int {
        try buffer.withUnsafeMutableBytes { bytes in Result { () throws(DataError) in try read(into: bytes, at: offset) } }.get()
    }

    /// One value at byte `offset`, or nil past the end of the file.
    func read<T: BitwiseCopyable>(_ type: T.Type, at offset: Int) throws(DataError) -> T? {
        let value = UnsafeMutableRawBufferPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
        defer { value.deallocate() }
        guard try read(into: value, at: offset) == value.count else { return nil }
        return value.load(as: T.self)
    }

    /// Closes the descriptor (also done on release).
    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }
}

/// The temporary files of one run, in its output folder as `.lathe-spill-*`, removed at the end (and on
/// failure) by `removeAll`.
final class SpillDirectory {
    let path: String
    private var counter = 0
    private var live: Set<String> = []

    init(path: String) { self.path = path }

    /// A fresh file path for `name`.
    func newPath(_ name: String) -> String {
        counter += 1
        let file = (path as NSString).appendingPathComponent(".lathe-spill-\(getpid())-\(name)-\(counter)")
        live.insert(file)
        return file
    }

    /// Removes one file.
    func remove(_ file: String) {
        live.remove(file)
        unlink(file)
    }

    /// Removes every file still present.
    func removeAll() {
        for file in live { unlink(file) }
        live.removeAll()
    }

    /// Files created so far (for the report: the number of spilled runs).
    var created: Int { counter }
}
