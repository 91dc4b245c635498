import Foundation
import LatheRecipes
import Testing

/// Run files handed over with a run directory (lineage.json) are untrusted input: they are read by LatheFormats'
/// strict `JSONParser` (they used to go through Foundation's `JSONDecoder`, which kept one of two duplicate keys).
@Suite struct RunFileJSONTests {
    @Test func lineageWithADuplicateKeyIsRefusedNamingKeyAndOffset() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-lineage-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lineage.json").path
        try #"{"version": 1, "entries": [], "version": 2}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try Lineage.read(path)
        } throws: { error in
            guard case RecipeError.run(let file, let message) = error else { return false }
            return file == path && message.contains("duplicate key \"version\"") && message.contains("(byte 30)")
        }
    }
}
