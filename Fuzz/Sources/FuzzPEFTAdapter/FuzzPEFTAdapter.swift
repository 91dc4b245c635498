// libFuzzer entry for PEFT adapter directories: adapter_config.json and adapter_model.safetensors read together
// for a small Llama shape. Input layout: the config's length as two little-endian bytes, the config, then the
// safetensors image. Any input must give an adapter or a ModelError/FormatError.
import FuzzSupport
import LatheModels

/// The model shape adapters are read against: 2 layers, width 16, 2 heads (1 key-value head), vocabulary 32.
let model = ModelConfig(architecture: .llama, hiddenSize: 16, intermediateSize: 32, layerCount: 2, headCount: 2,
                        keyValueHeadCount: 1, vocabSize: 32)

/// Writes the two files of `data` into an adapter directory and reads it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard bytes.count >= 2 else { return 0 }
    let configLength = min(Int(bytes[0]) | Int(bytes[1]) << 8, bytes.count - 2)
    writeScratch("adapter/adapter_config.json", bytes[2..<(2 + configLength)])
    writeScratch("adapter/adapter_model.safetensors", bytes[(2 + configLength)...])
    _ = try? PEFTAdapter.read("\(fuzzScratch)/adapter", model: model)
    return 0
}
