import Foundation
import LatheFormats
import LatheModels
import LatheTokenizers
import Testing

/// Tokens a recipe adds (`train.new_tokens`) against PEFT (Scripts/goldens/new_tokens.py): the adapter `lathe run`
/// wrote (`new-tokens/<model>/peft/`, with `added_tokens.json`), read back by Lathe on the base GGUF it was trained
/// on, tokenizes the probe as transformers' tokenizer of the merged export does, gives the logits
/// `peft.PeftModel.from_pretrained` gives on the resized base (1e-3 max abs), the loss (1e-5 relative) and the token
/// tables' gradients (1e-4 of the largest) PEFT computes; its merged HF directory and GGUF carry the tokens and the
/// resized matrices and reload with the same logits. tiny-llama has untied embeddings (two tables), tiny-qwen3
/// tied ones (one table, as PEFT's tied token adapter).
@Suite struct NewTokensTests {
    static let models = ["tiny-llama", "tiny-qwen3"]
    static let newTokens = ["<diagnosis>", "<tool_call>"]

    struct Case {
        let name: String
        let base: LoadedModel
        let adapter: LoRAAdapter
        let golden: SafetensorsFile
        let ids: [Int32]

        init(_ name: String) throws {
            self.name = name
            base = try ModelLoader.load(Golden.modelPath(name, variant: "gguf-F32"))
            adapter = try PEFTAdapter.read(Golden.path("new-tokens/\(name)/peft"), model: base.config)
            golden = try SafetensorsFile(path: Golden.path("new-tokens/\(name)/golden.safetensors"))
            ids = try Golden.integers(golden, "input_ids")
        }

        /// Max abs difference of `weights`' logits on the probe from PEFT's.
        func difference(_ weights: DecoderWeights, of model: LoadedModel) throws -> Float {
            let logits = try DecoderModel(weights: weights, rope: model.rope).logits(try DecoderModel.Batch(rows: [ids])).storage
            return maxAbsDifference(logits, try golden.floats("logits.peft"))
        }
    }

    @Test(arguments: models)
    func adapterCarriesTheTokens(name: String) throws {
        let c = try Case(name)
        let tokens = try #require(c.adapter.tokens)
        #expect(tokens.newTokens == Self.newTokens)
        #expect(tokens.baseVocab == 320 && tokens.vocab == 322 && !tokens.wholeMatrices)
        #expect(tokens.tied == c.base.config.tieWordEmbeddings)
        #expect(tokens.indices == [320, 321])
    }

    @Test(arguments: models)
    func probeTokenizesAsTransformers(name: String) throws {
        let c = try Case(name)
        let text = try #require(c.golden.metadata?["text"])
        let tokenizer = try c.base.tokenizer(for: c.adapter)
        // Plain text, as transformers' tokenizer(text, add_special_tokens=False): the new tokens match whole.
        #expect(tokenizer.encode(text) == c.ids)
        #expect(tokenizer.id(of: "<diagnosis>") == 320 && tokenizer.id(of: "<tool_call>") == 321)
        #expect(tokenizer.isSpecial(320) && tokenizer.isSpecial(321))
    }

    @Test(arguments: models)
    func logitsEqualPEFT(name: String) throws {
        let c = try Case(name)
        let difference = try c.difference(c.base.weights.merged(with: c.adapter), of: c.base)
        #expect(difference < 1e-3, "\(name): max abs difference from PEFT \(difference)")
        // The rows were trained: the new tokens' rows differ from their mean-resized start.
        let start = try c.adapter.baseline(c.base.weights).parameters[c.adapter.layout.totalCount...]
        let trained = c.adapter.parameters[c.adapter.layout.totalCount...]
        #expect(maxAbsDifference(Array(start), Array(trained)) > 1e-3)
    }

