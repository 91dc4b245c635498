// libFuzzer entry for the tokenizer built from GGUF `tokenizer.ggml.*` metadata (GGUFTokenizer.swift), reached
// through the GGUF reader as a model file reaches it. Any input must give a Tokenizer or an error.
import FuzzSupport
import LatheFormats
import LatheTokenizers

/// Parses `data` as GGUF, builds its tokenizer and chat template, and encodes the probes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let file = try? GGUFFile(bytes: fuzzBytes(data, size), name: "fuzz.gguf"),
          let tokenizer = try? Tokenizer(gguf: file.metadata, file: "fuzz.gguf") else { return 0 }
    for text in tokenizerProbes {
        let ids = tokenizer.encode(text, addSpecialTokens: true, allowSpecial: true)
        _ = tokenizer.decode(ids)
    }
    _ = try? tokenizer.chatTemplate()
    return 0
}
