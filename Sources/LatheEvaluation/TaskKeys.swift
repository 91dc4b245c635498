import Foundation
import LatheJinja

/// Typed reads of task YAML values, each failing with the file and the key.
struct KeyReader {
    let map: [String: Any]
    let file: String
    /// Prepended to key names in errors (`fewshot_config.` for the keys of that mapping).
    var prefix = ""

    /// Metric names Lathe computes. `token_f1` and `rouge_l` are Lathe's own (lm-eval has no such built-ins).
    static let metricNames: Set<String> = [
        "acc", "acc_norm", "acc_bytes", "exact_match", "perplexity", "word_perplexity", "byte_perplexity",
        "bits_per_byte", "token_f1", "rouge_l",
    ]

    func fail(_ key: String, _ message: String) -> EvaluationError {
        .invalidTask(file: file, key: prefix + key, message: message)
    }

    func string(_ key: String, in m: [String: Any]? = nil) throws -> String? {
        guard let value = (m ?? map)[key], !(value is NSNull) else { return nil }
        if let s = value as? String { return s }
        if let i = value as? Int { return String(i) }
        throw fail(key, "expected a string")
    }

    func int(_ key: String, in m: [String: Any]? = nil) throws -> Int? {
        guard let value = (m ?? map)[key], !(value is NSNull) else { return nil }
        guard let i = value as? Int else { throw fail(key, "expected an integer") }
        return i
    }

    func bool(_ key: String, in m: [String: Any]) throws -> Bool? {
        guard let value = m[key], !(value is NSNull) else { return nil }
        guard let b = value as? Bool else { throw fail(key, "expected true or false") }
        return b
    }

    /// doc_to_* as a template/field name (string), an index (int) or a list literal.
    func field(_ key: String) throws -> DocumentField? {
        guard let value = map[key], !(value is NSNull) else { return nil }
        if let i = value as? Int { return .index(i) }
        if let s = value as? String { return .template(s) }
        if let list = value as? [Any] {
            return .list(try list.map {
                if let s = $0 as? String { return s }
                if let i = $0 as? Int { return String(i) }
                throw fail(key, "list items must be strings")
            })
        }
        throw fail(key, "expected a Jinja template, a field name, an integer or a list")
    }

    /// `dataset_kwargs: {data_files: {split: path}}` (a bare string path means split `train`, as in `datasets`).
    func dataFiles() throws -> [String: String] {
        guard let kwargs = map["dataset_kwargs"] as? [String: Any] else {
            throw fail("dataset_kwargs", "local data needs dataset_kwargs: {data_files: {test: file.jsonl}}")
        }
        if let extra = kwargs.keys.first(where: { $0 != "data_files" }) {
            throw fail("dataset_kwargs.\(extra)", "not supported; only data_files is")
        }
        if let path = kwargs["data_files"] as? String { return ["train": path] }
        guard let files = kwargs["data_files"] as? [String: Any] else {
            throw fail("dataset_kwargs.data_files", "expected a mapping of split name to file")
        }
        return try files.mapValues {
            if let s = $0 as? String { return s }
            if let list = $0 as? [String], list.count == 1 { return list[0] }
            throw fail("dataset_kwargs.data_files", "each split needs one file path")
        }
    }

    /// `fewshot_config` (lm-eval `FewshotConfig`): sampler, split, inline samples and the formatting overrides of the
    /// few-shot examples; `process_docs`, `gen_prefix` and `fewshot_indices` are refused by name.
    func fewshotConfig() throws -> FewshotConfig {
        var config = FewshotConfig()
        guard let value = map["fewshot_config"], !(value is NSNull) else { return config }
        guard let entries = value as? [String: Any] else { throw fail("fewshot_config", "expected a mapping such as {sampler: first_n}") }
        let allowed: Set<String> = ["sampler", "split", "samples", "doc_to_text", "doc_to_target", "doc_to_choice",
                                    "target_delimiter", "fewshot_delimiter"]
        if let extra = entries.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw fail("fewshot_config.\(extra)", "not supported; Lathe reads \(allowed.sorted().joined(separator: ", "))")
        }
        let name = try string("sampler", in: entries) ?? "default"
        guard let sampler = FewshotSampler(rawValue: name) else {
            throw fail("fewshot_config.sampler", "'\(name)' is not supported; use one of \(FewshotSampler.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        config.sampler = sampler
        config.split = try string("split", in: entries)
        if let samples = entries["samples"], !(samples is NSNull) {
            guard let list = samples as? [Any] else { throw fail("fewshot_config.samples", "expected a list of documents") }
            config.samples = try list.enumerated().map { index, item in
                guard let doc = item as? [String: Any] else {
                    throw fail("fewshot_config.samples", "item \(index + 1) is not a mapping of document fields")
                }
                return TemplateValue(yaml: doc)
            }
        }
        let fields = KeyReader(map: entries, file: file, prefix: "fewshot_config.")
        config.docToText = try fields.field("doc_to_text")
        config.docToTarget = try fields.field("doc_to_target")
        config.docToChoice = try fields.field("doc_to_choice")
        config.targetDelimiter = try string("target_delimiter", in: entries)
        config.fewshotDelimiter = try string("fewshot_delimiter", in: entries)
        return config
    }

    func generationKwargs() throws -> (until: [String]?, maxGenToks: Int) {
        guard let value = map["generation_kwargs"], !(value is NSNull) else { return (nil, 256) }
        guard let kwargs = value as? [String: Any] else { throw fail("generation_kwargs", "expected a mapping") }
        let allowed: Set<String> = ["until", "max_gen_toks", "do_sample", "temperature"]
        if let extra = kwargs.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw fail("generation_kwargs.\(extra)", "not supported; Lathe generates greedily with until and max_gen_toks")
        }
        if try bool("do_sample", in: kwargs) == true {
            throw fail("generation_kwargs.do_sample", "only greedy decoding (do_sample: false) is supported")
        }
        var until: [String]?
        if let s = kwargs["until"] as? String { until = [s] } else if let value = kwargs["until"] {
            guard let list = value as? [String] else { throw fail("generation_kwargs.until", "expected a list of strings") }
            until = list
        }
        return (until, try int("max_gen_toks", in: kwargs) ?? 256)
    }

