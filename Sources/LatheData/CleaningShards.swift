import Foundation
import LatheFormats
import LatheSupport

/// Cleaning across the ranks of a job (`mpirun`, `srun`). Every rank reads the inputs in the same batches; rank r
/// decodes, normalises, redacts, filters, hashes and signs its contiguous slice of each batch (`RecordProcessor`,
/// the expensive part), and rank 0 gathers every slice's outcomes and absorbs them in input order as one process
/// would. Exact and near-duplicate detection then run once on rank 0 over the keys and MinHash band keys of every
/// record, in global input order, so `cleaned.jsonl`, `rejected.jsonl` and `clean_report.json` are byte-identical
/// for any number of ranks. The other ranks hold one batch at a time; rank 0 keeps the run's memory budget.
struct CleaningShards {
    let communicator: any Communicator

    /// The items of a batch of `count` rank `rank` of `size` processes.
    static func slice(_ count: Int, rank: Int, size: Int) -> Range<Int> {
        (count * rank / size)..<(count * (rank + 1) / size)
    }

    /// One batch on every rank (an empty batch ends an input, so the ranks agree on where each input ends): this
    /// rank's slice is processed on its threads; rank 0 returns every item's outcome in order, the others [].
    func process(_ items: [SourceItem], file: String, processor: RecordProcessor) throws(DataError) -> [RecordProcessor.Outcome] {
        let (rank, size) = (communicator.rank, communicator.size)
        guard size > 1 else { return CleaningPipeline.processBatch(items, file: file, processor: processor) }
        let mine = Self.slice(items.count, rank: rank, size: size)
        let outcomes = CleaningPipeline.processBatch(Array(items[mine]), file: file, processor: processor)
        var message = WireWriter()
        message.int(items.count)
        if rank != 0 { for outcome in outcomes { outcome.write(&message) } }
        let received = try exchange { try communicator.gather(message.bytes) }
        guard rank == 0 else { return [] }
        var all = outcomes
        all.reserveCapacity(items.count)
        for sender in 1..<size {
            var reader = WireReader(received[sender], operation: "cleaning batch", sender: sender)
            let theirs = try exchange { try reader.int() }
            guard theirs == items.count else {
                throw DataError.exchange("rank \(sender) read \(theirs) items of \(file) where rank 0 read \(items.count); "
                    + "every rank must see the same input files")
            }
            for _ in Self.slice(items.count, rank: sender, size: size) {
                all.append(try exchange { try RecordProcessor.Outcome.read(&reader) })
            }
            guard reader.isAtEnd else { throw DataError.exchange(reader.malformed("bytes left after the outcomes").description) }
        }
        return all
    }

    /// Refuses to start unless every rank has rank 0's settings, inputs (paths and sizes) and evaluation texts.
    func requireSameInputs(_ inputs: [String], config: CleaningConfig, evaluationTexts: [String]) throws(DataError) {
        guard communicator.size > 1 else { return }
        var text = Self.canonicalJSON(config)
        for path in inputs {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
            text += "\u{1F}\(path)\u{1E}\(size)"
        }
        for evaluation in evaluationTexts { text += "\u{1D}" + evaluation }
        let fingerprint = Hash128.of(text).hex
        try exchange { try communicator.requireSameFingerprint(fingerprint, what: "cleaning settings, input paths and sizes") }
    }

    /// The settings as JSON that is the same in every process: keys sorted, and lists of strings sorted too (sets,
    /// such as the PII types, encode in an order that changes with each process's hash seed).
    static func canonicalJSON(_ config: CleaningConfig) -> String {
        func canonical(_ value: Any) -> Any {
            if let object = value as? [String: Any] { return object.mapValues(canonical) }
            if let list = value as? [Any] {
                let items = list.map(canonical)
                return (items as? [String])?.sorted() ?? items
            }
            return value
        }
        guard let json = try? JSONEncoder().encode(config), let value = try? JSONSerialization.jsonObject(with: json),
              let text = try? JSONSerialization.data(withJSONObject: canonical(value), options: [.sortedKeys]) else { return "" }
        return String(decoding: text, as: UTF8.self)
    }

    /// Rank 0's report on every rank: rank 0 passes it, the others nil.
    func share(_ report: CleanReport?) throws(DataError) -> CleanReport {
        guard communicator.size > 1 else { return report ?? CleanReport() }
        let bytes = report.flatMap { try? JSONEncoder().encode($0) }.map { Array($0) } ?? []
        let received = try exchange { try communicator.broadcast(bytes) }
        if let report { return report }
        do { return try JSONDecoder().decode(CleanReport.self, from: Data(received)) } catch {
            throw DataError.exchange("rank 0's clean report did not decode: \(error)")
        }
    }

