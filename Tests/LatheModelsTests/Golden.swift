import Foundation
import LatheFormats

/// Golden files written by Scripts/goldens/models.py (transformers + gguf); see that script for how each was made.
enum Golden {
    static var fixtures: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    static func path(_ relative: String) -> String { fixtures.appendingPathComponent(relative).path }

    /// The file or directory a golden variant name refers to: "hf", "hf-bf16", "hf-sharded" are directories,
    /// "gguf-F32" is `<model>-F32.gguf`.
    static func modelPath(_ model: String, variant: String) -> String {
        if variant.hasPrefix("gguf-") { return path("\(model)/\(model)-\(variant.dropFirst(5)).gguf") }
        return path("\(model)/\(variant)")
    }

    /// Integer tensor (I64 or I32 in the file) as Int32 values.
    static func integers(_ file: SafetensorsFile, _ name: String) throws -> [Int32] {
        let info = try file.info(name)
        return try file.withRawBytes(of: name) { raw in
            switch info.dtype.rawValue {
            case "I64": return (0..<info.elementCount).map { Int32(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
            case "I32": return (0..<info.elementCount).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
            default: preconditionFailure("\(name) is \(info.dtype.rawValue), not an integer tensor")
            }
        }
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    var worst: Float = 0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i])) }
    return worst
}
