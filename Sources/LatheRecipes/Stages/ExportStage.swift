import Foundation
import LatheModels

/// The recipe's export stage: the trained adapter as the formats serving stacks load — `peft/` (transformers,
/// vLLM), `merged/` (an HF directory with the adapter folded in), `merged.gguf` (llama.cpp, Ollama) and
/// `adapter.gguf` (llama.cpp `--lora`). What a target will refuse or do differently is reported first.
public struct ExportStage: StageExecutor {
    let warn: (ExportWarning) -> Void

    public init(warn: @escaping (ExportWarning) -> Void = { _ in }) { self.warn = warn }

    public func run(_ context: StageContext) throws -> StageReport {
        let recipe = context.loaded.recipe
        guard let trained = context.upstream[.train] else {
            throw RecipeError.invalid(file: context.loaded.file, line: 0, key: "export", message: "the export stage needs the train stage")
        }
        let adapterDirectory = (trained as NSString).appendingPathComponent("adapter")
        // The base as training held it, so warnings name the weights the adapter was trained over.
        let base = try ModelLoader.load(context.loaded.baseModelPath, format: recipe.train.baseFormat)
        let adapter = try PEFTAdapter.read(adapterDirectory, model: base.config)
        let exporter = AdapterExporter(base: base, adapter: adapter, baseModelID: recipe.export.baseModelID)
        let formats = recipe.export.formats
        do { try exporter.check(formats, dtype: recipe.export.dtype) } catch let error as ModelError {
            throw RecipeError.invalid(file: context.loaded.file, line: 0, key: "export", message: error.description)
        }
        let warnings = exporter.warnings(for: formats)
        warnings.forEach(warn)
        let written = try exporter.export(formats, dtype: recipe.export.dtype, to: context.outputDirectory)
        var counts = Dictionary(uniqueKeysWithValues: written.keys.map { ($0.rawValue, 1) })
        counts["warnings"] = warnings.count
        return StageReport(counts: counts)
    }
}
