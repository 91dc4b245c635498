// libFuzzer entry for the token-shard reader (LatheRecipes Stages/TokenShard.swift): zstd frame, magic, version,
// example count and lengths checked against the bytes left. Any input must give examples or a RecipeError.
import FuzzSupport
import LatheRecipes

/// Stores `data` as a shard file and reads it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = writeScratch("train.tokens.zst", UnsafeBufferPointer(start: data, count: size))
    _ = try? TokenShard.read(path)
    return 0
}
