import Foundation
import LatheFormats

/// Fixed-width facts about one candidate record (a record that passed the filters), the journal's index:
/// where its line is, where it came from, and what the split and decontamination need.
struct CandidateInfo: BitwiseCopyable {
    /// Byte offset of the record's JSON in the journal (after the tag byte).
    var journalOffset: UInt64
    /// Bytes of the JSON line, newline included.
    var lineLength: UInt32
    /// Index into the journal's file table.
    var fileIndex: UInt32
    /// `SourceLocation.line`.
    var line: Int64
    /// `SourceLocation.byteOffset`.
    var byteOffset: Int64
    /// Content hash for the split (`RecordProcessor.Kept.splitHash`).
    var splitHash: UInt64
    /// Stratum id (index into the run's strata table) for a stratified split.
    var stratum: UInt32
    /// Index of the evaluation text this record near-duplicates, or −1.
    var contaminatedBy: Int32
}

/// Everything the read phase decides, in input order, on disk: `journal` holds one line per rejection (tag
/// `R`, then the `rejected.jsonl` line) or candidate (tag `K`, then its `cleaned.jsonl` line), and `index`
/// a `CandidateInfo` per candidate. The write phase replays it, so the outputs keep the order of an
/// in-memory run while memory holds no record.
final class RecordJournal {
    static let rejectedTag = UInt8(ascii: "R")
    static let candidateTag = UInt8(ascii: "K")

    let journalPath: String
    let indexPath: String
    private let journal: OutputFile
    private let index: OutputFile
    private var reader: RawFile?
    private var indexReader: RawFile?
    /// Candidates written.
    private(set) var candidates = 0
    /// Input files by index (`CandidateInfo.fileIndex`).
    private(set) var files: [String] = []
    private var fileIndex: [String: UInt32] = [:]

    init(directory: SpillDirectory) throws(DataError) {
        journalPath = directory.newPath("journal")
        indexPath = directory.newPath("index")
        journal = try OutputFile(path: journalPath)
        index = try OutputFile(path: indexPath)
    }

    /// Appends a rejection.
    func reject(_ rejection: Rejection) throws(DataError) {
        var line: [UInt8] = [Self.rejectedTag]
        rejection.json.write(into: &line, .init(escapeLineSeparators: true))
        line.append(0x0A)
        try journal.write(line)
    }

    /// Appends a candidate; returns its index.
    func append(_ kept: RecordProcessor.Kept, stratum: UInt32) throws(DataError) -> Int {
        let file: UInt32
        if let known = fileIndex[kept.source.file] { file = known } else {
            file = UInt32(files.count); files.append(kept.source.file); fileIndex[kept.source.file] = file
        }
        var info = CandidateInfo(journalOffset: UInt64(journal.bytesWritten + 1), lineLength: UInt32(kept.line.count),
                                 fileIndex: file, line: Int64(kept.source.line), byteOffset: Int64(kept.source.byteOffset),
                                 splitHash: kept.splitHash, stratum: stratum, contaminatedBy: Int32(kept.contaminatedBy ?? -1))
        try journal.write([Self.candidateTag])
        try journal.write(kept.line)
        try index.write(withUnsafeBytes(of: &info) { Array($0) })
        candidates += 1
        return candidates - 1
    }

    /// Ends the read phase.
    func finishWriting() throws(DataError) {
        try journal.close()
        try index.close()
    }

    /// The source of candidate `i`.
    func source(_ info: CandidateInfo) -> SourceLocation {
        SourceLocation(file: files[Int(info.fileIndex)], line: Int(info.line), byteOffset: Int(info.byteOffset))
    }

    /// Candidate `i`'s index entry (random access).
    func info(_ i: Int) throws(DataError) -> CandidateInfo {
        if indexReader == nil { indexReader = try RawFile(path: indexPath, writing: false) }
        guard let info = try indexReader!.read(CandidateInfo.self, at: i * MemoryLayout<CandidateInfo>.stride) else {
            throw DataError.cannotRead(path: indexPath, reason: "entry \(i) missing; was the file modified?")
        }
        return info
    }

    /// Candidate `i`'s `cleaned.jsonl` line, without its newline (random access).
    func line(_ info: CandidateInfo) throws(DataError) -> [UInt8] {
        if reader == nil { reader = try RawFile(path: journalPath, writing: false) }
        let count = Int(info.lineLength)
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try reader!.read(into: &bytes, at: Int(info.journalOffset))
        guard got == count else { throw DataError.cannotRead(path: journalPath, reason: "record at byte \(info.journalOffset) cut short") }
        return Array(bytes.dropLast())
    }

    /// The near-deduplication text (`NearDuplicates.text`) of candidate `i`, for Jaccard checks and the report.
    func text(_ i: Int) throws(DataError) -> String {
        let value: JSONValue
        do { value = try JSONValue.parse(try line(try info(i))) } catch {
            throw DataError.cannotRead(path: journalPath, reason: "candidate \(i) is not valid JSON (\(error))")
        }
        guard case .success(let record) = RecordDecoder().decode(value, source: SourceLocation(file: "", line: 0, byteOffset: 0)) else {
            return ""
        }
        return NearDuplicates.text(of: record.content)
    }

    /// Sequential reader of the index, from the first candidate.
    func indexEntries() throws(DataError) -> RawValueReader<CandidateInfo> {
        try RawValueReader(path: indexPath, bufferBytes: 1 << 20)
    }
}
