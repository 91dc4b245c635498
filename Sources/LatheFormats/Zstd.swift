import CZstd
#if canImport(Glibc)
import Glibc
#endif

/// Errors from compressing or decompressing a zstd stream. `source` names the file or buffer.
public enum ZstdError: Error, CustomStringConvertible, Equatable {
    case compressionFailed(source: String, reason: String)
    case corrupt(source: String, reason: String)
    case tooLarge(source: String, limit: Int)
    case truncated(source: String)

    public var description: String {
        switch self {
        case .compressionFailed(let s, let r): return "\(s): zstd compression failed: \(r)"
        case .corrupt(let s, let r):
            return "\(s): not a valid zstd stream (\(r)); the file is damaged — use an earlier copy"
        case .tooLarge(let s, let limit):
            return "\(s): decompresses to more than the \(limit) bytes its header allows; refusing (possible decompression bomb)"
        case .truncated(let s): return "\(s): zstd stream ends early; the file was cut short — use an earlier copy"
        }
    }
}

/// zstd streams with the content checksum on, decompressed with a bounded window and output size.
public enum Zstd {
    /// The linked libzstd version, e.g. "1.5.4".
    public static var version: String { String(cString: ZSTD_versionString()) }

    /// Compresses `input` into one zstd frame with the XXH64 content checksum and the content size recorded.
    public static func compress(_ input: [UInt8], level: Int32 = 3, source: String = "buffer") throws -> [UInt8] {
        guard let context = ZSTD_createCCtx() else { throw ZstdError.compressionFailed(source: source, reason: "out of memory") }
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                ZSTD_compress2(context, out.baseAddress, out.count, inp.baseAddress, inp.count)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw ZstdError.compressionFailed(source: source, reason: String(cString: ZSTD_getErrorName(written)))
        }
        output.removeSubrange(written...)
        return output
    }

    /// Compresses the file at `input` into a new file at `output` as `compress` would (one frame, checksum, the
    /// content size in the header), reading and writing 1 MiB at a time: memory stays bounded for any size.
    public static func compressFile(_ input: String, to output: String, level: Int32 = 3) throws {
        func failure(_ reason: String) -> ZstdError { .compressionFailed(source: input, reason: reason) }
        let source = open(input, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw failure("cannot open: \(String(cString: strerror(errno)))") }
        defer { close(source) }
        let sink = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard sink >= 0 else { throw failure("cannot create \(output): \(String(cString: strerror(errno)))") }
        defer { close(sink) }
        var status = stat()
        guard fstat(source, &status) == 0 else { throw failure("cannot stat: \(String(cString: strerror(errno)))") }
        guard let context = ZSTD_createCCtx() else { throw failure("out of memory") }
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
        ZSTD_CCtx_setPledgedSrcSize(context, UInt64(status.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var compressed = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        var left = Int(status.st_size)
        repeat {
            let n = chunk.withUnsafeMutableBytes { read(source, $0.baseAddress, min($0.count, left)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0, n > 0 || left == 0 else { throw failure(n < 0 ? String(cString: strerror(errno)) : "file shrank while compressing") }
            left -= n
            let mode = left == 0 ? ZSTD_e_end : ZSTD_e_continue
            try chunk.withUnsafeBytes { inp in
                var inBuffer = ZSTD_inBuffer(src: inp.baseAddress, size: n, pos: 0)
                var finished = false
                while !finished {
                    let written = try compressed.withUnsafeMutableBytes { out -> Int in
                        var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                        let remaining = ZSTD_compressStream2(context, &outBuffer, &inBuffer, mode)
                        if ZSTD_isError(remaining) != 0 { throw failure(String(cString: ZSTD_getErrorName(remaining))) }
                        finished = mode == ZSTD_e_end ? remaining == 0 : inBuffer.pos == inBuffer.size
                        return outBuffer.pos
                    }
                    try compressed.withUnsafeBytes { out in
                        var done = 0
                        while done < written {
                            let w = write(sink, out.baseAddress! + done, written - done)
                            if w < 0 && errno == EINTR { continue }
                            guard w > 0 else { throw failure("cannot write \(output): \(String(cString: strerror(errno)))") }
                            done += w
                        }
                    }
                }
            }
        } while left > 0
    }

    /// Decompresses a stream that must expand to at most `limit` bytes; the window is capped at 2^27 bytes.
    /// The checksum is verified by zstd itself; a damaged or truncated stream throws.
    public static func decompress(_ input: [UInt8], limit: Int, source: String = "buffer") throws -> [UInt8] {
        guard let context = ZSTD_createDCtx() else { throw ZstdError.corrupt(source: source, reason: "out of memory") }
        defer { ZSTD_freeDCtx(context) }
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, 27)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        try input.withUnsafeBytes { inp in
            var inBuffer = ZSTD_inBuffer(src: inp.baseAddress, size: inp.count, pos: 0)
            while true {
                var filled = false
                var remaining = 0
                try chunk.withUnsafeMutableBytes { out in
                    var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    remaining = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                    if ZSTD_isError(remaining) != 0 {
                        throw ZstdError.corrupt(source: source, reason: String(cString: ZSTD_getErrorName(remaining)))
                    }
                    if output.count + outBuffer.pos > limit { throw ZstdError.tooLarge(source: source, limit: limit) }
                    output.append(contentsOf: UnsafeRawBufferPointer(rebasing: out[0..<outBuffer.pos]))
                    filled = outBuffer.pos == outBuffer.size
                }
                if filled { continue }  // zstd may hold more output; call again before judging
                if inBuffer.pos == inBuffer.size {
                    // remaining == 0: the last frame ended (and its checksum matched); otherwise input ran out mid-frame.
                    if remaining != 0 { throw ZstdError.truncated(source: source) }
                    break
                }
            }
        }
        return output
    }

    /// Decompresses one or more complete frames in one call into `output` (a buffer of the size the caller expects,
    /// such as a Parquet page's announced size) and returns the bytes written. Nothing beyond `output` is allocated,
    /// so a hostile stream can neither write past it nor grow memory; a stream that needs more room throws.
    public static func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                                  source: String = "buffer") throws(ZstdError) -> Int {
        guard let context = ZSTD_createDCtx() else { throw .corrupt(source: source, reason: "out of memory") }
        defer { ZSTD_freeDCtx(context) }
        let written = ZSTD_decompressDCtx(context, output.baseAddress, output.count, input.baseAddress, input.count)
        if ZSTD_isError(written) != 0 { throw .corrupt(source: source, reason: String(cString: ZSTD_getErrorName(written))) }
        return written
    }

    /// The decompressed size recorded in the first frame's header, or nil when absent or the header is invalid.
    public static func frameContentSize(_ input: [UInt8]) -> Int? {
        let size = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        // ZSTD_CONTENTSIZE_UNKNOWN is 2^64-1 and ZSTD_CONTENTSIZE_ERROR is 2^64-2.
        guard size < UInt64.max - 1, size <= UInt64(Int.max) else { return nil }
        return Int(size)
    }
}
