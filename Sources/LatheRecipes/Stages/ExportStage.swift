import Foundation
import LatheModels

/// The recipe's export stage: the trained adapter as the formats serving stacks load — `peft/` (transformers,
/// vLLM), `merged/` (an HF directory with the adapter folded in) and `merged.gguf` (llama.cpp) when the base is
/// a GGUF file.
public struct ExportStage: StageExecutor {
    public init() {}

    public func run(_ context: StageContext) throws -> StageReport {
        let recipe = context.loaded.recipe
        guard let trained = context.upstream[.train] else {
            throw RecipeError.invalid(file: context.loaded.file, line: 0, key: "export", message: "the export stage needs the train stage")
        }
        let adapterDirectory = (trained as NSString).appendingPathComponent("adapter")
        let out = context.outputDirectory as NSString
        var counts: [String: Int] = [:]
        let formats = Set(recipe.export.formats.map(\.rawValue))
        if formats.contains("gguf-lora") {
            throw RecipeError.invalid(file: context.loaded.file, line: 0, key: "export.formats",
                                      message: "gguf-lora is not implemented yet; export peft (llama.cpp's convert_lora_to_gguf.py converts it) or gguf")
        }
        if formats.contains("peft") {
            try FileManager.default.copyItem(atPath: adapterDirectory, toPath: out.appendingPathComponent("peft"))
            counts["peft"] = 1
        }
        let wantsMerged = formats.contains("merged"), wantsGGUF = formats.contains("gguf")
        guard wantsMerged || wantsGGUF else { return StageReport(counts: counts) }
        let base = try ModelLoader.load(context.loaded.baseModelPath)
        let adapter = try PEFTAdapter.read(adapterDirectory, model: base.config)
        let merged = base.weights.merged(with: adapter)
        if wantsMerged {
            try MergedExport.writeHF(merged, basePath: context.loaded.baseModelPath, to: out.appendingPathComponent("merged"),
                                     bf16: recipe.export.dtype.rawValue == "bf16")
            counts["merged"] = 1
        }
        if base.format == .gguf && (wantsGGUF || wantsMerged) {
            try MergedExport.writeGGUF(merged, baseGGUF: context.loaded.baseModelPath, to: out.appendingPathComponent("merged.gguf"),
                                       f16: recipe.export.dtype.rawValue != "f32")
            counts["merged_gguf"] = 1
        }
        return StageReport(counts: counts)
    }
}