    @Test(arguments: models)
    func lossAndTokenGradientsEqualPEFT(name: String) throws {
        let c = try Case(name)
        let model = DecoderModel(weights: c.base.weights, rope: c.base.rope)
        let targets = Array(c.ids.dropFirst()) + [-1]
        var gradients = [Float](repeating: 0, count: c.adapter.parameterCount)
        let workspace = DecoderWorkspace(config: c.base.config, lora: c.adapter.layout, rows: c.ids.count)
        let loss = try model.trainingStep(try DecoderModel.Batch(rows: [c.ids]), targets: targets, adapter: c.adapter,
                                          gradients: &gradients, lossScale: 1 / Float(c.ids.count - 1),
                                          dropoutKey: 0, workspace: workspace)
        let mean = loss.lossSum / Double(loss.targetCount)
        let reference = Double(try c.golden.floats("loss")[0])
        #expect(abs(mean - reference) <= 1e-5 * abs(reference), "\(name): loss \(mean), PEFT \(reference)")
        let tokens = try #require(c.adapter.tokens)
        let count = tokens.rowCount * tokens.hidden
        for (golden, offset) in [("grad.embed_tokens", tokens.embedding), ("grad.lm_head", tokens.head)] where !(tokens.tied && golden == "grad.lm_head") {
            let expected = try c.golden.floats(golden)
            let mine = Array(gradients[offset..<(offset + count)])
            let scale = expected.map(abs).max() ?? 0
            #expect(scale > 0)
            let difference = maxAbsDifference(mine, expected)
            #expect(difference <= 1e-4 * scale, "\(name): \(golden) differs by \(difference) (largest \(scale))")
        }
    }

    @Test(arguments: models)
    func exportsCarryTheTokens(name: String) throws {
        let c = try Case(name)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("newtok-\(name)-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try AdapterExporter(base: c.base, adapter: c.adapter).export([.peft, .merged, .gguf], dtype: .f32, to: directory)

        // merged/: tokenizer.json lists the tokens as special added tokens 320, 321; config.json vocab 322.
        let tokenizerJSON = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/merged/tokenizer.json"))))
        let added = tokenizerJSON["added_tokens"]?.arrayValue ?? []
        for (offset, token) in Self.newTokens.enumerated() {
            let entry = added.first { $0["content"]?.stringValue == token }
            #expect(entry?["id"]?.intValue == 320 + offset && entry?["special"]?.boolValue == true, "\(name): \(token) in tokenizer.json")
        }
        let merged = try ModelLoader.load(directory + "/merged")
        #expect(merged.config.vocabSize == 322)
        let hf = try c.difference(merged.weights, of: merged)
        #expect(hf < 1e-3, "\(name): merged HF directory, max abs difference from PEFT \(hf)")
        #expect(try merged.tokenizer().encode(try #require(c.golden.metadata?["text"]), allowSpecial: true) == c.ids)

        // merged.gguf: the tokens close tokenizer.ggml.tokens as CONTROL (3); the matrices have 322 rows.
        let gguf = try GGUFFile(path: directory + "/merged.gguf")
        let tokens = gguf.metadata["tokenizer.ggml.tokens"]?.array?.compactMap(\.string) ?? []
        let types = gguf.metadata["tokenizer.ggml.token_type"]?.array?.compactMap(\.int) ?? []
        #expect(tokens.count == 322 && Array(tokens.suffix(2)) == Self.newTokens && Array(types.suffix(2)) == [3, 3])
        let reloaded = try ModelLoader.load(directory + "/merged.gguf")
        let fromGGUF = try c.difference(reloaded.weights, of: reloaded)
        #expect(fromGGUF < 1e-3, "\(name): merged GGUF, max abs difference from PEFT \(fromGGUF)")

        // peft/: Lathe's writer reproduces the committed adapter, added_tokens.json included.
        for file in ["adapter_model.safetensors", "added_tokens.json"] {
            let written = try Data(contentsOf: URL(fileURLWithPath: directory + "/peft/" + file))
            let committed = try Data(contentsOf: URL(fileURLWithPath: Golden.path("new-tokens/\(name)/peft/" + file)))
            #expect(written == committed, "\(name): peft/\(file) differs from the committed one")
        }
    }

    @Test func newTokenListsAreChecked() throws {
        let tokenizer = try Tokenizer.forModel(at: Golden.modelPath("tiny-llama", variant: "gguf-F32"))
        #expect(throws: NewTokenError.self) { try Tokenizer.checkNewTokens(["<a>", ""]) }
        #expect(throws: NewTokenError(index: 2, message: "\"<a>\" is listed twice (also at 0); list it once")) {
            try Tokenizer.checkNewTokens(["<a>", "<b>", "<a>"])
        }
        let known = try #require(tokenizer.token(of: 5))
        #expect(throws: NewTokenError.self) { try tokenizer.adding(newTokens: ["<x>", known], firstId: 320) }
        // Ids must come after every id the tokenizer uses.
        #expect(throws: NewTokenError.self) { try tokenizer.adding(newTokens: ["<x>"], firstId: 100) }
        let grown = try tokenizer.adding(newTokens: ["<x>"], firstId: 320)
        #expect(grown.encode("a<x>b") .contains(320) && grown.vocabularySize == 321)
    }
}
