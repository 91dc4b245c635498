import Testing
import LatheData
@testable import LatheRecipes

/// The recipe's clean stage and `lathe clean` start from one set of defaults (`CleaningConfig(kind:)`).
@Test func recipeCleanStageStartsFromTheCleanCommandDefaults() {
    let stage = CleanStage.cleaningConfig(Recipe())
    let command = CleaningConfig()
    #expect(stage.kind == nil)
    #expect(stage.documentFilters == command.documentFilters && stage.instructionFilters == command.instructionFilters)
    #expect(stage.minHash == command.minHash && stage.minHash?.jaccardThreshold == 0.8)
    #expect(stage.exactDedup == command.exactDedup)

    var recipe = Recipe()
    recipe.clean.kind = .web
    recipe.clean.filters.minChars = 16
    recipe.clean.dedup.threshold = 0.9
    let forced = CleanStage.cleaningConfig(recipe)
    #expect(forced.kind == .web)
    #expect(forced.documentFilters.length?.minChars == 16 && forced.instructionFilters.length?.minChars == 16)
    #expect(forced.documentFilters.length?.maxChars == 1_000_000, "unset keys keep each kind's default")
    #expect(forced.minHash?.jaccardThreshold == 0.9)
}
