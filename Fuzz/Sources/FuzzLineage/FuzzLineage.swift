// libFuzzer entry for `lineage.json`, the record an auditor receives and `lathe verify` reads: Lineage.read (bounded
// read, JSON parse, decoding), the chain's canonical JSON of the header and every entry, and where each recorded
// file is expected now. Any input must read or throw a RecipeError naming the file. The files it names are not
// hashed here: a path is the fuzzer's choice, and what verify does with a device, `/` or the project root is
// pinned by LineageTests.
import FuzzSupport
import LatheRecipes

/// Stores `data` as the lineage record of a run in the scratch project and reads it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = writeScratch("Checkpoints/run/lineage.json", UnsafeBufferPointer(start: data, count: size))
    guard let lineage = try? Lineage.read(path) else { return 0 }
    _ = try? lineage.tip()
    let run = "\(fuzzScratch)/Checkpoints/run"
    let root = lineage.header.projectRoot(of: run)
    let files = (lineage.header.baseModel.map { [$0] } ?? []) + lineage.entries.flatMap { $0.inputs + $0.outputs }
    for file in files { _ = file.expectedPath(runDirectory: run, projectRoot: root) }
    return 0
}
