import Foundation

/// lm-eval's `RegexFilter` and `TakeFirstFilter` on the generations of one document.
enum OutputFilters {
    /// Runs the steps over `responses` and returns the single text the metrics see.
    static func apply(_ steps: [FilterStep], to responses: [String]) -> String {
        var current = responses
        for step in steps {
            switch step {
            case .takeFirst: current = Array(current.prefix(1))
            case .regex(let pattern, let group, let fallback):
                current = current.map { regexFilter($0, pattern: pattern, groupSelect: group, fallback: fallback) }
            }
        }
        return current.first ?? ""
    }

    /// `re.findall(pattern, text)[group_select]`; with several groups, the first non-empty one; stripped.
    static func regexFilter(_ text: String, pattern: String, groupSelect: Int, fallback: String) -> String {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return fallback }
        let ns = text as NSString
        let matches = regex.matches(in: text, range: NSRange(location: 0, length: ns.length))
        guard !matches.isEmpty else { return fallback }
        let index = groupSelect < 0 ? matches.count + groupSelect : groupSelect
        guard index >= 0, index < matches.count else { return fallback }
        let match = matches[index]
        var found: String
        switch regex.numberOfCaptureGroups {
        case 0: found = ns.substring(with: match.range)
        case 1: found = match.range(at: 1).location == NSNotFound ? "" : ns.substring(with: match.range(at: 1))
        default:
            let groups = (1...regex.numberOfCaptureGroups).compactMap { g -> String? in
                let r = match.range(at: g)
                return r.location == NSNotFound ? nil : ns.substring(with: r)
            }.filter { !$0.isEmpty }
            found = groups.first ?? fallback
        }
        return found.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Per-sample metrics of a task (lm-eval `ConfigurableTask.process_results`) and their collection per filter.
enum TaskMetrics {
    static func compute(_ task: TaskConfig, plans: [Evaluator.Plan], samples: inout [SampleRecord]) -> [MetricSamples] {
        var collected = [String: MetricSamples]()
        var order = [String]()
        for (i, plan) in plans.enumerated() {
            for (filter, responses) in samples[i].filtered {
                for spec in task.metrics {
                    guard let (value, weight, aggregation) = metric(spec, task, plan, responses) else { continue }
                    let key = spec.name + "," + filter
                    if collected[key] == nil {
                        order.append(key)
                        collected[key] = MetricSamples(name: spec.name, filter: filter, aggregation: aggregation, values: [], weights: [])
                    }
                    collected[key]!.values.append(value)
                    if let weight { collected[key]!.weights.append(weight) }
                    let label = task.filters.isEmpty ? spec.name : key
                    samples[i].metrics.append((label, weight.map { [value, $0] } ?? [value]))
                }
            }
        }
        return order.map { collected[$0]! }
    }

    /// (value, weight for weighted aggregations, aggregation), or nil when the metric does not apply.
    static func metric(_ spec: MetricSpec, _ task: TaskConfig, _ plan: Evaluator.Plan,
                       _ responses: [Response]) -> (Double, Double?, Aggregation)? {
        let lls = responses.map { $0.logLikelihood ?? -.infinity }
        switch (task.outputType, spec.name) {
        case (.multipleChoice, "acc"): return (plan.gold.contains(Metrics.argmax(lls)) ? 1 : 0, nil, .mean)
        case (.multipleChoice, "acc_norm"):
            let normed = zip(lls, plan.choices).map { $0 / Double($1.count) }
            return (plan.gold.contains(Metrics.argmax(normed)) ? 1 : 0, nil, .mean)
        case (.multipleChoice, "acc_bytes"):
            let normed = zip(lls, plan.choices).map { $0 / Double($1.utf8.count) }
            return (plan.gold.contains(Metrics.argmax(normed)) ? 1 : 0, nil, .mean)
        case (.loglikelihood, "acc"): return ((responses.first?.isGreedy ?? false) ? 1 : 0, nil, .mean)
        case (.loglikelihood, "perplexity"): return (lls.first ?? -.infinity, nil, .perplexity)
        case (.loglikelihoodRolling, "word_perplexity"):
            return (lls[0], Double(Metrics.wordCount(plan.target)), .weightedPerplexity)
        case (.loglikelihoodRolling, "byte_perplexity"):
            return (lls[0], Double(plan.target.utf8.count), .weightedPerplexity)
        case (.loglikelihoodRolling, "bits_per_byte"):
            return (lls[0], Double(plan.target.utf8.count), .bitsPerByte)
        case (.generateUntil, let name):
            let prediction = responses.first?.text ?? ""
            switch name {
            case "exact_match":
                return (Metrics.exactMatch(prediction, plan.target, ignoreCase: spec.ignoreCase,
                                           ignorePunctuation: spec.ignorePunctuation,
                                           regexesToIgnore: spec.regexesToIgnore), nil, .mean)
            case "token_f1": return (Metrics.tokenF1(prediction, plan.target), nil, .mean)
            case "rouge_l": return (Metrics.rougeL(prediction, plan.target), nil, .mean)
            default: return nil
            }
        default: return nil
        }
    }
}
