import Foundation
import LatheFormats
import LatheJinja
import Yams

/// lm-eval's `output_type`: how documents become requests.
public enum OutputType: String, Sendable, CaseIterable {
    case multipleChoice = "multiple_choice"
    case loglikelihood
    case loglikelihoodRolling = "loglikelihood_rolling"
    case generateUntil = "generate_until"
}

/// One `doc_to_text` / `doc_to_target` / `doc_to_choice` setting. lm-eval accepts a Jinja template, a bare field
/// name of the document, an integer (a target index) or, for choices, a list literal.
public enum DocumentField: Sendable, Equatable {
    case template(String)
    case index(Int)
    case list([String])
}

/// One `metric_list` entry with the options lm-eval passes to the metric.
public struct MetricSpec: Sendable, Equatable {
    public var name: String
    public var ignoreCase = false
    public var ignorePunctuation = false
    public var regexesToIgnore: [String] = []
}

/// One filter step of a `filter_list` pipeline, named as lm-eval's filter registry names it.
public enum FilterStep: Sendable, Equatable {
    /// `regex`: `re.findall(regex_pattern, text)[group_select]`, or `fallback` when nothing matches.
    case regex(pattern: String, groupSelect: Int, fallback: String)
    /// `take_first`: the first response of the request (the value becomes one text).
    case takeFirst
    /// `take_first_k`: the first k responses.
    case takeFirstK(Int)
    /// `remove_whitespace`: Python `strip()` of each response.
    case removeWhitespace
    /// `lowercase` / `uppercase`: Python `lower()` / `upper()` of each response.
    case lowercase, uppercase
    /// `majority_vote`: the most frequent response (the first seen among ties), as a one-item list.
    case majorityVote
}

/// lm-eval's `fewshot_config` (`config/task.py` `FewshotConfig`): where few-shot examples come from and how they are
/// written when that differs from the evaluated document.
public struct FewshotConfig: Sendable {
    public var sampler: FewshotSampler = .default
    /// `fewshot_config.split`; it replaces the task's `fewshot_split` when set.
    public var split: String?
    /// `fewshot_config.samples`: the examples themselves, used when no few-shot split is set.
    public var samples: [TemplateValue]?
    /// Overrides of the task's `doc_to_*` for the examples; nil keeps the task's.
    public var docToText: DocumentField?
    public var docToTarget: DocumentField?
    public var docToChoice: DocumentField?
    /// Overrides of the task's delimiters for the examples; nil keeps the task's.
    public var targetDelimiter: String?
    public var fewshotDelimiter: String?

    public init() {}
}

/// A named `filter_list` entry; its name is the part after the comma in result keys (`exact_match,strict-match`).
public struct FilterSpec: Sendable, Equatable {
    public var name: String
    public var steps: [FilterStep]
}

/// The subset of lm-eval 0.4 task YAML that describes a task on local JSON/CSV data.
///
/// Paths in `dataset_kwargs.data_files` are resolved relative to the YAML file here; lm-eval resolves them relative
/// to its working directory, so run lm-eval from the YAML's folder to use the same file in both.
public struct TaskConfig: Sendable {
    public var name: String
    /// The YAML file this task came from.
    public var file: String
    public var datasetPath: String
    /// Split name → data file path, already resolved against the YAML's folder.
    public var dataFiles: [String: String]
    public var testSplit: String?
    public var validationSplit: String?
    /// `training_split`: where few-shot examples come from when `fewshot_split` is not set.
    public var trainingSplit: String?
    public var fewshotSplit: String?
    /// `fewshot_config`.
    public var fewshot = FewshotConfig()
    /// `fewshot_config.sampler` (default `default`).
    public var fewshotSampler: FewshotSampler { fewshot.sampler }
    /// lm-eval `repeats`: each generation request is answered this many times (filters such as majority_vote
    /// see them all).
    public var repeats = 1
    /// `metadata.version`, reported under `versions` in results.json.
    public var version: TemplateValue = .none
    public var outputType: OutputType
    public var docToText: DocumentField
    public var docToTarget: DocumentField
    public var docToChoice: DocumentField?
    public var targetDelimiter = " "
    public var fewshotDelimiter = "\n\n"
    /// Prepended to every context; a document field name or a Jinja template rendered on the evaluated document.
    public var description = ""
    /// `num_fewshot` as the YAML gives it; nil when absent (lm-eval's None: zero-shot unless `--num_fewshot`).
    public var numFewshot: Int?
    public var until: [String]? = nil
    public var maxGenToks = 256
    public var metrics: [MetricSpec]
    public var filters: [FilterSpec]
    /// The YAML's top-level keys and values in file order, for the `configs` entry of results.json.
    var yamlEntries: [(String, PythonJSON)] = []

    /// Keys Lathe reads; anything else is refused by name so a task never silently means something different.
    public static let supportedKeys: Set<String> = [
        "task", "tag", "dataset_path", "dataset_name", "dataset_kwargs", "test_split", "validation_split",
        "training_split", "fewshot_split", "output_type", "doc_to_text", "doc_to_target", "doc_to_choice",
        "target_delimiter", "fewshot_delimiter", "description", "num_fewshot", "fewshot_config", "generation_kwargs", "metric_list",
        "filter_list", "metadata", "should_decontaminate", "doc_to_decontamination_query", "repeats",
    ]

