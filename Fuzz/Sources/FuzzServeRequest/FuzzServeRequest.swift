// libFuzzer entry for `lathe serve` request bodies: the bytes go through `ServedModel.decodeCompletion`,
// `decodeChat`, `decodeTokenize` and `decodeDetokenize`, the functions the route handlers call (size limit, JSON,
// field types and ranges, model name, token ids, chat template, context budget). Input layout: one byte naming the
// endpoint (c, h, t, d; any other byte picks one by its value mod 4), then the body. Any input must decode or give
// a 4xx ServeError; a 5xx (an error the decoder did not map) is a finding.
import Foundation
import FuzzSupport
import LatheModels
import LatheServe
import LatheTokenizers

/// The repository's test fixtures (the fuzz package is built in place, inside the repository).
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tests")

/// The tiny Llama of the model tests (vocabulary 320, context 128) with SmolLM2's tokenizer and ChatML template,
/// and one adapter "a"; a 16 KiB body limit so the limit itself is reached. Built on first use and released at exit:
/// LeakSanitizer's exit check does not follow the tagged pointers of Swift's indirect enums, so the template's syntax
/// tree, alive in a global until then, was reported as leaked (its only finding in the first run). Releasing it
/// first makes the exit check look at what the inputs left behind.
nonisolated(unsafe) var servedModel: ServedModel?

func served() -> ServedModel {
    if let servedModel { return servedModel }
    do {
        let loaded = try ModelLoader.load(fixtures.appendingPathComponent("LatheModelsTests/Fixtures/tiny-llama/hf").path)
        let tokenizer = try Tokenizer.load(fixtures.appendingPathComponent("LatheTokenizersTests/Fixtures/tokenizers/smollm2"))
        let adapter = try LoRAAdapter(config: LoRAConfig(rank: 2, alpha: 4, targets: [.q, .v]), model: loaded.config, seed: 1)
        let model = try ServedModel(model: DecoderModel(weights: loaded.weights, rope: loaded.rope), tokenizer: tokenizer,
                                    adapters: ["a": adapter],
                                    options: ServeOptions(baseName: "base", maxModelLength: 128,
                                                          limits: SchedulerLimits(maxBatch: 1, kvCacheTokens: 128, maxQueue: 4),
                                                          maxBodyBytes: 16 << 10))
        servedModel = model
        atexit {
            servedModel?.drain()
            servedModel = nil
        }
        return model
    } catch {
        fatalError("cannot build the fuzzed server's model from \(fixtures.path): \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let selector = bytes.first else { return 0 }
    let body = Array(bytes.dropFirst())
    let model = served()
    do throws(ServeError) {
        switch selector {
        case UInt8(ascii: "c"): check(try model.decodeCompletion(body: body).jobCount)
        case UInt8(ascii: "h"): check(try model.decodeChat(body: body).jobCount)
        case UInt8(ascii: "t"): _ = try model.decodeTokenize(body: body)
        case UInt8(ascii: "d"): _ = try model.decodeDetokenize(body: body)
        default:
            switch selector % 4 {
            case 0: check(try model.decodeCompletion(body: body).jobCount)
            case 1: check(try model.decodeChat(body: body).jobCount)
            case 2: _ = try model.decodeTokenize(body: body)
            default: _ = try model.decodeDetokenize(body: body)
            }
        }
    } catch {
        precondition((400..<500).contains(error.status), "a request body gave a server error: \(error)")
    }
    return 0
}

/// A decoded generation request asks for at least one sequence.
func check(_ jobs: Int) { precondition(jobs >= 1, "a decoded request with no sequences") }
