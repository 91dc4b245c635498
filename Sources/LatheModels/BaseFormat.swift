import LatheFormats

/// How the frozen base's matrices are held in memory (`train.base_format`, `--base-format`). The 1-D weights
/// (norms, biases), LoRA, activations and optimiser state are fp32 whatever this says.
public enum BaseFormat: String, Sendable, CaseIterable, Codable {
    /// The file's own form when any matrix is stored quantised or in 16 bits; fp32 for an all-F32 file.
    case auto
    /// Every matrix dequantised to fp32 once, at load (the reference path; 4 bytes per weight).
    case f32
    /// Quantised on load to bfloat16 (2 bytes per weight).
    case bf16
    /// Quantised on load to ggml Q8_0 (8.5 bits per weight; rows must be multiples of 32 wide).
    case q8_0
    /// Quantised on load to ggml Q4_K (4.5 bits per weight; rows must be multiples of 256 wide).
    case q4_k

    /// The storage type a matrix stored as `stored` is kept in: nil means fp32 (dense).
    func keptType(stored: GGMLType, anyQuantized: Bool) -> GGMLType? {
        switch self {
        case .auto: return anyQuantized ? stored : nil
        case .f32: return nil
        case .bf16: return .bf16
        case .q8_0: return .q8_0
        case .q4_k: return .q4_K
        }
    }

    /// The accepted spellings, for error messages.
    public static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

extension DecoderWeights {
    /// Reads every weight of `layout` from `source` under its HF name (`rename` maps it to the source's name),
    /// checking shapes. Matrices are kept as `format` says: in the file's bytes (memory-mapped, never converted as a
    /// whole), quantised on load, or in fp32. `rowOrder` gives a matrix's stored row for each HF row when they differ
    /// (GGUF's Q/K permutation); `transform` adjusts fp32 values (Gemma's norm offset).
    static func load(config: ModelConfig, from source: TensorSource, file: String, format: BaseFormat,
                     rename: (String) -> String = { $0 }, rowOrder: (String, Int) -> [Int]? = { _, _ in nil },
                     transform: (String, inout [Float]) -> Void = { _, _ in }) throws -> DecoderWeights {
        let layout = WeightLayout(config: config)
        let available = Set(source.tensorNames)
        var types: [String: GGMLType] = [:]
        for entry in layout.entries {
            let sourceName = rename(entry.name)
            guard available.contains(sourceName) else { throw ModelError.missingTensor(file: file, name: sourceName) }
            let shape = try source.shape(of: sourceName)
            guard shape == entry.shape else {
                throw ModelError.shapeMismatch(file: file, name: sourceName, expected: entry.shape, found: shape)
            }
            if entry.shape.count == 2 { types[entry.name] = try source.quantizedMatrix(sourceName).type }
        }
        let anyQuantized = types.values.contains { $0 != .f32 }
        let keep = types.mapValues { format.keptType(stored: $0, anyQuantized: anyQuantized) }
        var weights = DecoderWeights(config: config, quantizedMatrices: keep.values.contains { $0 != nil })
        for entry in layout.entries {
            let sourceName = rename(entry.name)
            if let kept = keep[entry.name] ?? nil, let stored = types[entry.name] {
                var matrix = try source.quantizedMatrix(sourceName)
                let order = rowOrder(entry.name, entry.shape[0])
                if kept == stored {
                    if let order { matrix = matrix.reorderingRows(order) }
                } else {
                    var values = try source.floats(sourceName)
                    if let order { values = order.flatMap { values[($0 * entry.shape[1])..<(($0 + 1) * entry.shape[1])] } }
                    matrix = try values.withUnsafeBufferPointer {
                        try QuantizedMatrix(encoding: $0, rows: entry.shape[0], columns: entry.shape[1], as: kept,
                                            name: "\(file): \(sourceName)")
                    }
                }
                weights.setQuantized(matrix, at: entry.offset)
                continue
            }
            var values = try source.floats(sourceName)
            guard values.count == entry.count else {
                throw ModelError.shapeMismatch(file: file, name: sourceName, expected: entry.shape, found: [values.count])
            }
            if entry.shape.count == 2, let order = rowOrder(entry.name, entry.shape[0]) {
                values = order.flatMap { values[($0 * entry.shape[1])..<(($0 + 1) * entry.shape[1])] }
            }
            transform(entry.name, &values)
            weights.storage.withUnsafeMutableBufferPointer { out in
                values.withUnsafeBufferPointer { src in
                    (out.baseAddress! + entry.offset).update(from: src.baseAddress!, count: entry.count)
                }
            }
        }
        return weights
    }
}
