// libFuzzer entry for the Parquet reader: footer (Thrift compact protocol), schema tree, page headers, every
// encoding and codec, record assembly and the record decoding each row goes through. Any input must give records,
// rejections or a FormatError (as DataError.malformedInput), never a trap; the row-group caps are lowered so
// that an announced size the input cannot back is refused early rather than allocated.
import FuzzSupport
import LatheData
import LatheFormats

/// Reads `data` as a Parquet file in batches, as the cleaning pipeline does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = writeScratch("input.parquet", UnsafeBufferPointer(start: data, count: size))
    var limits = ParquetLimits()
    limits.maxPageBytes = 16 << 20
    limits.maxRowGroupEntries = 1 << 20
    limits.maxRowGroupBytes = 64 << 20
    guard let reader = try? ParquetReader(path: path, maxRecordBytes: 1 << 16, limits: limits) else { return 0 }
    for _ in 0..<10_000 {
        guard let batch = try? reader.nextBatch(maxItems: 64, maxBytes: 1 << 16), !batch.isEmpty else { break }
    }
    return 0
}
