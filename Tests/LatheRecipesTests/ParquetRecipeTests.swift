import Foundation
import Testing
import LatheData
@testable import LatheRecipes

/// A recipe whose data folder holds a Parquet export cleans it as the clean command does.
@Test func recipeDataFolderIncludesParquetFilesAndCleansThem() throws {
    let project = try TestProject()
    defer { project.remove() }
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LatheDataTests/Fixtures/parquet/chat_dict_snappy_v1.parquet")
    try FileManager.default.copyItem(atPath: fixture.path, toPath: project.root + "/Datasets/tiny/export.parquet")
    let recipe = TestProject.recipe().replacingOccurrences(of: "inputs: [../Datasets/tiny/train.jsonl]",
                                                           with: "inputs: [../Datasets/tiny]")
    let loaded = try project.load(recipe)
    #expect(loaded.dataFiles.map { ($0 as NSString).lastPathComponent } == ["export.parquet", "train.jsonl"])

    let out = project.root + "/clean"
    let report = try CleaningPipeline(config: CleanStage.cleaningConfig(loaded.recipe))
        .run(inputs: loaded.dataFiles, outputDirectory: out)
    #expect(report.inputs.map(\.records) == [41, 1])
    let viaCommand = try CleaningPipeline(config: CleaningConfig()).run(inputs: loaded.dataFiles, outputDirectory: out + "-cli")
    #expect(report.recordsOut == viaCommand.recordsOut)
    #expect(report.recordsOut > 1)
}