    func metrics() throws -> [MetricSpec]? {
        guard let value = map["metric_list"], !(value is NSNull) else { return nil }
        guard let list = value as? [Any] else { throw fail("metric_list", "expected a list") }
        return try list.map { item in
            if let name = item as? String { return try checked(MetricSpec(name: name)) }
            guard let entry = item as? [String: Any], let name = entry["metric"] as? String else {
                throw fail("metric_list", "each entry needs metric: NAME")
            }
            let allowed: Set<String> = ["metric", "aggregation", "higher_is_better", "ignore_case",
                                        "ignore_punctuation", "regexes_to_ignore"]
            if let extra = entry.keys.sorted().first(where: { !allowed.contains($0) }) {
                throw fail("metric_list.\(extra)", "not supported for metric \(name)")
            }
            var spec = MetricSpec(name: name)
            spec.ignoreCase = try bool("ignore_case", in: entry) ?? false
            spec.ignorePunctuation = try bool("ignore_punctuation", in: entry) ?? false
            if let regexes = entry["regexes_to_ignore"] {
                guard let list = regexes as? [String] else { throw fail("metric_list.regexes_to_ignore", "expected a list of strings") }
                spec.regexesToIgnore = list
            }
            return try checked(spec)
        }
    }

    private func checked(_ spec: MetricSpec) throws -> MetricSpec {
        guard Self.metricNames.contains(spec.name) else {
            throw fail("metric_list", "metric '\(spec.name)' is not supported; use one of \(Self.metricNames.sorted().joined(separator: ", "))")
        }
        for pattern in spec.regexesToIgnore where (try? NSRegularExpression(pattern: pattern)) == nil {
            throw fail("metric_list.regexes_to_ignore", "'\(pattern)' is not a valid regular expression")
        }
        return spec
    }

    /// `filter_list`: named pipelines of lm-eval filters (`filters/` `regex`, `take_first`, `take_first_k`,
    /// `remove_whitespace`, `lowercase`, `uppercase`, `majority_vote`).
    func filters() throws -> [FilterSpec] {
        guard let value = map["filter_list"], !(value is NSNull) else { return [] }
        guard let list = value as? [[String: Any]] else { throw fail("filter_list", "expected a list of {name, filter}") }
        var names = Set<String>()
        return try list.map { entry in
            guard let name = entry["name"] as? String, let steps = entry["filter"] as? [[String: Any]] else {
                throw fail("filter_list", "each entry needs name and filter")
            }
            guard names.insert(name).inserted else { throw fail("filter_list", "two pipelines are named '\(name)'; names must differ") }
            return FilterSpec(name: name, steps: try steps.map(filterStep))
        }
    }

    private func filterStep(_ step: [String: Any]) throws -> FilterStep {
        let function = step["function"] as? String ?? ""
        let arguments: [String: Set<String>] = ["regex": ["regex_pattern", "group_select", "fallback"], "take_first_k": ["k"]]
        if let extra = step.keys.sorted().first(where: { $0 != "function" && !(arguments[function] ?? []).contains($0) }) {
            throw fail("filter_list.\(extra)", "not an argument of filter '\(function)'")
        }
        switch function {
        case "take_first": return .takeFirst
        case "remove_whitespace": return .removeWhitespace
        case "lowercase": return .lowercase
        case "uppercase": return .uppercase
        case "majority_vote": return .majorityVote
        case "take_first_k":
            guard let k = try int("k", in: step), k > 0 else { throw fail("filter_list.k", "take_first_k needs k: N (1 or more)") }
            return .takeFirstK(k)
        case "regex":
            let pattern = try string("regex_pattern", in: step) ?? #"#### (\-?[0-9\.\,]+)"#
            guard (try? NSRegularExpression(pattern: pattern)) != nil else {
                throw fail("filter_list.regex_pattern", "'\(pattern)' is not a valid regular expression")
            }
            return .regex(pattern: pattern, groupSelect: try int("group_select", in: step) ?? 0,
                          fallback: try string("fallback", in: step) ?? "[invalid]")
        default:
            throw fail("filter_list.function", "'\(function)' is not supported; use regex, take_first, take_first_k, "
                       + "remove_whitespace, lowercase, uppercase or majority_vote")
        }
    }
}
