// libFuzzer entry for the zstd checkpoint reader: CheckpointStore.load reads step-1.safetensors.zst with its
// bounded decompression, safetensors validation, version and payload-hash checks. Any input must load or throw.
import FuzzSupport
import LatheCheckpoints

/// A store whose decompressed-size cap is 64 MiB, so a bomb past it is refused before any allocation.
let store = CheckpointStore(directory: "\(fuzzScratch)/checkpoints", maxDecompressedBytes: 64 << 20)

/// Stores `data` as the checkpoint of step 1 and loads it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    writeScratch("checkpoints/\(CheckpointStore.fileName(step: 1))", UnsafeBufferPointer(start: data, count: size))
    _ = try? store.load(step: 1)
    return 0
}
