import LatheTensors

extension DecoderModel {
    /// Sets every DoRA magnitude of `adapter` to the row norms of its base matrix, ‖W + s·B·A‖ (PEFT
    /// `DoraLinearLayer.update_layer`; with a fresh adapter's B = 0, ‖W‖). A quantised base is read tile by tile.
    public func initializeMagnitudes(_ adapter: inout LoRAAdapter) {
        let rank = adapter.config.rank, scale = adapter.config.scale
        let layout = adapter.layout
        weights.withBase(TileScratch()) { base in
            adapter.parameters.withUnsafeMutableBufferPointer { p in
                for entry in layout.entries {
                    guard let m = entry.magnitude else { continue }
                    for part in entry.parts {
                        let matrix = base.matrix(weights.layout.layers[entry.layer].offset(of: part.module))
                        doraRowNorms(p.baseAddress! + m + part.firstRow, weight: matrix,
                                     b: UnsafePointer(p.baseAddress! + entry.b + part.firstRow * rank),
                                     a: UnsafePointer(p.baseAddress! + entry.a), rank: rank, scale: scale,
                                     out: part.rows, in: entry.inFeatures)
                    }
                }
            }
        }
    }

    /// Refuses an adapter whose DoRA magnitudes were never set (`LoRAAdapter.init(config:model:seed:)` leaves them
    /// NaN) or are not finite.
    func validateMagnitudes(_ adapter: LoRAAdapter) throws {
        for entry in adapter.layout.entries {
            guard let m = entry.magnitude else { continue }
            if adapter.parameters[m..<(m + entry.outFeatures)].contains(where: { !$0.isFinite }) {
                throw ModelError.invalidInput("the DoRA magnitude of \(entry.peftMagnitudeName) is not set; "
                                              + "initialise a new DoRA adapter with DecoderModel.initializeMagnitudes")
            }
        }
    }
}

extension LoRAAdapter {
    /// A fresh adapter for `model` (`init(config:model:seed:)`), its DoRA magnitudes, if any, the row norms of the
    /// model's base matrices.
    public init(config: LoRAConfig, model: DecoderModel, seed: UInt64) throws {
        try self.init(config: config, model: model.config, seed: seed)
        if config.useDoRA { model.initializeMagnitudes(&self) }
    }

    /// True when the adapter carries DoRA magnitudes.
    public var isDoRA: Bool { config.useDoRA }
}

extension DecoderWeights {
    /// Folds a DoRA entry into merged fp32 rows that already hold W + s·B·A: each row scaled by m / ‖row‖
    /// (PEFT `DoraLinearVariant.merge_safe`: the norm of the unmerged weight plus the delta).
    static func scaleDoRARows(_ w: UnsafeMutablePointer<Float>, magnitude: UnsafePointer<Float>, rows: Int, columns: Int) {
        for row in 0..<rows {
            let values = w + row * columns
            let factor = magnitude[row] / doubleNorm(values, columns)
            for i in 0..<columns { values[i] *= factor }
        }
    }
}
