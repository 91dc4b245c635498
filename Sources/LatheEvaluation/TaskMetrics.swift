import Foundation

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
                    samples[i].metrics.append((spec.name, filter, weight.map { [value, $0] } ?? [value]))
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
            let prediction = responses.first?.text ?? responses.first?.texts?.first ?? ""
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
