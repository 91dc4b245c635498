import ArgumentParser
import Foundation
import LatheFormats
import LatheModels
import LatheRecipes

/// `lathe export SOURCE --format … --out DIR`: a run's adapter, or any PEFT adapter, as the files serving stacks load.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a run's adapter (or a PEFT adapter) as PEFT, a merged HF model, a merged GGUF or a GGUF LoRA.",
        discussion: "SOURCE is a run directory (its newest trained adapter, from lineage.json) or a PEFT adapter "
            + "directory. Each format is written into DIR: peft/, merged/, merged.gguf, adapter.gguf. What a target "
            + "would refuse or do differently (vLLM's rank limit, a base recorded by path) is printed as a warning first."
    )

    @Argument(help: "A run directory (with lineage.json) or a PEFT adapter directory.") var source: String
    @Option(name: .customLong("format"), help: "peft, merged, gguf or gguf-lora (repeatable).") var formats: [String]
    @Option(help: "Directory to write into (created if needed).") var out: String
    @Option(help: "The base model (GGUF file or HF directory); default: the one the adapter records.") var base: String?
    @Option(help: "Storage type of merged weights: f32, f16, bf16, or q8_0 (merged GGUF only).") var dtype = "f32"
    @Option(name: .customLong("base-model-id"), help: "The base's Hugging Face id, recorded in the PEFT adapter for transformers and vLLM.")
    var baseModelID: String?

    func run() throws {
        let parsed = try formats.map { name in
            guard let format = ExportFormat(rawValue: name) else {
                throw ValidationError("--format \(name): expected one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return format
        }
        guard !parsed.isEmpty else { throw ValidationError("give at least one --format") }
        guard let storage = ExportDType(rawValue: dtype) else {
            throw ValidationError("--dtype \(dtype): expected one of \(ExportDType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let adapterDirectory = try Self.adapterDirectory(source)
        let basePath = try base ?? Self.recordedBase(adapterDirectory)
        let loaded = try ModelLoader.load(basePath)
        let exporter = AdapterExporter(base: loaded, adapter: try PEFTAdapter.read(adapterDirectory, model: loaded.config),
                                       baseModelID: baseModelID)
        try exporter.check(parsed, dtype: storage)
        for warning in exporter.warnings(for: parsed) {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        let written = try exporter.export(parsed, dtype: storage, to: out)
        for format in parsed { if let path = written[format] { print("\(format.rawValue)  \(path)") } }
    }

    /// The adapter directory `source` names: itself when it holds adapter_config.json, else the newest trained
    /// adapter recorded in its lineage.json.
    static func adapterDirectory(_ source: String) throws -> String {
        let manager = FileManager.default
        if manager.fileExists(atPath: (source as NSString).appendingPathComponent("adapter_config.json")) { return source }
        let lineagePath = LineageRecorder.path(in: source)
        guard manager.fileExists(atPath: lineagePath) else {
            throw ValidationError("\(source) is neither a PEFT adapter directory (adapter_config.json) nor a run directory (lineage.json)")
        }
        let lineage = try Lineage.read(lineagePath)
        guard let output = lineage.entries.last(where: { $0.stage == .train })?.outputs
            .first(where: { $0.path.hasSuffix("adapter/adapter_config.json") }) else {
            throw ValidationError("\(lineagePath) records no trained adapter; run the recipe's train stage first")
        }
        return (source as NSString).appendingPathComponent((output.path as NSString).deletingLastPathComponent)
    }

    /// `base_model_name_or_path` of the adapter, when it names a file or directory on this machine.
    static func recordedBase(_ adapterDirectory: String) throws -> String {
        let configPath = (adapterDirectory as NSString).appendingPathComponent("adapter_config.json")
        let recorded = try JSONNode.read(file: configPath, maxBytes: 16 << 20).optionalString("base_model_name_or_path")
        guard let recorded, FileManager.default.fileExists(atPath: recorded) else {
            throw ValidationError("\(configPath) records the base as \(recorded.map { "\"\($0)\"" } ?? "nothing"), "
                                  + "which is not on this machine; pass --base PATH (a GGUF file or HF directory)")
        }
        return recorded
    }
}
