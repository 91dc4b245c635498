import Foundation
import Testing
@testable import LatheFormats

/// The SmolLM2 GGUF that `make` downloads into Checkpoints/base/, found relative to the package root.
enum RealModel {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let path = packageRoot.appendingPathComponent("Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf").path
    static var isPresent: Bool { FileManager.default.fileExists(atPath: path) }
}

@Suite("SmolLM2-135M GGUF (skipped when Checkpoints/base has no model)")
struct RealModelTests {
    @Test(.enabled(if: RealModel.isPresent, "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf is absent"))
    func readsTheSmolLM2Checkpoint() throws {
        let file = try GGUFFile(path: RealModel.path)
        #expect(file.tensors.count == 272 || file.tensors.count == 273)
        #expect(file.metadata["general.architecture"]?.string == "llama")
        #expect(file.metadata["llama.block_count"]?.int == 30)
        #expect(file.metadata["tokenizer.ggml.tokens"]?.array?.count == 49152)
        #expect(try file.shape(of: "token_embd.weight") == [49152, 576])
        var total = 0
        for info in file.tensors {
            #expect(info.shape == (try file.shape(of: info.name)))
            total += info.elementCount
        }
        #expect(total == 134_515_008)
        // Debug builds dequantise slowly, so check the embedding, block 0 and the final norm; a release run of all
        // 272 tensors takes about 0.4 s (see the Formats report).
        for name in file.tensorNames where name == "token_embd.weight" || name.hasPrefix("blk.0.") || name == "output_norm.weight" {
            let values = try file.floats(name)
            var finite = true, nonZero = false
            for v in values {
                finite = finite && v.isFinite
                nonZero = nonZero || v != 0
            }
            #expect(finite, "\(name)")
            #expect(nonZero, "\(name)")
        }
        #expect(Set(file.tensors.map(\.type.name)) == ["F32", "Q4_1", "Q8_0"])
    }
}
