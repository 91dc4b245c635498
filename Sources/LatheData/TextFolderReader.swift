import Foundation
import LatheFormats

/// How a folder of `.txt`/`.md` files becomes records.
public enum TextFolderMode: String, Codable, Sendable, CaseIterable {
    /// One record per file.
    case file
    /// One record per paragraph (blocks separated by blank lines).
    case paragraph
}

/// Reads a folder of `.txt` and `.md` files (recursively, in sorted path order) or a single such file as
/// `text` records.
public final class TextFolderReader: RecordSource {
    /// The input path.
    public let path: String
    private let mode: TextFolderMode
    private let maxRecordBytes: Int
    private var files: [String]
    private var pending: [SourceItem] = []
    /// Bytes of the files read so far.
    public private(set) var bytesRead = 0

    /// Lists the files under `path`.
    public init(path: String, mode: TextFolderMode, maxRecordBytes: Int) throws(DataError) {
        self.path = path
        self.mode = mode
        self.maxRecordBytes = maxRecordBytes
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) || !isDirectory.boolValue { files = [path]; return }
        guard let walker = FileManager.default.enumerator(atPath: path) else {
            throw DataError.cannotRead(path: path, reason: "cannot list the folder")
        }
        var found: [String] = []
        while let name = walker.nextObject() as? String {
            let ext = (name as NSString).pathExtension.lowercased()
            if ext == "txt" || ext == "md" { found.append((path as NSString).appendingPathComponent(name)) }
        }
        files = found.sorted().reversed()
    }

    public func nextBatch(maxItems: Int, maxBytes: Int) throws(DataError) -> [SourceItem] {
        var bytes = 0
        while pending.count < maxItems, bytes < maxBytes, let file = files.popLast() {
            let fileBytes = try read(file)
            bytes += fileBytes
            bytesRead += fileBytes
        }
        let batch = Array(pending.prefix(maxItems))
        pending.removeFirst(batch.count)
        return batch
    }

    private func read(_ file: String) throws(DataError) -> Int {
        let location = SourceLocation(file: file, line: 1, byteOffset: 0)
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        if size > maxRecordBytes {
            pending.append(.rejected(Rejection(source: location, step: "read", reason: RejectReason(code: "record_too_large",
                detail: "file is \(size) bytes, over the max_record_bytes cap of \(maxRecordBytes); use paragraph mode or split it"))))
            return 0
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw DataError.cannotRead(path: file, reason: "cannot read the file")
        }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if let bad = UTF8Validation.firstInvalidByte(bytes) {
            pending.append(.rejected(Rejection(source: location, step: "read", reason: RejectReason(code: "invalid_utf8",
                detail: "invalid UTF-8 at byte offset \(bad); re-save the file as UTF-8"))))
            return bytes.count
        }
        let text = String(decoding: bytes, as: UTF8.self)
        switch mode {
        case .file:
            pending.append(.record(Record(content: .text(text), source: location)))
        case .paragraph:
            for paragraph in Self.paragraphs(bytes) {
                let text = String(decoding: bytes[paragraph.range], as: UTF8.self)
                let at = SourceLocation(file: file, line: paragraph.line, byteOffset: paragraph.range.lowerBound)
                pending.append(.record(Record(content: .text(text), source: at)))
            }
        }
        return bytes.count
    }

    /// Non-blank blocks separated by lines that are empty or whitespace only, with their first line number.
    static func paragraphs(_ bytes: [UInt8]) -> [(range: Range<Int>, line: Int)] {
        var result: [(Range<Int>, Int)] = []
        var blockStart: Int?, blockLine = 0, blockEnd = 0
        var lineStart = 0, lineNumber = 1
        while lineStart <= bytes.count {
            var end = lineStart
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            let blank = bytes[lineStart..<end].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if blank {
                if let s = blockStart { result.append((s..<blockEnd, blockLine)); blockStart = nil }
            } else {
                if blockStart == nil { blockStart = lineStart; blockLine = lineNumber }
                blockEnd = end
            }
            lineStart = end + 1
            lineNumber += 1
        }
        if let s = blockStart { result.append((s..<blockEnd, blockLine)) }
        return result
    }
}
