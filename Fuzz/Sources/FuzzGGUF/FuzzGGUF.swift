// libFuzzer entry for the GGUF reader (Fuzz/Package.swift, built by Fuzz/run.sh).
// Any input must give a GGUFFile or a FormatError: a crash, hang or ASan report is a bug.
import LatheFormats

/// Parses `data` as a GGUF image and dequantises every supported tensor.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    guard let file = try? GGUFFile(bytes: bytes, name: "fuzz.gguf") else { return 0 }
    for info in file.tensors where info.type.canDequantize {
        _ = try? file.floats(info.name)
    }
    _ = file.metadata[GGUFFile.alignmentKey]?.int
    return 0
}
