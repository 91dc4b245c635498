import Foundation
import LatheSupport
import LatheFormats
import LatheModels
@testable import LatheTraining
import Testing

/// Every export format, the GGUF LoRA read back the way llama.cpp applies it, and the pre-export warnings.
@Suite struct AdapterExporterTests {
    static func base(_ file: String = "tiny-llama-F32.gguf", model: String = "tiny-llama") throws -> LoadedModel {
        try ModelLoader.load(PEFTGoldenTests.modelFixtures.appendingPathComponent("\(model)/\(file)").path)
    }

    static func adapter(_ config: ModelConfig, rank: Int = 4, rsLoRA: Bool = false) throws -> LoRAAdapter {
        let lora = LoRAConfig(rank: rank, alpha: 8, useRSLoRA: rsLoRA, targets: LoRAConfig.Module.allCases)
        var adapter = try LoRAAdapter(config: lora, model: config, seed: 5)
        var random = SplitMix64(seed: 11)
        for i in adapter.parameters.indices { adapter.parameters[i] = Float(random.nextUnit() - 0.5) * 0.2 }
        return adapter
    }

    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("lathe-export-\(UUID())").path
    }

    /// llama.cpp computes W·x + (alpha/r)·B·(A·x) with the adapter's GGUF tensors; folded into W that must be the
    /// merged GGUF's weight, for every adapted projection (names, ggml shapes, q/k row order and scale at once).
    @Test(arguments: [("tiny-llama", false), ("tiny-llama", true), ("tiny-llama3", false), ("tiny-qwen2", false)])
    func ggufLoRAIsWhatLlamaCppAddsToTheBase(model: String, rsLoRA: Bool) throws {
        let base = try Self.base("\(model)-F32.gguf", model: model)
        let adapter = try Self.adapter(base.config, rsLoRA: rsLoRA)
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let written = try AdapterExporter(base: base, adapter: adapter).export([.ggufLoRA, .gguf], dtype: .f32, to: directory)
        let lora = try GGUFFile(path: try #require(written[.ggufLoRA]))
        let merged = try GGUFFile(path: try #require(written[.gguf]))
        let original = try GGUFFile(path: base.path)
        #expect(lora.metadata["general.type"]?.string == "adapter")
        #expect(lora.metadata["adapter.type"]?.string == "lora")
        #expect(lora.metadata["general.architecture"]?.string == original.metadata["general.architecture"]?.string)
        let rank = adapter.config.rank
        let alpha = Float(try #require(lora.metadata["adapter.lora.alpha"]?.double))
        #expect(abs(alpha / Float(rank) - adapter.config.scale) < 1e-6, "llama.cpp's alpha/r must be the trained scale")

        let pairs = lora.tensorNames.filter { $0.hasSuffix(".lora_a") }
        #expect(pairs.count == adapter.layout.entries.count)
        #expect(lora.tensorNames.count == 2 * pairs.count)
        for nameA in pairs {
            let weight = String(nameA.dropLast(".lora_a".count))
            let shapeW = try original.shape(of: weight)            // (out, in)
            let shapeA = try lora.shape(of: nameA), shapeB = try lora.shape(of: weight + ".lora_b")
            // ggml ne: A (in, r), B (r, out) — llama_adapter_lora's checks, in PyTorch order.
            #expect(shapeA == [rank, shapeW[1]] && shapeB == [shapeW[0], rank], "\(weight)")
            let a = try lora.floats(nameA), b = try lora.floats(weight + ".lora_b")
            let w = try original.floats(weight), expected = try merged.floats(weight)
            var worst: Float = 0
            for row in 0..<shapeW[0] {
                for column in 0..<shapeW[1] {
                    var delta: Float = 0
                    for k in 0..<rank { delta += b[row * rank + k] * a[k * shapeW[1] + column] }
                    worst = max(worst, abs(w[row * shapeW[1] + column] + alpha / Float(rank) * delta - expected[row * shapeW[1] + column]))
                }
            }
            #expect(worst < 1e-5, "\(weight): max abs difference \(worst)")
        }
    }

    /// A GGUF base holds llama3 RoPE scaling only as rope_freqs divisors, which config.json cannot state: the merged
    /// HF directory is refused (transformers would rotate differently); a GGUF without them exports.
    @Test func mergedHFFromALlama3GGUFIsRefused() throws {
        let llama3 = try Self.base("tiny-llama3-F32.gguf", model: "tiny-llama3")
        do {
            try AdapterExporter(base: llama3, adapter: try Self.adapter(llama3.config)).check([.merged], dtype: .f32)
            Issue.record("a merged HF export from a GGUF with rope_freqs must be refused")
        } catch {
            #expect("\(error)".contains("rope_freqs.weight") && "\(error)".contains("--base DIR"), "\(error)")
        }
        let plain = try Self.base("tiny-llama-F32.gguf", model: "tiny-llama")
        try AdapterExporter(base: plain, adapter: try Self.adapter(plain.config)).check([.merged], dtype: .f32)
    }

    @Test func everyFormatIsWrittenAndTheMergedOnesReload() throws {
        let base = try Self.base()
        let adapter = try Self.adapter(base.config)
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let written = try AdapterExporter(base: base, adapter: adapter, baseModelID: "org/tiny-llama")
            .export(ExportFormat.allCases, dtype: .f16, to: directory)
        #expect(Set(written.keys) == Set(ExportFormat.allCases))
        let peft = try PEFTAdapter.read(try #require(written[.peft]), model: base.config)
        #expect(peft.parameters == adapter.parameters)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: written[.peft]! + "/adapter_config.json"))) as? [String: Any]
        #expect(config?["base_model_name_or_path"] as? String == "org/tiny-llama")

        let batch = try DecoderModel.Batch(rows: [[3, 40, 7, 300, 12]])
        let expected = try DecoderModel(weights: base.weights.merged(with: adapter), rope: base.rope).logits(batch)
        for format in [ExportFormat.merged, .gguf] {
            let reloaded = try ModelLoader.load(try #require(written[format]))
            #expect(Set(reloaded.storageTypes.values).isSubset(of: ["F16", "F32"]), "\(format)")
            let logits = try DecoderModel(weights: reloaded.weights, rope: reloaded.rope).logits(batch)
            // f16 storage: relative rounding 2^-11 on weights of magnitude ≲ 0.3.
            #expect(logits.maxAbsDifference(expected) < 2e-2, "\(format): \(logits.maxAbsDifference(expected))")
            #expect(logits.maxAbsDifference(try DecoderModel(weights: base.weights, rope: base.rope).logits(batch)) > 0.05,
                    "the adapter must change the logits for this comparison to mean anything")
        }
    }

    @Test func mergedGGUFInQ8_0() throws {
        let base = try Self.base()
        let adapter = try Self.adapter(base.config)
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let written = try AdapterExporter(base: base, adapter: adapter).export([.gguf], dtype: .q8_0, to: directory)
        let file = try GGUFFile(path: try #require(written[.gguf]))
        #expect(file.metadata["general.file_type"]?.int == 7)
        #expect(try file.storageType(of: "blk.0.attn_q.weight") == "Q8_0")
        #expect(try file.storageType(of: "blk.0.attn_norm.weight") == "F32")
        let reloaded = try ModelLoader.load(file.path)
        let batch = try DecoderModel.Batch(rows: [[3, 40, 7, 300, 12]])
        let expected = try DecoderModel(weights: base.weights.merged(with: adapter), rope: base.rope).logits(batch)
        let logits = try DecoderModel(weights: reloaded.weights, rope: reloaded.rope).logits(batch)
        let unadapted = try DecoderModel(weights: base.weights, rope: base.rope).logits(batch)
        // Q8_0 rounds each weight to 1/127 of its block's largest: the logits move by a few per cent of their
        // range, far less than the adapter moves them.
        let range = expected.storage.map(abs).max() ?? 0
        #expect(logits.maxAbsDifference(expected) < 0.03 * range, "\(logits.maxAbsDifference(expected)) of \(range)")
        #expect(logits.maxAbsDifference(expected) < 0.25 * unadapted.maxAbsDifference(expected))
    }

    @Test func warningsNameWhatTheTargetWillDo() throws {
        let quantised = try Self.base("tiny-llama-Q4_0.gguf")
        let wide = AdapterExporter(base: quantised, adapter: try Self.adapter(quantised.config, rank: 24, rsLoRA: true))
        let warnings = wide.warnings(for: ExportFormat.allCases).map(\.description)
        #expect(warnings.contains { $0.hasPrefix("peft:") && $0.contains("--max-lora-rank 32") })
        #expect(warnings.contains { $0.contains("base_model_name_or_path") || $0.contains("names the base") })
        #expect(warnings.contains { $0.contains("Q4_0") && $0.contains("-quantised base weights") })
        #expect(warnings.contains { $0.hasPrefix("gguf-lora:") && $0.contains("√r") })

        let plain = try Self.base()
        let quiet = AdapterExporter(base: plain, adapter: try Self.adapter(plain.config), baseModelID: "org/tiny-llama")
        #expect(quiet.warnings(for: ExportFormat.allCases).isEmpty)
    }

    @Test func impossibleCombinationsAreRefusedBeforeWriting() throws {
        let gguf = try Self.base()
        let exporter = AdapterExporter(base: gguf, adapter: try Self.adapter(gguf.config))
        #expect(throws: ModelError.self) { try exporter.check([.merged], dtype: .q8_0) }
        let hf = try ModelLoader.load(PEFTGoldenTests.modelFixtures.appendingPathComponent("tiny-llama/hf").path)
        let fromHF = AdapterExporter(base: hf, adapter: try Self.adapter(hf.config))
        #expect(throws: ModelError.self) { try fromHF.check([.gguf], dtype: .f32) }
        let directory = Self.temporaryDirectory()
        #expect(throws: ModelError.self) { try fromHF.export([.peft, .gguf], dtype: .f32, to: directory) }
        #expect(!FileManager.default.fileExists(atPath: directory), "nothing is written when the export cannot complete")
    }
}
