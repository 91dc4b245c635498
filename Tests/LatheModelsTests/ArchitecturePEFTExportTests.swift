import Foundation
import LatheFormats
import LatheModels
import Testing

/// The exports of each issue-14 architecture against PEFT (Scripts/goldens/peft_export_archs.py): an adapter
/// `lathe train` wrote (`<model>/peft/`) gives, read back by Lathe, the logits `peft.PeftModel.from_pretrained`
/// gives on transformers' model (1e-3 max abs, the bar), and so do Lathe's merged HF directory and merged
/// GGUF of it reloaded (the script checked that transformers loads both with these logits). Lathe's PEFT writer
/// reproduces the committed adapter byte for byte, and the GGUF LoRA carries llama.cpp's tensor names.
@Suite struct ArchitecturePEFTExportTests {
    static let models = ["tiny-qwen3", "tiny-gemma3", "tiny-phi3", "tiny-llama32", "tiny-mistral-sw"]

    struct Case {
        let name: String
        let base: LoadedModel
        let adapter: LoRAAdapter
        let rows: [[Int32]]
        let golden: SafetensorsFile

        init(_ name: String) throws {
            self.name = name
            base = try ModelLoader.load(Golden.modelPath(name, variant: "hf"))
            adapter = try PEFTAdapter.read(Golden.path("\(name)/peft"), model: base.config)
            golden = try SafetensorsFile(path: Golden.path("\(name)/peft-golden.safetensors"))
            let ids = try Golden.integers(golden, "input_ids"), t = ids.count / 2
            rows = [Array(ids[0..<t]), Array(ids[t...])]
        }

        /// Max abs difference from PEFT's logits of `weights` (with `model`'s RoPE) over the first `positions`
        /// positions of each row.
        func difference(_ weights: DecoderWeights, of model: LoadedModel, positions: Int? = nil) throws -> Float {
            let logits = try DecoderModel(weights: weights, rope: model.rope).logits(try DecoderModel.Batch(rows: rows)).storage
            let reference = try golden.floats("logits.peft")
            let (t, vocab) = (rows[0].count, base.config.vocabSize)
            let keep = (0..<(2 * t)).filter { $0 % t < (positions ?? t) }
            let pick = { (values: [Float]) in keep.flatMap { values[($0 * vocab)..<(($0 + 1) * vocab)] } }
            return maxAbsDifference(pick(logits), pick(reference))
        }

        func temporaryDirectory() -> String {
            FileManager.default.temporaryDirectory.appendingPathComponent("arch-export-\(name)-\(UUID().uuidString)").path
        }
    }

    @Test(arguments: models)
    func adapterLogitsEqualPEFT(name: String) throws {
        let c = try Case(name)
        let difference = try c.difference(c.base.weights.merged(with: c.adapter), of: c.base)
        #expect(difference < 1e-3, "\(name): max abs difference from PEFT \(difference)")
        // Meaningful only if the adapter moves the logits far more than the tolerance.
        let effect = maxAbsDifference(try c.golden.floats("logits.base"), try c.golden.floats("logits.peft"))
        #expect(effect > 1e-2, "\(name): the adapter moves the logits by only \(effect)")
    }

    @Test(arguments: models)
    func mergedExportsReloadWithPEFTLogits(name: String) throws {
        let c = try Case(name)
        let directory = c.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try AdapterExporter(base: c.base, adapter: c.adapter).export([.merged], dtype: .f32, to: directory)
        let merged = try ModelLoader.load(directory + "/merged")
        let hf = try c.difference(merged.weights, of: merged)
        #expect(hf < 1e-3, "\(name): merged HF directory, max abs difference from PEFT \(hf)")

        let ggufBase = try ModelLoader.load(Golden.modelPath(name, variant: "gguf-F32"))
        let ggufAdapter = try PEFTAdapter.read(Golden.path("\(name)/peft"), model: ggufBase.config)
        try AdapterExporter(base: ggufBase, adapter: ggufAdapter).export([.gguf], dtype: .f32, to: directory)
        let mergedGGUF = try ModelLoader.load(directory + "/merged.gguf")
        // The GGUF of a sliding-window Mistral has no window key: it matches only within the window (4).
        let positions = name == "tiny-mistral-sw" ? 4 : nil
        let gguf = try c.difference(mergedGGUF.weights, of: mergedGGUF, positions: positions)
        #expect(gguf < 1e-3, "\(name): merged GGUF, max abs difference from PEFT \(gguf)")
    }

