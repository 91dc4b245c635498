import Foundation

/// One physical line of a text file, without its line ending.
public struct RawLine: Sendable {
    /// The line's bytes (empty when the line was over the size cap; see `oversizeLength`).
    public var bytes: [UInt8]
    /// 1-based line number.
    public var number: Int
    /// Byte offset of the line's first byte in the file.
    public var offset: Int
    /// False for a last line that has no newline after it (possibly truncated).
    public var terminated: Bool
    /// Set when the line was longer than the cap: its full length in bytes. Its bytes were skipped, not stored.
    public var oversizeLength: Int?
}

/// Reads a file line by line in fixed-size chunks. Memory stays bounded by the record cap plus one chunk,
/// whatever the file holds: a line over the cap is skipped and reported with its length. A UTF-8 byte-order
/// mark at the start of the file is dropped.
public final class LineReader {
    private let handle: FileHandle
    private let path: String
    private let maxLineBytes: Int
    private let chunkBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0          // first unconsumed byte in `buffer`
    private var bufferOffset = 0   // file offset of buffer[0]
    private var atEOF = false
    private var lineNumber = 0
    private var checkedBOM = false

    /// Opens `url`; lines longer than `maxLineBytes` are reported as oversize.
    public init(url: URL, maxLineBytes: Int, chunkBytes: Int = 1 << 20) throws(DataError) {
        path = url.path
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw DataError.cannotRead(path: url.path, reason: "\(error.localizedDescription)")
        }
        self.maxLineBytes = max(1, maxLineBytes)
        self.chunkBytes = max(4096, chunkBytes)
    }

    deinit { try? handle.close() }

    /// Bytes of the file up to the end of the last line returned.
    public var bytesConsumed: Int { bufferOffset + start }

    /// The next line, or nil at end of file.
    public func next() throws(DataError) -> RawLine? {
        var scanFrom = start
        while true {
            if let nl = findNewline(from: scanFrom) {
                return try takeLine(upTo: nl, terminated: true)
            }
            if buffer.count - start > maxLineBytes { return try skipOversizeLine() }
            if atEOF {
                if start < buffer.count { return try takeLine(upTo: buffer.count, terminated: false) }
                return nil
            }
            let scanned = buffer.count - start
            try refill()
            if !checkedBOM { stripBOM() }
            scanFrom = start + scanned
        }
    }

    private func findNewline(from: Int) -> Int? {
        if from >= buffer.count { return nil }
        return buffer.withUnsafeBufferPointer { buf -> Int? in
            guard let p = memchr(buf.baseAddress! + from, 0x0A, buf.count - from) else { return nil }
            return buf.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
        }
    }

    private func takeLine(upTo end: Int, terminated: Bool) throws(DataError) -> RawLine {
        lineNumber += 1
        if end - start > maxLineBytes {
            let line = RawLine(bytes: [], number: lineNumber, offset: bufferOffset + start, terminated: terminated,
                               oversizeLength: end - start)
            start = terminated ? end + 1 : end
            return line
        }
        var stop = end
        if stop > start, buffer[stop - 1] == 0x0D { stop -= 1 }  // CRLF
        let line = RawLine(bytes: Array(buffer[start..<stop]), number: lineNumber,
                           offset: bufferOffset + start, terminated: terminated, oversizeLength: nil)
        start = terminated ? end + 1 : end
        return line
    }

    /// Discards bytes up to and including the next newline, counting them.
    private func skipOversizeLine() throws(DataError) -> RawLine {
        lineNumber += 1
        let lineOffset = bufferOffset + start
        var length = 0
        while true {
            if let nl = findNewline(from: start) {
                length += nl - start
                start = nl + 1
                return RawLine(bytes: [], number: lineNumber, offset: lineOffset, terminated: true, oversizeLength: length)
            }
            length += buffer.count - start
            start = buffer.count
            if atEOF {
                return RawLine(bytes: [], number: lineNumber, offset: lineOffset, terminated: false, oversizeLength: length)
            }
            try refill()
        }
    }

    private func refill() throws(DataError) {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            bufferOffset += start
            start = 0
        }
        let data: Data?
        do { data = try handle.read(upToCount: chunkBytes) } catch {
            throw DataError.cannotRead(path: path, reason: "\(error.localizedDescription)")
        }
        guard let data, !data.isEmpty else { atEOF = true; return }
        buffer.append(contentsOf: data)
    }

    private func stripBOM() {
        if buffer.count >= 3 || atEOF {
            checkedBOM = true
            if bufferOffset == 0, start == 0, buffer.count >= 3,
               buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
                start = 3
            }
        }
    }
}