    /// A rank other than 0: reads every input in the pipeline's batches and processes its slices for rank 0.
    func follow(inputs: [String], config: CleaningConfig, processor: RecordProcessor) throws(DataError) -> CleanReport {
        for path in inputs {
            let source = try RecordSources.open(path, maxRecordBytes: config.maxRecordBytes, textMode: config.textMode)
            (source as? any RecordDecodingSource)?.decoder = processor.decoder
            while true {
                let items = try source.nextBatch(maxItems: CleaningPipeline.batchRecords, maxBytes: CleaningPipeline.batchBytes)
                _ = try process(items, file: path, processor: processor)
                if items.isEmpty { break }
            }
        }
        return try share(nil)
    }

    /// Runs a collective, turning its error into a `DataError`.
    private func exchange<T>(_ body: () throws -> T) throws(DataError) -> T {
        do { return try body() } catch { throw DataError.exchange("\(error)") }
    }
}

extension RecordProcessor.Outcome {
    /// Appends this outcome to a message (layout: `WireMessage`; tag 0 empty, 1 dropped, 2 kept).
    func write(_ out: inout WireWriter) {
        switch self {
        case .empty:
            out.u8(0)
        case .dropped(let rejection, let isReadError):
            out.u8(1)
            out.bool(isReadError)
            Self.write(rejection.source, &out)
            out.string(rejection.step); out.string(rejection.reason.code); out.string(rejection.reason.detail)
            out.optional(rejection.record) { out, record in
                var json: [UInt8] = []
                record.write(into: &json)
                out.data(json)
            }
            out.optional(rejection.rawPrefix) { $0.string($1) }
        case .kept(let kept):
            out.u8(2)
            Self.write(kept.source, &out)
            out.data(kept.line)
            out.u64(kept.exactKey.high); out.u64(kept.exactKey.low); out.u64(kept.splitHash)
            out.optional(kept.stratum) { $0.string($1) }
            out.optional(kept.bandKeys) { out, keys in
                out.int(keys.count)
                for key in keys { out.u64(key) }
            }
            out.optional(kept.contaminatedBy) { $0.int($1) }
            out.int(kept.pii.count)
            for (type, count) in kept.pii.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                out.string(type.rawValue); out.int(count)
            }
        }
    }

    /// Reads an outcome written by `write`.
    static func read(_ reader: inout WireReader) throws(CommunicatorError) -> Self {
        switch try reader.u8() {
        case 0:
            return .empty
        case 1:
            let isReadError = try reader.bool()
            let source = try readSource(&reader)
            let step = try reader.string(), code = try reader.string(), detail = try reader.string()
            let record = try reader.optional { (r: inout WireReader) throws(CommunicatorError) -> JSONValue in
                let json = try r.data()
                do { return try JSONValue.parse(json) } catch { throw r.malformed("a rejected record is not JSON: \(error)") }
            }
            let rawPrefix = try reader.optional { (r: inout WireReader) throws(CommunicatorError) in try r.string() }
            return .dropped(Rejection(source: source, step: step, reason: RejectReason(code: code, detail: detail),
                                      record: record, rawPrefix: rawPrefix), isReadError: isReadError)
        case 2:
            let source = try readSource(&reader)
            let line = try reader.data()
            let exactKey = Hash128(high: try reader.u64(), low: try reader.u64())
            let splitHash = try reader.u64()
            let stratum = try reader.optional { (r: inout WireReader) throws(CommunicatorError) in try r.string() }
            let bandKeys = try reader.optional { (r: inout WireReader) throws(CommunicatorError) -> [UInt64] in
                let count = try r.int()
                guard count >= 0, count <= 1 << 16 else { throw r.malformed("\(count) band keys") }
                var keys: [UInt64] = []
                for _ in 0..<count { keys.append(try r.u64()) }
                return keys
            }
            let contaminatedBy = try reader.optional { (r: inout WireReader) throws(CommunicatorError) in try r.int() }
            let piiCount = try reader.int()
            guard piiCount >= 0, piiCount <= PIIType.allCases.count else { throw reader.malformed("\(piiCount) PII types") }
            var pii: [PIIType: Int] = [:]
            for _ in 0..<piiCount {
                let name = try reader.string()
                guard let type = PIIType(rawValue: name) else { throw reader.malformed("unknown PII type \(name)") }
                pii[type] = try reader.int()
            }
            return .kept(RecordProcessor.Kept(source: source, line: line, exactKey: exactKey, splitHash: splitHash, stratum: stratum,
                                              bandKeys: bandKeys, contaminatedBy: contaminatedBy, pii: pii))
        case let tag:
            throw reader.malformed("outcome tag \(tag)")
        }
    }

    private static func write(_ source: SourceLocation, _ out: inout WireWriter) {
        out.string(source.file); out.int(source.line); out.int(source.byteOffset)
    }

    private static func readSource(_ reader: inout WireReader) throws(CommunicatorError) -> SourceLocation {
        SourceLocation(file: try reader.string(), line: try reader.int(), byteOffset: try reader.int())
    }
}
