import LatheData
import LatheTokenizers

/// Range and consistency checks after decoding; each failure names the key and the line it came from.
enum RecipeChecks {
    static func validate(_ r: Recipe, locate: (String) -> (String, Int)) throws {
        func require(_ ok: Bool, _ key: String, _ message: String) throws {
            guard !ok else { return }
            let (file, line) = locate(key)
            throw RecipeError.invalid(file: file, line: line, key: key, message: message)
        }
        let nameCharacters = r.name.unicodeScalars.allSatisfy {
            ("a" ... "z").contains($0) || ("A" ... "Z").contains($0) || ("0" ... "9").contains($0) || "._-".unicodeScalars.contains($0)
        }
        try require(!r.name.isEmpty, "name", "required; add a line such as `name: my-run`")
        try require(nameCharacters && !r.name.hasPrefix("."), "name",
                    "use letters, digits, '.', '_' and '-' only (it names the run directory)")
        try require(!r.baseModel.isEmpty, "base_model", "required: the .gguf file or Hugging Face directory to fine-tune")
        try require(!r.data.inputs.isEmpty, "data.inputs", "list at least one JSONL or CSV file")
        let knownFields: [DataFormat: [String]] = [
            .text: ["text"], .promptCompletion: ["prompt", "completion"], .alpaca: ["instruction", "input", "output"],
            .chat: ["messages", "role", "content"],
        ]
        let allowed = r.data.format == .auto ? Array(Set(knownFields.values.joined())).sorted() : knownFields[r.data.format] ?? []
        for field in r.data.fields.keys.sorted() {
            try require(allowed.contains(field), "data.fields",
                        "\"\(field)\" is not a field of format \(r.data.format.rawValue); \(suggestion(for: field, among: allowed))")
        }
        let c = r.clean
        try require(c.dedup.threshold > 0 && c.dedup.threshold <= 1, "clean.dedup.threshold", "must be in (0, 1]")
        try require((c.filters.minChars ?? 0) >= 0, "clean.filters.min_chars", "must be ≥ 0")
        try require((c.filters.maxChars ?? .max) >= (c.filters.minChars ?? 0), "clean.filters.max_chars", "must be ≥ min_chars")
        try require((0 ... 1).contains(c.filters.maxSymbolFraction), "clean.filters.max_symbol_fraction", "must be in [0, 1]")
        try require((0 ... 1).contains(c.filters.maxRepeatedLineFraction), "clean.filters.max_repeated_line_fraction", "must be in [0, 1]")
        try require((0 ... 0.5).contains(c.evalFraction), "clean.eval_fraction", "must be in [0, 0.5]")
        if let budget = c.memoryBudget {
            var problem: String?
            do { _ = try MemoryBudget.parse(budget) } catch {
                if case .invalidConfig(_, let reason) = error { problem = reason } else { problem = error.description }
            }
            try require(problem == nil, "clean.memory_budget", problem ?? "")
        }
        try require(r.tokenize.maxLength >= 8 && r.tokenize.maxLength <= 1 << 20, "tokenize.max_length", "must be in [8, 1048576]")
        let t = r.train
        try require(t.lora.rank >= 1 && t.lora.rank <= 4096, "train.lora.rank", "must be in [1, 4096]")
        try require(t.lora.alpha > 0, "train.lora.alpha", "must be > 0")
        try require(t.lora.dropout >= 0 && t.lora.dropout < 1, "train.lora.dropout", "must be in [0, 1)")
        try require(!t.lora.targets.isEmpty, "train.lora.targets", "list at least one projection, e.g. [q_proj, v_proj]")
        try require(Set(t.lora.targets).count == t.lora.targets.count, "train.lora.targets", "a projection is listed twice")
        if let layers = t.lora.layers {
            try require(!layers.isEmpty && layers.allSatisfy { $0 >= 0 }, "train.lora.layers", "list layer indices ≥ 0, or leave it out for all layers")
        }
        try require(t.optimizer.lr > 0 && t.optimizer.lr < 1, "train.optimizer.lr", "must be in (0, 1)")
        try require(t.optimizer.weightDecay >= 0, "train.optimizer.weight_decay", "must be ≥ 0")
        try require(t.optimizer.betas.count == 2 && t.optimizer.betas.allSatisfy { $0 >= 0 && $0 < 1 },
                    "train.optimizer.betas", "must be two numbers in [0, 1), e.g. [0.9, 0.999]")
        try require(t.optimizer.eps > 0, "train.optimizer.eps", "must be > 0")
        try require(t.warmupSteps >= 0, "train.warmup_steps", "must be ≥ 0")
        try require(t.microBatchSize >= 1, "train.micro_batch_size", "must be ≥ 1")
        try require(t.gradientAccumulation >= 1, "train.gradient_accumulation", "must be ≥ 1")
        try require(t.epochs == nil || t.maxSteps == nil, "train.max_steps", "set either epochs or max_steps, not both")
        try require((t.epochs ?? 1) >= 1, "train.epochs", "must be ≥ 1")
        try require((t.maxSteps ?? 1) >= 1, "train.max_steps", "must be ≥ 1")
        try require(t.maxGradNorm >= 0, "train.max_grad_norm", "must be ≥ 0 (0 turns clipping off)")
        try require(t.saveEvery >= 0, "train.save_every", "must be ≥ 0")
        try require(t.keepLast >= 1, "train.keep_last", "must be ≥ 1")
        try require(t.evalEvery >= 0, "train.eval_every", "must be ≥ 0")
        var tokenProblem: String?
        do { try Tokenizer.checkNewTokens(t.newTokens) } catch let error as NewTokenError { tokenProblem = error.description }
        try require(tokenProblem == nil, "train.new_tokens", tokenProblem ?? "")
        try require(t.threads >= 0 && t.threads <= 1024, "train.threads", "must be in [0, 1024] (0: one per core)")
        try require((r.evaluate.limit ?? 1) >= 1, "evaluate.limit", "must be ≥ 1, or leave it out for all samples")
        try require((r.evaluate.numFewshot ?? 0) >= 0, "evaluate.num_fewshot", "must be ≥ 0, or leave it out for each task's own value")
        try require(r.evaluate.fewshotAsMultiturn != true || r.evaluate.applyChatTemplate, "evaluate.fewshot_as_multiturn",
                    "needs evaluate.apply_chat_template: true (as lm-eval)")
        let e = r.evaluate
        try require(e.every >= 0, "evaluate.every", "must be ≥ 0 (0: evaluate only after training)")
        try require(e.every == 0 || !e.tasks.isEmpty, "evaluate.every", "needs evaluate.tasks")
        try require(e.select == nil || e.every > 0, "evaluate.select", "needs evaluate.every: N (the steps between task evaluations)")
        try require(e.select.map { s in
            let parts = s.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && !parts[1].hasPrefix(",")
        } ?? true, "evaluate.select", "write TASK/METRIC or TASK/METRIC,FILTER, e.g. lathe_mc/acc or gsm/exact_match,strict")
        try require(e.better == nil || e.select != nil, "evaluate.better", "needs evaluate.select")
        try require(e.patience == nil || e.select != nil, "evaluate.patience", "needs evaluate.select")
        try require((e.patience ?? 1) >= 1, "evaluate.patience", "must be ≥ 1")
        try require(Set(r.export.formats).count == r.export.formats.count, "export.formats", "a format is listed twice")
    }
}
