import Foundation

/// Typed reads of task YAML values, each failing with the file and the key.
struct KeyReader {
    let map: [String: Any]
    let file: String

    /// Metric names Lathe computes. `token_f1` and `rouge_l` are Lathe's own (lm-eval has no such built-ins).
    static let metricNames: Set<String> = [
        "acc", "acc_norm", "acc_bytes", "exact_match", "perplexity", "word_perplexity", "byte_perplexity",
        "bits_per_byte", "token_f1", "rouge_l",
    ]

    func fail(_ key: String, _ message: String) -> EvaluationError {
        .invalidTask(file: file, key: key, message: message)
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

    /// `fewshot_config: {sampler: default | first_n}`; other few-shot settings are refused by name.
    func fewshotSampler() throws -> FewshotSampler {
        guard let value = map["fewshot_config"], !(value is NSNull) else { return .default }
        guard let config = value as? [String: Any] else { throw fail("fewshot_config", "expected a mapping such as {sampler: first_n}") }
        if let extra = config.keys.sorted().first(where: { $0 != "sampler" }) {
            throw fail("fewshot_config.\(extra)", "not supported; Lathe reads only fewshot_config.sampler (use fewshot_split for the split)")
        }
        let name = try string("sampler", in: config) ?? "default"
        guard let sampler = FewshotSampler(rawValue: name) else {
            throw fail("fewshot_config.sampler", "'\(name)' is not supported; use one of \(FewshotSampler.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return sampler
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

    func filters() throws -> [FilterSpec] {
        guard let value = map["filter_list"], !(value is NSNull) else { return [] }
        guard let list = value as? [[String: Any]] else { throw fail("filter_list", "expected a list of {name, filter}") }
        return try list.map { entry in
            guard let name = entry["name"] as? String, let steps = entry["filter"] as? [[String: Any]] else {
                throw fail("filter_list", "each entry needs name and filter")
            }
            return FilterSpec(name: name, steps: try steps.map { step in
                switch step["function"] as? String {
                case "take_first": return .takeFirst
                case "regex":
                    let pattern = try string("regex_pattern", in: step) ?? #"#### (\-?[0-9\.\,]+)"#
                    guard (try? NSRegularExpression(pattern: pattern)) != nil else {
                        throw fail("filter_list.regex_pattern", "'\(pattern)' is not a valid regular expression")
                    }
                    return .regex(pattern: pattern, groupSelect: try int("group_select", in: step) ?? 0,
                                  fallback: try string("fallback", in: step) ?? "[invalid]")
                case let other:
                    throw fail("filter_list.function", "'\(other ?? "")' is not supported; use regex and take_first")
                }
            })
        }
    }
}
