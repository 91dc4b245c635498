// libFuzzer entry for the CSV reader and the record decoding each row goes through.
// Any input must give records and rejections, never a trap; a row over the record cap is rejected on its own.
import FuzzSupport
import LatheData

/// Reads `data` as a CSV file in batches, as the cleaning pipeline does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = writeScratch("input.csv", UnsafeBufferPointer(start: data, count: size))
    guard let reader = try? CSVReader(path: path, maxRecordBytes: 4096) else { return 0 }
    for _ in 0..<10_000 {
        guard let batch = try? reader.nextBatch(maxItems: 64, maxBytes: 1 << 16), !batch.isEmpty else { break }
    }
    return 0
}
