import Foundation
import LatheFormats
@testable import LatheModels
@testable import LatheTraining
import Testing

/// DoRA against PEFT 0.21 `use_dora=True` (Scripts/goldens/dora.py) on tiny Llama, Qwen2 (q/k/v bias) and Phi-3
/// (fused qkv_proj / gate_up_proj): loss, every gradient (A, B and the magnitude) and five AdamW steps with the
/// tolerances of `PEFTGoldenTests`; the initial magnitude; and the adapter PEFT saved — read by Lathe, written back
/// by Lathe's PEFT writer, and merged — giving PEFT's logits within 1e-3.
@Suite struct DoRAGoldenTests {
    static let models = ["tiny-llama", "tiny-qwen2", "tiny-phi3"]

    @Test(arguments: models)
    func lossAndEveryGradientEqualPEFT(name: String) throws {
        try PEFTGoldenTests.checkLossAndGradients(try PEFTGoldenTests.Case(name, kind: "dora"), name: name)
    }

    @Test(arguments: models)
    func fiveAdamWStepsEqualPEFT(name: String) throws {
        try PEFTGoldenTests.checkFiveSteps(try PEFTGoldenTests.Case(name, kind: "dora"), name: name)
    }

    /// A fresh DoRA adapter's magnitudes are the row norms of the base (PEFT's init), and the step-0 output is the
    /// base's: m / ‖W‖ = 1 exactly.
    @Test(arguments: models)
    func freshMagnitudesAreTheRowNorms(name: String) throws {
        let c = try PEFTGoldenTests.Case(name, kind: "dora")
        let adapter = try LoRAAdapter(config: c.lora, model: c.model, seed: 0)
        let reference = try c.adapter("peft_init.")
        for entry in adapter.layout.entries {
            let range = entry.magnitude!..<(entry.magnitude! + entry.outFeatures)
            let ours = Array(adapter.parameters[range]), theirs = Array(reference.parameters[range])
            let relative = maxAbsDifference(ours, theirs) / theirs.map { abs($0) }.max()!
            #expect(relative < 1e-6, "\(name) \(entry.peftMagnitudeName): \(relative)")
        }
        let unset = try LoRAAdapter(config: c.lora, model: c.model.config, seed: 0)
        var gradients = [Float](repeating: 0, count: unset.layout.totalCount)
        #expect(throws: ModelError.self) {
            _ = try c.model.trainingStep(c.batch.batch, targets: c.batch.targets, adapter: unset, gradients: &gradients,
                                         lossScale: 1, dropoutKey: 0,
                                         workspace: DecoderWorkspace(config: c.model.config, lora: unset.layout, rows: 24))
        }
    }

    /// The adapter `save_pretrained` wrote: Lathe reads it (names `...lora_magnitude_vector`, `use_dora: true`),
    /// its merge gives `PeftModel.from_pretrained`'s logits within 1e-3, and Lathe's writer reproduces every tensor
    /// PEFT wrote, under PEFT's names, with `use_dora: true`, so PEFT loads Lathe's file as its own.
    @Test(arguments: models)
    func peftAdapterRoundTripsWithPEFTLogits(name: String) throws {
        let c = try PEFTGoldenTests.Case(name, kind: "dora")
        let directory = PEFTGoldenTests.fixtures.appendingPathComponent("\(name)-dora-peft").path
        let adapter = try PEFTAdapter.read(directory, model: c.model.config)
        #expect(adapter.config.useDoRA)
        let difference = try logitsDifference(c, c.model.weights.merged(with: adapter))
        #expect(difference < 1e-3, "\(name): merged DoRA logits differ from PEFT's by \(difference)")
        let effect = maxAbsDifference(try c.golden.floats("logits.base"), try c.golden.floats("logits.peft"))
        #expect(effect > 1e-2, "\(name): the adapter moves the logits by only \(effect)")

        let written = FileManager.default.temporaryDirectory.appendingPathComponent("dora-\(name)-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: written) }
        try PEFTAdapter.write(adapter, baseModel: "tiny/\(name)", to: written)
        let ours = try SafetensorsFile(path: written + "/adapter_model.safetensors")
        let theirs = try SafetensorsFile(path: directory + "/adapter_model.safetensors")
        #expect(Set(ours.tensorNames) == Set(theirs.tensorNames))
        for tensor in theirs.tensorNames {
            #expect(try ours.shape(of: tensor) == theirs.shape(of: tensor), "\(tensor)")
            #expect(try ours.floats(tensor) == theirs.floats(tensor), "\(tensor)")
        }
        let config = try JSONNode.read(file: written + "/adapter_config.json", maxBytes: 1 << 20)
        #expect(try config.optionalBool("use_dora") == true)
    }

    /// Merged exports fold the magnitude in: the merged HF directory and merged GGUF, reloaded, give PEFT's logits
    /// (1e-3); a GGUF LoRA export is refused, naming the merged GGUF; the PEFT export warns that vLLM refuses DoRA.
    @Test func mergedExportCarriesDoRAAndGGUFLoRAIsRefused() throws {
        let name = "tiny-llama"
        let c = try PEFTGoldenTests.Case(name, kind: "dora")
        let base = try ModelLoader.load(PEFTGoldenTests.modelFixtures.appendingPathComponent("\(name)/hf").path)
        let adapter = try PEFTAdapter.read(PEFTGoldenTests.fixtures.appendingPathComponent("\(name)-dora-peft").path,
                                           model: base.config)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dora-merged-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let exporter = AdapterExporter(base: base, adapter: adapter)
        try exporter.export([.merged], dtype: .f32, to: directory)
        let merged = try ModelLoader.load(directory + "/merged")
        let difference = try logitsDifference(c, merged.weights)
        #expect(difference < 1e-3, "merged HF directory: \(difference) from PEFT")
        let ggufBase = try ModelLoader.load(PEFTGoldenTests.modelFixtures.appendingPathComponent("\(name)/\(name)-F32.gguf").path)
        try AdapterExporter(base: ggufBase, adapter: adapter).export([.gguf], dtype: .f32, to: directory)
        let mergedGGUF = try ModelLoader.load(directory + "/merged.gguf")
        let gguf = try logitsDifference(c, mergedGGUF.weights, of: mergedGGUF)
        #expect(gguf < 1e-3, "merged GGUF: \(gguf) from PEFT")
        #expect(throws: ModelError.self) { try exporter.export([.ggufLoRA], dtype: .f32, to: directory) }
        #expect(exporter.warnings(for: [.peft]).contains { $0.message.contains("vLLM refuses DoRA") })
    }

    /// With dropout (which PEFT's golden cannot share: its masks come from torch's RNG) the magnitude gradients
    /// equal central finite differences of the loss under the same masks — the 4 largest of the first layer, which
    /// reach it through every later layer's input gradient (dropout's bypass term included), and the 4 largest
    /// overall — within 5% (fp32 loss, step 1e-3). A and B are not checked this way: PEFT detaches the norm, so their
    /// gradients are by design not the loss's derivative.
    @Test func dropoutMagnitudeGradientsEqualFiniteDifferences() throws {
        var c = try PEFTGoldenTests.Case("tiny-llama", kind: "dora")
        c.lora.dropout = 0.3
        let adapter = try c.adapter("init.")
        let magnitudes = { (entries: [LoRALayout.Entry]) in
            entries.flatMap { e in Array(e.magnitude!..<(e.magnitude! + e.outFeatures)) }
        }
        try FiniteDifferences.check(c, adapter, groups: [
            ("layer 0", magnitudes(adapter.layout.entries.filter { $0.layer == 0 })),
            ("any layer", magnitudes(adapter.layout.entries)),
        ])
    }

    /// A training workspace reused for the next micro-batch keeps its DoRA row norms only while A, B and the scale
    /// (and the base) are those they were computed from: unchanged, after one element of B changes, after a magnitude
    /// alone changes, and after alpha alone changes, the loss and every gradient equal a fresh workspace's bit for bit.
    @Test func reusedWorkspaceRecomputesNormsWhenAOrBChange() throws {
        let c = try PEFTGoldenTests.Case("tiny-llama", kind: "dora")
        var adapter = try c.adapter("init.")
        let rows = c.batch.targets.count
        let reused = DecoderWorkspace(config: c.model.config, lora: adapter.layout, rows: rows)
        func step(_ adapter: LoRAAdapter, _ workspace: DecoderWorkspace) throws -> [UInt64] {
            var gradients = [Float](repeating: 0, count: adapter.layout.totalCount)
            let result = try c.model.trainingStep(c.batch.batch, targets: c.batch.targets, adapter: adapter,
                                                  gradients: &gradients, lossScale: 1, dropoutKey: 0, workspace: workspace)
            return [result.lossSum.bitPattern] + gradients.map { UInt64($0.bitPattern) }
        }
        func fresh(_ adapter: LoRAAdapter) throws -> [UInt64] {
            try step(adapter, DecoderWorkspace(config: c.model.config, lora: adapter.layout, rows: rows))
        }
        let first = try step(adapter, reused)
        #expect(try step(adapter, reused) == first)
        #expect(first == (try fresh(adapter)))
        let entry = adapter.layout.entries[0]
        adapter.parameters[entry.b] += 0.5
        let changedB = try step(adapter, reused)
        #expect(changedB != first)
        #expect(changedB == (try fresh(adapter)))
        adapter.parameters[entry.magnitude!] *= 2
        let changedM = try step(adapter, reused)
        #expect(changedM != changedB)
        #expect(changedM == (try fresh(adapter)))
        var doubled = adapter.config
        doubled.alpha *= 2
        let rescaled = LoRAAdapter(config: doubled, layout: adapter.layout, parameters: adapter.parameters)
        let changedScale = try step(rescaled, reused)
        #expect(changedScale != changedM)
        #expect(changedScale == (try fresh(rescaled)))
    }

    /// The reuse is keyed on the base's identity as well as its storage's address: another model's storage may land
    /// at a freed model's address, and the norms were not computed over it.
    @Test func normsAreKeyedOnTheBaseIdentity() throws {
        let c = try PEFTGoldenTests.Case("tiny-llama", kind: "dora")
        let adapter = try c.adapter("init.")
        let workspace = DecoderWorkspace(config: c.model.config, lora: adapter.layout, rows: 4)
        let (own, other) = (c.model.weights.identity, DecoderWeights(config: c.model.config).identity)
        #expect(own != other)
        c.model.weights.storage.withUnsafeBufferPointer { storage in
            adapter.parameters.withUnsafeBufferPointer { parameters in
                func holds(_ identity: UInt64) -> Bool {
                    workspace.holdsDoRANorms(of: adapter.layout, parameters.baseAddress!, scale: adapter.config.scale,
                                             base: storage.baseAddress!, baseIdentity: identity)
                }
                #expect(!holds(own))    // nothing held yet
                #expect(holds(own))
                #expect(!holds(other))  // the same address, another model
                #expect(holds(other))
            }
        }
    }

    /// Max abs difference from `logits.peft` of the logits of `weights` (with `loaded`'s RoPE, else the fixture's)
    /// on the golden's two rows.
    private func logitsDifference(_ c: PEFTGoldenTests.Case, _ weights: DecoderWeights,
                                  of loaded: LoadedModel? = nil) throws -> Float {
        let ids = try integers(c.golden, "input_ids")
        let rows = [Array(ids[0..<12]), Array(ids[12...])]
        let logits = try DecoderModel(weights: weights, rope: loaded?.rope ?? c.model.rope).logits(try DecoderModel.Batch(rows: rows)).storage
        return maxAbsDifference(logits, try c.golden.floats("logits.peft"))
    }
}
