// libFuzzer entry for JSONL records: line reading with the record cap, UTF-8 validation, the JSON parser and the
// record decoder (text, prompt/completion, alpaca, chat messages). Any input must give records and rejections.
import FuzzSupport
import LatheData

/// Reads `data` as a JSONL file and decodes every line, as the cleaning pipeline does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = writeScratch("input.jsonl", UnsafeBufferPointer(start: data, count: size))
    guard let reader = try? JSONLReader(path: path, maxRecordBytes: 4096) else { return 0 }
    let decoders = [RecordDecoder(), RecordDecoder(format: .chat), RecordDecoder(fields: ["text": "body"])]
    for round in 0..<10_000 {
        guard let batch = try? reader.nextBatch(maxItems: 64, maxBytes: 1 << 16), !batch.isEmpty else { break }
        for item in batch {
            if case .line(let line) = item {
                _ = JSONLDecoding.decode(line, file: path, decoder: decoders[round % decoders.count], maxRecordBytes: 4096)
            }
        }
    }
    return 0
}
