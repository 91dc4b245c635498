import Testing
import LatheRecipes

@Suite struct RecipeErrorTests {
    @Test func errorsNameFileLineAndKey() {
        let error = RecipeError.invalid(file: "r.yaml", line: 7, key: "train.lora.rank", message: "must be positive")
        #expect(error.description == "r.yaml:7: train.lora.rank: must be positive")
    }
}
