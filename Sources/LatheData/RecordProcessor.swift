/// The per-record work of the cleaning stage, run in parallel over a batch: decode, normalise, redact,
/// filter, hash, sign. Pure: it reads only its own input and the shared read-only settings.
struct RecordProcessor: @unchecked Sendable {
    /// The outcome for one input item.
    enum Outcome {
        case kept(Kept)
        case dropped(Rejection, isReadError: Bool)
        case empty
    }

    /// A record that passed the filters.
    struct Kept {
        var source: SourceLocation
        var line: [UInt8]          // the cleaned.jsonl line, with newline
        var exactKey: Hash128
        var splitHash: UInt64
        var stratum: String?
        var bandKeys: [UInt64]?    // nil: too few words to sign, or MinHash off
        var contaminatedBy: Int?   // evaluation text index
        var pii: [PIIType: Int]
    }

    let decoder: RecordDecoder
    let maxRecordBytes: Int
    let normalizer: TextNormalizer
    let redactor: PIIRedactor?
    /// Filters for records of each kind (`kind` forces one for all records; nil picks it per record's format).
    let documentFilters: [any RecordFilter]
    let instructionFilters: [any RecordFilter]
    let kind: DataKind?
    let minHash: MinHash?
    let contamination: ContaminationIndex?
    let split: SplitConfig?

    func process(_ item: SourceItem, file: String, scratch: inout Scratch) -> Outcome {
        let record: Record
        switch item {
        case .empty: return .empty
        case .rejected(let r): return .dropped(r, isReadError: true)
        case .record(let r): record = r
        case .line(let line):
            switch JSONLDecoding.decode(line, file: file, decoder: decoder, maxRecordBytes: maxRecordBytes) {
            case .record(let r): record = r
            case .rejected(let r): return .dropped(r, isReadError: true)
            case .empty: return .empty
            case .line: return .empty
            }
        }
        var cleaned = record
        cleaned.content = record.content.mapParts(normalizer.normalize)
        var pii: [PIIType: Int] = [:]
        if let redactor {
            cleaned.content = cleaned.content.mapParts { text in
                let (out, counts) = redactor.redact(text)
                for (k, v) in counts { pii[k, default: 0] += v }
                return out
            }
        }
        let document = FilterDocument(cleaned)
        let filters = (kind ?? DataKind.of(cleaned.content.format)) == .web ? documentFilters : instructionFilters
        for filter in filters {
            if case .drop(let reason) = filter.check(document) {
                return .dropped(Rejection(source: record.source, step: "filter:\(filter.name)", reason: reason,
                                          record: cleaned.json), isReadError: false)
            }
        }
        var keyText = cleaned.content.format.rawValue
        if case .chat(let messages) = cleaned.content {
            for m in messages { keyText += "\u{1F}" + m.role + "\u{1E}" + m.content }
        } else {
            for p in cleaned.content.parts { keyText += "\u{1F}" + p }
        }
        var kept = Kept(source: record.source, line: [], exactKey: Hash128.of(keyText),
                        splitHash: Hash64.hash(keyText, seed: split?.seed ?? 0), stratum: nil, bandKeys: nil,
                        contaminatedBy: nil, pii: pii)
        if let field = split?.stratifyField {
            kept.stratum = cleaned.extra.first { $0.0 == field }?.1.scalarText ?? ""
        }
        if let minHash {
            let shingler = Shingler(n: minHash.config.ngram)
            shingler.shingles(NearDuplicates.text(of: cleaned.content), words: &scratch.words, into: &scratch.shingles)
            if scratch.signature.count != minHash.permutations {
                scratch.signature = [UInt64](repeating: 0, count: minHash.permutations)
            }
            let signed = scratch.signature.withUnsafeMutableBufferPointer { minHash.signature(scratch.shingles, into: $0) }
            if signed {
                var keys = [UInt64](repeating: 0, count: minHash.config.bands)
                scratch.signature.withUnsafeBufferPointer { s in keys.withUnsafeMutableBufferPointer { minHash.bandKeys(s, into: $0) } }
                kept.bandKeys = keys
                if let contamination, !contamination.isEmpty {
                    kept.contaminatedBy = keys.withUnsafeBufferPointer { contamination.match(keys: $0, text: document.text) }
                }
            }
        }
        cleaned.json.write(into: &kept.line, .init(escapeLineSeparators: true))
        kept.line.append(0x0A)
        return .kept(kept)
    }

    /// Per-thread buffers reused across records.
    struct Scratch {
        var words: [UInt64] = []
        var shingles: [UInt64] = []
        var signature: [UInt64] = []
    }
}

extension Hash128 {
    /// The 128-bit key of a string.
    static func of(_ s: String) -> Hash128 { Hash64.hash128(s) }
}