    /// The split evaluated: `test_split`, else `validation_split` (as lm-eval).
    public var evaluationSplit: String? { testSplit ?? validationSplit }

    /// Reads a task YAML file.
    public static func load(_ path: String) throws -> TaskConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.invalidTask(file: path, key: "-", message: "cannot read the file")
        }
        return try TaskConfig(yaml: String(decoding: data, as: UTF8.self), file: path)
    }

    /// Parses task YAML text; `file` names it in errors and anchors relative data paths.
    public init(yaml text: String, file: String) throws {
        let root: Any?
        do { root = try TaskYAML.load(text) } catch let refusal as TaskYAML.Refusal {
            throw EvaluationError.invalidTask(file: file, key: "-", message: refusal.message)
        } catch {
            throw EvaluationError.invalidTask(file: file, key: "-", message: "not valid YAML: \(error)")
        }
        guard let map = root as? [String: Any] else {
            throw EvaluationError.invalidTask(file: file, key: "-", message: "expected a mapping of task keys")
        }
        let unknown = map.keys.filter { !Self.supportedKeys.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw EvaluationError.invalidTask(file: file, key: unknown.joined(separator: ", "),
                                              message: "not supported by Lathe; remove the key(s) or evaluate this task with lm-eval")
        }
        let reader = KeyReader(map: map, file: file)
        self.file = file
        yamlEntries = TaskYAML.ordered(text) ?? []
        name = try reader.string("task") ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        datasetPath = try reader.string("dataset_path") ?? ""
        guard ["json", "csv"].contains(datasetPath) else {
            throw EvaluationError.invalidTask(file: file, key: "dataset_path",
                                              message: "'\(datasetPath)': only local data is supported; use json or csv")
        }
        if map["dataset_name"] != nil && !(map["dataset_name"] is NSNull) {
            throw EvaluationError.invalidTask(file: file, key: "dataset_name", message: "not used with local json/csv data; remove it")
        }
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        dataFiles = try reader.dataFiles().mapValues { path in
            path.hasPrefix("/") ? path : folder.appendingPathComponent(path).standardizedFileURL.path
        }
        testSplit = try reader.string("test_split")
        validationSplit = try reader.string("validation_split")
        trainingSplit = try reader.string("training_split")
        fewshotSplit = try reader.string("fewshot_split")
        let type = try reader.string("output_type") ?? "generate_until"
        guard let outputType = OutputType(rawValue: type) else {
            throw EvaluationError.invalidTask(file: file, key: "output_type",
                                              message: "'\(type)'; expected one of \(OutputType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.outputType = outputType
        docToText = try reader.field("doc_to_text") ?? .template("")
        docToTarget = try reader.field("doc_to_target") ?? .template("")
        docToChoice = try reader.field("doc_to_choice")
        if outputType == .multipleChoice && docToChoice == nil {
            throw EvaluationError.invalidTask(file: file, key: "doc_to_choice", message: "a multiple_choice task needs doc_to_choice")
        }
        targetDelimiter = try reader.string("target_delimiter") ?? " "
        fewshotDelimiter = try reader.string("fewshot_delimiter") ?? "\n\n"
        description = try reader.string("description") ?? ""
        numFewshot = try reader.int("num_fewshot")
        if let shots = numFewshot, shots < 0 {
            throw EvaluationError.invalidTask(file: file, key: "num_fewshot", message: "\(shots): must be 0 or more")
        }
        fewshot = try reader.fewshotConfig()
        if let split = fewshot.split { fewshotSplit = split }
        repeats = try reader.int("repeats") ?? 1
        if repeats < 1 { throw EvaluationError.invalidTask(file: file, key: "repeats", message: "\(repeats): must be 1 or more") }
        if repeats > 1 && outputType != .generateUntil {
            throw EvaluationError.invalidTask(file: file, key: "repeats", message: "repeats apply to generate_until tasks only in Lathe")
        }
        if let metadata = map["metadata"] as? [String: Any], let v = metadata["version"] { version = TemplateValue(yaml: v) }
        (until, maxGenToks) = try reader.generationKwargs()
        metrics = try reader.metrics() ?? Self.defaultMetrics(outputType)
        filters = try reader.filters()
        _ = try effectiveFewshot(override: nil)
    }

    /// lm-eval's default metrics per output type when `metric_list` is absent.
    static func defaultMetrics(_ type: OutputType) -> [MetricSpec] {
        switch type {
        case .multipleChoice: return [MetricSpec(name: "acc"), MetricSpec(name: "acc_norm")]
        case .loglikelihood: return [MetricSpec(name: "perplexity"), MetricSpec(name: "acc")]
        case .loglikelihoodRolling:
            return ["word_perplexity", "byte_perplexity", "bits_per_byte"].map { MetricSpec(name: $0) }
        case .generateUntil: return [MetricSpec(name: "exact_match")]
        }
    }
}
