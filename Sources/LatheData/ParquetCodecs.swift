import CSnappy
import CZlib
import LatheFormats

/// The page codecs Parquet writers use by default: snappy (pyarrow, Spark), gzip and zstd (pandas, warehouses).
/// Each decompresses into a buffer of exactly the page's announced size and fails on any other outcome, so a
/// hostile page can neither write past it nor make the reader allocate more. LZO, Brotli and LZ4 are refused with
/// the advice to rewrite the file.
public struct ParquetCodecs: ParquetDecompressor {
    /// The codecs.
    public init() {}

    public func decompress(_ codec: ParquetCodec, _ input: UnsafeRawBufferPointer,
                           into output: UnsafeMutableRawBufferPointer) throws(ParquetCodecError) {
        switch codec {
        case .uncompressed:
            guard input.count == output.count else {
                throw ParquetCodecError("\(input.count) stored bytes for a \(output.count)-byte page")
            }
            if let source = input.baseAddress, let target = output.baseAddress { target.copyMemory(from: source, byteCount: input.count) }
        case .snappy: try Self.snappy(input, output)
        case .gzip: try Self.gzip(input, output)
        case .zstd: try Self.zstd(input, output)
        case .lzo, .brotli, .lz4, .lz4Raw:
            throw ParquetCodecError("the \(codec.name) codec is not supported", unsupported: true)
        }
    }

    /// A raw snappy block (Parquet does not use snappy's framing format).
    private static func snappy(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) throws(ParquetCodecError) {
        let source = input.baseAddress?.assumingMemoryBound(to: CChar.self)
        var length = 0
        guard let source, snappy_uncompressed_length(source, input.count, &length) == SNAPPY_OK else {
            throw ParquetCodecError("not a snappy block")
        }
        guard length == output.count else {
            throw ParquetCodecError("the snappy block holds \(length) bytes where the page announces \(output.count)")
        }
        if length == 0 { return }
        let status = snappy_uncompress(source, input.count, output.baseAddress!.assumingMemoryBound(to: CChar.self), &length)
        guard status == SNAPPY_OK, length == output.count else { throw ParquetCodecError("the snappy block is damaged") }
    }

    /// One or more gzip members (or a zlib stream), inflated until the page is full.
    private static func gzip(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) throws(ParquetCodecError) {
        var stream = z_stream()
        // 15 + 32: a window of up to 2^15 bytes, gzip or zlib header detected from the data.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ParquetCodecError("zlib could not start (out of memory)")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(clamping: input.count)
        stream.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(clamping: output.count)
        guard input.count <= Int(uInt.max), output.count <= Int(uInt.max) else { throw ParquetCodecError("the page is over 4 GiB") }
        while true {
            let status = inflate(&stream, Z_FINISH)
            if status == Z_STREAM_END {
                // Concatenated members: start the next one when input remains and the page is not full.
                if stream.avail_in > 0 && stream.avail_out > 0 {
                    guard inflateReset(&stream) == Z_OK else { throw ParquetCodecError("zlib could not restart") }
                    continue
                }
                break
            }
            if status == Z_BUF_ERROR && stream.avail_out == 0 {
                throw ParquetCodecError("the gzip data holds more than the page's \(output.count) bytes")
            }
            let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
            throw ParquetCodecError(status == Z_BUF_ERROR ? "the gzip data ends early" : "the gzip data is damaged (\(message))")
        }
        guard stream.avail_out == 0 else {
            throw ParquetCodecError("the gzip data holds \(output.count - Int(stream.avail_out)) bytes where the page "
                + "announces \(output.count)")
        }
    }

    /// One or more zstd frames, decompressed in one call into the page buffer by LatheFormats' `Zstd` (no window
    /// beyond the page is allocated).
    private static func zstd(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) throws(ParquetCodecError) {
        let written: Int
        do { written = try Zstd.decompress(input, into: output) } catch {
            guard case .corrupt(_, let reason) = error else { throw ParquetCodecError("the zstd data is damaged (\(error))") }
            throw ParquetCodecError("the zstd data is damaged (\(reason))")
        }
        guard written == output.count else {
            throw ParquetCodecError("the zstd data holds \(written) bytes where the page announces \(output.count)")
        }
    }
}
