// libFuzzer entry for recipe YAML through the recipe loader (YAML tree, defaults merge, RecipeDecoder, checks),
// without touching the files it names. Any input must give a recipe or a RecipeError naming file and line.
import FuzzSupport
import LatheRecipes

/// Loads `data` as the recipe file Recipes/fuzz.yaml of a project in the scratch directory.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let yaml = text(UnsafeBufferPointer(start: data, count: size))
    guard let loaded = try? RecipeLoader.load(yaml: yaml, file: "Recipes/fuzz.yaml", recipeDirectory: "\(fuzzScratch)/Recipes",
                                              projectRoot: fuzzScratch, options: RecipeOptions(checkFiles: false)) else { return 0 }
    _ = loaded.summary  // the line `lathe validate` prints (a huge LoRA alpha trapped there, found by review)
    _ = try? loaded.canonicalJSON()
    _ = try? loaded.yaml()
    return 0
}
