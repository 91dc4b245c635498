// libFuzzer entry for the safetensors reader (Fuzz/Package.swift, built by Fuzz/run.sh).
// Any input must give a SafetensorsFile or a FormatError: a crash, hang or ASan report is a bug.
import LatheFormats

/// Parses `data` as a safetensors image and converts every float tensor.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    guard let file = try? SafetensorsFile(bytes: bytes, name: "fuzz.safetensors") else { return 0 }
    for info in file.tensors where info.dtype.isConvertibleToFloat {
        _ = try? file.floats(info.name)
    }
    _ = try? file.floats("absent")
    return 0
}
