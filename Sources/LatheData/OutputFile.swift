import Foundation
import LatheFormats

/// A buffered, append-only output file.
final class OutputFile {
    let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private(set) var bytesWritten = 0

    /// Creates (or truncates) `path`.
    init(path: String) throws(DataError) {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw DataError.cannotWrite(path: path, reason: "cannot create the file")
        }
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
    }

    /// Appends bytes.
    func write(_ bytes: [UInt8]) throws(DataError) {
        buffer.append(contentsOf: bytes)
        bytesWritten += bytes.count
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Appends one JSON line.
    func writeLine(_ value: JSONValue) throws(DataError) {
        var line: [UInt8] = []
        value.write(into: &line, .init(escapeLineSeparators: true))
        line.append(0x0A)
        try write(line)
    }

    /// Writes buffered bytes to the file.
    func flush() throws(DataError) {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch {
            throw DataError.cannotWrite(path: path, reason: error.localizedDescription)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes.
    func close() throws(DataError) {
        try flush()
        do { try handle.close() } catch { throw DataError.cannotWrite(path: path, reason: error.localizedDescription) }
    }
}
