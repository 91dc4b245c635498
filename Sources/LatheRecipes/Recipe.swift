import LatheData

/// A string-valued choice in a recipe (`format: alpaca`); decoding lists the allowed values on a mismatch.
public protocol RecipeEnum: CaseIterable, RawRepresentable, Codable, Sendable, Equatable where RawValue == String {}

/// A recipe: the single source of truth for a run. Every field has a documented default except `name`,
/// `base_model` and `data.inputs`. Keys are snake_case in YAML; `--set key.path=value` overrides them.
///
/// Nothing in a recipe is executed: it names files and numbers, nothing else.
public struct Recipe: Codable, Sendable, Equatable {
    /// Run name; also the default run directory `Checkpoints/<name>`. Letters, digits, `.`, `_`, `-`.
    public var name = ""
    /// Seed of every random stream (shuffle, LoRA init, dropout, eval sampling). Default 0.
    public var seed = 0
    /// Base model: a `.gguf` file or a Hugging Face directory, relative to the recipe file.
    public var baseModel = ""
    /// Run directory, relative to the project root; must stay inside `Checkpoints/`. Default `Checkpoints/<name>`.
    public var outputDir: String?
    /// Training data.
    public var data = DataConfig()
    /// Cleaning stage.
    public var clean = CleanConfig()
    /// Tokenisation stage.
    public var tokenize = TokenizeConfig()
    /// Training stage.
    public var train = TrainConfig()
    /// Evaluation stage.
    public var evaluate = EvaluateConfig()
    /// Export stage.
    public var export = ExportConfig()

    /// A recipe with every default filled in and no name, model or data.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, seed, baseModel = "base_model", outputDir = "output_dir"
        case data, clean, tokenize, train, evaluate, export
    }
}

/// Record layout of the input files.
public enum DataFormat: String, RecipeEnum {
    /// Detect per file from the first record's keys.
    case auto
    /// `{"text": ...}`: train on all tokens.
    case text
    /// `{"prompt": ..., "completion": ...}`.
    case promptCompletion = "prompt_completion"
    /// `{"instruction": ..., "input": ..., "output": ...}`.
    case alpaca
    /// `{"messages": [{"role": ..., "content": ...}]}` rendered with the model's chat template.
    case chat
}

/// `data:` section.
public struct DataConfig: Codable, Sendable, Equatable {
    /// JSONL or CSV files (or directories of them), relative to the recipe file. Required.
    public var inputs: [String] = []
    /// Record layout. Default `auto`.
    public var format = DataFormat.auto
    /// Field renames from the format's names to the file's, e.g. `{prompt: question, completion: answer}`. Default none.
    public var fields: [String: String] = [:]

    /// Defaults.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case inputs, format, fields }
}

/// `clean.normalize:` is the cleaner's Unicode form, the values of `lathe clean --unicode`.
extension TextNormalizer.Form: RecipeEnum {}

/// `clean.pii:` names LatheData's `PIIType`s, as `lathe clean --pii` does.
extension PIIType: RecipeEnum {}

/// `clean.kind:` is LatheData's `CleanKind`, the values of `lathe clean --kind`.
extension CleanKind: RecipeEnum {}

/// `clean.dedup:` duplicate removal.
public struct DedupConfig: Codable, Sendable, Equatable {
    /// Drop records whose normalised text is byte-identical to an earlier one. Default true.
    public var exact = true
    /// Drop near-duplicates by MinHash (5-gram shingles, 14 bands × 8 rows). Default true, as `lathe clean`.
    public var minhash = true
    /// Exact Jaccard similarity a MinHash candidate pair must reach to count as near duplicates, in (0, 1].
    /// Default 0.8, as `lathe clean` (`MinHash.Config.jaccardThreshold`).
    public var threshold = 0.8

    /// Defaults.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case exact, minhash, threshold }
}

/// `clean.filters:` record-level quality filters.
public struct FilterConfig: Codable, Sendable, Equatable {
    /// Drop records with fewer characters. Default: the record kind's (instruction 1, web 200).
    public var minChars: Int?
    /// Drop records with more characters. Default: the record kind's (instruction 100000, web 1000000).
    public var maxChars: Int?
    /// Drop records whose fraction of non-letter, non-digit, non-space characters is above this. Default 0.5.
    public var maxSymbolFraction = 0.5
    /// Drop records in which this fraction of lines or more are repeats. Default 0.3.
    public var maxRepeatedLineFraction = 0.3

    /// Defaults.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case minChars = "min_chars", maxChars = "max_chars"
        case maxSymbolFraction = "max_symbol_fraction", maxRepeatedLineFraction = "max_repeated_line_fraction"
    }
}

/// `clean:` section.
public struct CleanConfig: Codable, Sendable, Equatable {
    /// Run the stage; when false records pass through unchanged. Default true.
    public var enabled = true
    /// Filter rules. Default `auto`: each record by its format, as `lathe clean`.
    public var kind = CleanKind.auto
    /// Unicode normalisation form of every text field, as `lathe clean --unicode`: `nfc`, `nfkc`, or `none` (code
    /// points kept as they are; whitespace is collapsed either way). Default `nfc`.
    public var normalize = TextNormalizer.Form.nfc
    /// Duplicate removal.
    public var dedup = DedupConfig()
    /// Personal data to redact. Default email, phone, ip_address, credit_card, iban; `ssn` and `secret` are
    /// opt-in (the secret scanner's entropy rule can also catch hashes and ids in code).
    public var pii: [PIIType] = [.email, .phone, .ipAddress, .creditCard, .iban]
    /// Quality filters.
    public var filters = FilterConfig()
    /// Fraction of cleaned records held out as a validation split, in [0, 0.5]. Default 0.05.
    public var evalFraction = 0.05
    /// Memory for deduplication keys before they spill to disk, as `lathe clean --memory-budget`: "512M", "2G"
    /// (a bare number is MiB). Default: a quarter of the available memory. Not part of the stage's cache key.
    public var memoryBudget: String?

    /// Defaults.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, kind, normalize, dedup, pii, filters, evalFraction = "eval_fraction", memoryBudget = "memory_budget"
    }
}

/// Which tokens the loss is computed on.
public enum TrainOn: String, RecipeEnum {
    /// Only completion / assistant tokens (prompt tokens are masked).
    case completions
    /// Every token.
    case all
}

/// `tokenize:` section.
public struct TokenizeConfig: Codable, Sendable, Equatable {
    /// Tokens per training sequence (T); longer records are truncated. Default 512.
    public var maxLength = 512
    /// Pack several records into one sequence. Default false.
    public var packing = false
    /// Tokens that carry loss. Default `completions`.
    public var trainOn = TrainOn.completions

    /// Defaults.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxLength = "max_length", packing, trainOn = "train_on"
    }
}
