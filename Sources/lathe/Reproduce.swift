import ArgumentParser
import Foundation
import LatheRecipes

/// `lathe reproduce RUN_DIR`: re-runs the recipe recorded in a run's lineage, with the recorded thread count, in a
/// fresh run directory, and compares the two adapters bit for bit.
struct Reproduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-run the recipe recorded in RUN_DIR/lineage.json in a fresh directory and compare the adapters bit for bit."
    )

    @Argument(help: "A finished run directory, e.g. Checkpoints/quickstart.") var runDirectory: String
    @Flag(help: "Print events as JSON lines.") var json = false

    func run() throws {
        do {
            let lineage = try Lineage.read((runDirectory as NSString).appendingPathComponent("lineage.json"))
            let header = lineage.header
            let run = URL(fileURLWithPath: runDirectory).standardizedFileURL
            // Format 2 records the run directory relative to the project root; format 1 runs sit in Checkpoints/.
            let recordedRoot = header.projectRoot(of: run.path)
            guard recordedRoot != nil || run.deletingLastPathComponent().lastPathComponent == "Checkpoints" else {
                throw ValidationError("\(runDirectory) is not inside a project's Checkpoints/ folder")
            }
            let root = recordedRoot ?? run.deletingLastPathComponent().deletingLastPathComponent().path
            let recipeFile = recordedRoot == nil || header.recipeFile.hasPrefix("/") ? header.recipeFile : root + "/" + header.recipeFile
            let fresh = "Checkpoints/\(run.lastPathComponent)-reproduced-\(Int(Date().timeIntervalSince1970))"
            let loaded = try RecipeLoader.load(
                yaml: header.recipe, file: recipeFile,
                recipeDirectory: (recipeFile as NSString).deletingLastPathComponent, projectRoot: root,
                options: RecipeOptions(overrides: ["output_dir=\(fresh)", "train.threads=\(header.environment.threads)"]))
            let outputs = try runRecipe(loaded, log: EventLog(json: json))
            guard let trained = outputs[.train] else { throw ValidationError("the recorded recipe has no train stage to compare") }
            let original = try adapterFile(in: run.path)
            let reproduced = (trained as NSString).appendingPathComponent("adapter/adapter_model.safetensors")
            let same = FileManager.default.contentsEqual(atPath: original, andPath: reproduced)
            print(same ? "identical  \(reproduced) equals \(original) bit for bit"
                       : "DIFFERENT  \(reproduced) differs from \(original)")
            if !same { throw ExitCode.failure }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw failWith(error)
        }
    }

    /// The newest train stage's adapter weights in a run directory.
    private func adapterFile(in run: String) throws -> String {
        let stages = (run as NSString).appendingPathComponent("stages")
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: stages))?.filter { $0.hasPrefix("train-") } ?? []
        let newest = candidates.max { a, b in
            let da = (try? FileManager.default.attributesOfItem(atPath: "\(stages)/\(a)")[.modificationDate] as? Date) ?? .distantPast
            let db = (try? FileManager.default.attributesOfItem(atPath: "\(stages)/\(b)")[.modificationDate] as? Date) ?? .distantPast
            return da < db
        }
        guard let newest else { throw ValidationError("\(run) has no finished train stage") }
        return "\(stages)/\(newest)/adapter/adapter_model.safetensors"
    }
}
