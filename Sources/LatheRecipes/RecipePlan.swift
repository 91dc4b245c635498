import LatheModels

extension TrainingPlan {
    /// The plan of a recipe's train stage: its base and `train.base_format`, LoRA shape, micro-batch,
    /// `tokenize.max_length`, accumulation, `train.max_steps` (0 when the steps depend on the data) and
    /// `train.recompute`.
    public static func forRecipe(_ loaded: LoadedRecipe, gflops: Double) throws -> TrainingPlan {
        let train = loaded.recipe.train
        return try forModel(loaded.baseModelPath, format: train.baseFormat, lora: train.lora, batch: train.microBatchSize,
                            length: loaded.recipe.tokenize.maxLength, accumulation: train.gradientAccumulation,
                            steps: train.maxSteps ?? 0, recompute: train.recompute, gflops: gflops)
    }
}
