// libFuzzer entry for tokenizer.json (vocabulary, merges, added tokens, normalizers, pre-tokenizers, decoders).
// Any input must give a Tokenizer or a TokenizerError; a tokenizer must then encode and decode without trapping,
// in time linear enough for -timeout (one long word is the quadratic-BPE probe).
import FuzzSupport
import Foundation
import LatheTokenizers

/// Builds a tokenizer from `data` and runs it over the probes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let tokenizer = try? Tokenizer(json: Data(bytes: data, count: size), file: "fuzz/tokenizer.json") else { return 0 }
    for text in tokenizerProbes {
        let ids = tokenizer.encode(text, addSpecialTokens: true, allowSpecial: true)
        _ = tokenizer.decode(ids)
        _ = tokenizer.decode(ids, skipSpecialTokens: true)
    }
    _ = tokenizer.decode([-1, 0, 1, Int32.max])
    return 0
}
