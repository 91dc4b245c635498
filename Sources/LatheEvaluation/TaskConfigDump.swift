import Foundation

/// A task's entry under `configs` in results.json, as lm-eval 0.4.13 `TaskConfig.to_dict` dumps it: the dataclass
/// fields in declaration order, unset ones left out, the YAML's own values as written, lm-eval's defaults for the
/// rest, `fewshot_config` completed from the task (`FewshotConfig.from_dict`) and `num_fewshot` the shots used.
enum TaskConfigDump {
    static func entries(_ task: TaskConfig, shots: Int) -> [(String, PythonJSON)] {
        var yaml = [String: PythonJSON]()
        for (key, value) in task.yamlEntries { yaml[key] = value }
        func given(_ key: String) -> PythonJSON? {
            guard let value = yaml[key] else { return nil }
            if case .null = value { return nil }
            return value
        }
        func field(_ f: DocumentField?) -> PythonJSON? {
            switch f {
            case .template(let s)?: return .string(s)
            case .index(let i)?: return .int(i)
            case .list(let l)?: return .list(l.map { .string($0) })
            case nil: return nil
            }
        }
        var out = [(String, PythonJSON)]()
        func put(_ key: String, _ value: PythonJSON?) { if let value { out.append((key, value)) } }
        put("task", .string(task.name))
        put("tag", given("tag"))
        put("dataset_path", .string(task.datasetPath))
        put("dataset_kwargs", given("dataset_kwargs"))
        put("training_split", task.trainingSplit.map { .string($0) })
        put("validation_split", task.validationSplit.map { .string($0) })
        put("test_split", task.testSplit.map { .string($0) })
        put("fewshot_split", given("fewshot_split"))
        put("doc_to_text", given("doc_to_text") ?? field(task.docToText))
        put("doc_to_target", given("doc_to_target") ?? field(task.docToTarget))
        put("unsafe_code", .bool(false))
        put("doc_to_choice", given("doc_to_choice"))
        put("description", .string(task.description))
        put("target_delimiter", .string(task.targetDelimiter))
        put("fewshot_delimiter", .string(task.fewshotDelimiter))
        put("fewshot_config", .dict(fewshotConfig(task, yaml: yaml)))
        put("num_fewshot", .int(shots))
        put("metric_list", given("metric_list") ?? .list(task.metrics.map { .dict([("metric", .string($0.name))]) }))
        put("output_type", .string(task.outputType.rawValue))
        if task.outputType == .generateUntil { put("generation_kwargs", generationKwargs(task)) }
        put("repeats", .int(task.repeats))
        put("filter_list", given("filter_list"))
        put("should_decontaminate", given("should_decontaminate") ?? .bool(false))
        put("doc_to_decontamination_query", given("doc_to_decontamination_query"))
        // lm-eval adds the model arguments and the YAML's path to metadata; Lathe adds the path.
        var metadata = [(String, PythonJSON)]()
        if case .dict(let entries)? = given("metadata") { metadata = entries }
        metadata.append(("config_source", .string(task.file)))
        put("metadata", .dict(metadata))
        return out
    }

    /// `FewshotConfig` as `asdict` writes it: every field, the task's values where the YAML's fewshot_config is silent.
    static func fewshotConfig(_ task: TaskConfig, yaml: [String: PythonJSON]) -> [(String, PythonJSON)] {
        var own = [String: PythonJSON]()
        if case .dict(let entries)? = yaml["fewshot_config"] { for (k, v) in entries { own[k] = v } }
        func pick(_ key: String, _ inherited: PythonJSON?) -> PythonJSON { own[key] ?? inherited ?? .null }
        return [
            ("sampler", pick("sampler", .string("default"))),
            ("split", pick("split", yaml["fewshot_split"])),
            ("process_docs", .null),
            ("fewshot_indices", .null),
            ("samples", pick("samples", nil)),
            ("doc_to_text", pick("doc_to_text", yaml["doc_to_text"])),
            ("doc_to_choice", pick("doc_to_choice", yaml["doc_to_choice"])),
            ("doc_to_target", pick("doc_to_target", yaml["doc_to_target"])),
            ("gen_prefix", .null),
            ("fewshot_delimiter", pick("fewshot_delimiter", .string(task.fewshotDelimiter))),
            ("target_delimiter", pick("target_delimiter", .string(task.targetDelimiter))),
        ]
    }

    /// `generation_kwargs` as lm-eval holds them (`TaskConfig.__post_init__`): the YAML's, with `until:
    /// [fewshot_delimiter]` added when absent; without any, `defaults.default_gen_kwargs(fewshot_delimiter)`.
    static func generationKwargs(_ task: TaskConfig) -> PythonJSON {
        guard let given = task.yamlEntries.first(where: { $0.0 == "generation_kwargs" })?.1, case .dict(var entries) = given else {
            return .dict([("temperature", .double(0)), ("do_sample", .bool(false)), ("max_gen_toks", .int(task.maxGenToks)),
                          ("until", .list([.string(task.fewshotDelimiter)]))])
        }
        if !entries.contains(where: { $0.0 == "until" }) { entries.append(("until", .list([.string(task.fewshotDelimiter)]))) }
        return .dict(entries)
    }
}
