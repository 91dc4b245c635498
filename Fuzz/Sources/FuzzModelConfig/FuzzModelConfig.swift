// libFuzzer entry for a model's shape as a file describes it: GGUF hyperparameter metadata (and Phi-3's LongRoPE
// factor tensors) through `ModelConfig(gguf:file:)`, or an HF config.json through `ModelConfig(configJSON:)`, then
// the weight layout and RoPE frequencies loading builds from it. The first byte picks GGUF (odd) or config.json (even); the rest is
// the file. Any input must give a config or a ModelError/FormatError naming the file and key.

import FuzzSupport
import LatheFormats
import LatheModels
import LatheTensors

/// Reads `data` as a model file's config and builds what a load builds from it before the weights.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let config: ModelConfig
    if data[0] & 1 == 1 {
        guard let file = try? GGUFFile(bytes: fuzzBytes(data + 1, size - 1), name: "fuzz.gguf"),
              let read = try? ModelConfig(gguf: file, file: "fuzz.gguf") else { return 0 }
        config = read
    } else {
        let path = writeScratch("model/config.json", UnsafeBufferPointer(start: data + 1, count: size - 1))
        guard let read = try? ModelConfig(configJSON: path) else { return 0 }
        config = read
    }
    _ = WeightLayout(config: config)
    _ = RopeFrequencies(config: config)
    if config.longRope != nil { _ = RopeFrequencies(config: config, long: true) }
    return 0
}