    @Test(arguments: models)
    func peftWriterReproducesTheCommittedAdapter(name: String) throws {
        let c = try Case(name)
        let directory = c.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try PEFTAdapter.write(c.adapter, baseModel: "Tests/LatheModelsTests/Fixtures/\(name)/hf", to: directory)
        for file in ["adapter_model.safetensors", "adapter_config.json"] {
            let committed = FileManager.default.contents(atPath: Golden.path("\(name)/peft/\(file)"))
            #expect(committed != nil && committed == FileManager.default.contents(atPath: directory + "/" + file),
                    "\(name) \(file) differs from the writer's output: rerun Scripts/goldens/peft_export_archs.py")
        }
    }

    /// Phi-3's fused adapters under PEFT's and llama.cpp's names: one A (r, C) and one B for all of q, k, v
    /// (gate, up), `blk.N.attn_qkv.weight.lora_a` / `blk.N.ffn_up.weight.lora_b` in the GGUF LoRA.
    @Test func phi3FusedAdaptersAreNamedAsPEFTAndLlamaCppNameThem() throws {
        let c = try Case("tiny-phi3")
        let config = c.base.config
        let (q, kv) = (config.headCount * config.headDim, config.keyValueHeadCount * config.headDim)
        let qkv = try #require(c.adapter.layout.entry(layer: 0, module: .qkv))
        #expect(qkv.peftName("A") == "base_model.model.model.layers.0.self_attn.qkv_proj.lora_A.weight")
        #expect(qkv.outFeatures == q + 2 * kv && qkv.parts.map(\.rows) == [q, kv, kv])
        let gateUp = try #require(c.adapter.layout.entry(layer: 1, module: .gateUp))
        #expect(gateUp.peftName("B") == "base_model.model.model.layers.1.mlp.gate_up_proj.lora_B.weight")
        #expect(c.adapter.layout.targets == [.o, .down, .qkv, .gateUp])
        let directory = c.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try AdapterExporter(base: c.base, adapter: c.adapter).export([.ggufLoRA], dtype: .f32, to: directory)
        let file = try GGUFFile(path: directory + "/adapter.gguf")
        let rank = c.adapter.config.rank
        #expect(try file.shape(of: "blk.0.attn_qkv.weight.lora_a") == [rank, config.hiddenSize])
        #expect(try file.shape(of: "blk.0.attn_qkv.weight.lora_b") == [q + 2 * kv, rank])
        #expect(try file.shape(of: "blk.1.ffn_up.weight.lora_b") == [2 * config.intermediateSize, rank])
        #expect(try file.floats("blk.1.ffn_up.weight.lora_b")
                == Array(c.adapter.parameters[gateUp.b..<(gateUp.b + gateUp.outFeatures * rank)]))
        #expect(!file.tensorNames.contains { $0.contains("attn_q.") || $0.contains("ffn_gate") })
    }

    /// On Phi-3, the separate projections are refused with the fused name to use, and all-linear finds the fused ones.
    @Test func phi3TargetsNameTheFusedProjections() throws {
        let config = try ModelLoader.load(Golden.modelPath("tiny-phi3", variant: "hf")).config
        #expect(throws: ModelError.self) { try LoRALayout(lora: LoRAConfig(targets: [.q, .v]), model: config) }
        var message = ""
        do { _ = try LoRALayout(lora: LoRAConfig(targets: [.up]), model: config) } catch { message = "\(error)" }
        #expect(message.contains("part of the fused gate_up_proj"), "\(message)")
        let llama = try ModelLoader.load(Golden.modelPath("tiny-llama32", variant: "hf")).config
        #expect(throws: ModelError.self) { try LoRALayout(lora: LoRAConfig(targets: [.qkv]), model: llama) }
        #expect(try LoRALayout(lora: LoRAConfig(), model: config).targets == config.loraModules)
        #expect(try LoRALayout(lora: LoRAConfig(), model: llama).targets == [.q, .k, .v, .o, .gate, .up, .down])
    }
}
