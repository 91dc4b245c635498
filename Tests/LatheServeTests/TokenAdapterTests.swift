import Foundation
import LatheModels
import LatheServe
import Testing

/// `lathe serve` applies adapters per request over the base's vocabulary and embeddings, so an adapter that adds
/// tokens or trains embedding rows is refused when the server is built, naming the adapter and what to do instead.
struct TokenAdapterTests {
    static let fixtures = ServerFixture.root.appendingPathComponent("Tests")
    /// The tiny Llama of the model tests, as a GGUF that carries its tokenizer.
    static let tinyLlama = fixtures.appendingPathComponent("LatheModelsTests/Fixtures/tiny-llama/tiny-llama-F32.gguf").path

    /// A server over the tiny Llama with `adapters`, on no port: building it is what is checked.
    func serve(_ loaded: LoadedModel, _ adapters: [String: LoRAAdapter]) throws -> ServedModel {
        try ServedModel(model: DecoderModel(weights: loaded.weights, rope: loaded.rope), tokenizer: try loaded.tokenizer(), adapters: adapters,
                        options: ServeOptions(baseName: "tiny", maxModelLength: 64, limits: SchedulerLimits(kvCacheTokens: 64)))
    }

    /// A rank-2 adapter of the tiny Llama, read back from its PEFT directory as `lathe serve --adapter` reads it.
    func adapter(_ loaded: LoadedModel, newTokens: [String], wholeMatrices: Bool, name: String) throws -> LoRAAdapter {
        var adapter = try LoRAAdapter(config: LoRAConfig(rank: 2, alpha: 4, targets: [.q, .v]), model: loaded.config, seed: 3)
        if !newTokens.isEmpty || wholeMatrices {
            adapter = try adapter.addingTokens(newTokens, wholeMatrices: wholeMatrices, weights: loaded.weights)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-serve-token-adapter-\(getpid())/\(name)").path
        try PEFTAdapter.write(adapter, baseModel: Self.tinyLlama, to: path)
        return try PEFTAdapter.read(path, model: loaded.config)
    }

    @Test func adapterAddingTokensIsRefusedByName() throws {
        let loaded = try ModelLoader.load(Self.tinyLlama)
        let plain = try adapter(loaded, newTokens: [], wholeMatrices: false, name: "plain")
        let extended = try adapter(loaded, newTokens: ["<tool>", "</tool>"], wholeMatrices: false, name: "tools")
        #expect(extended.tokens?.newTokens == ["<tool>", "</tool>"])
        #expect(throws: Never.self) { try serve(loaded, ["plain": plain]).drain() }
        do {
            _ = try serve(loaded, ["plain": plain, "tools": extended])
            Issue.record("an adapter adding tokens was served")
        } catch let error as ServeError {
            #expect(error.message.contains("the adapter tools adds 2 tokens to the vocabulary (<tool>, </tool>)"), "\(error.message)")
            #expect(error.message.contains("lathe export --format merged"), "\(error.message)")
        }
    }

    @Test func adapterTrainingWholeEmbeddingsIsRefused() throws {
        let loaded = try ModelLoader.load(Self.tinyLlama)
        let whole = try adapter(loaded, newTokens: [], wholeMatrices: true, name: "whole")
        #expect(throws: ServeError.self) { _ = try serve(loaded, ["whole": whole]) }
        do { _ = try serve(loaded, ["whole": whole]) } catch let error as ServeError {
            #expect(error.message.contains("the adapter whole trains the whole embedding and LM-head matrices"), "\(error.message)")
        }
    }
}
