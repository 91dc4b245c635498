/// Throughput of data-parallel training on a cluster of machines like this one, projected from measured figures.
///
/// Model (weak scaling: each machine keeps `microBatchesPerMachine` micro-batches per step, the global batch grows
/// with the machines): a step is compute, then the gradient exchange, with no overlap. Compute is
/// `microBatchesPerMachine × tokensPerMicroBatch ÷ singleTokensPerSecond` (the measured one-process rate of one
/// machine). The exchange is an all-gather of every micro-batch's gradient (`gradientBytes` each, the price of a
/// result independent of the number of machines): over a ring each machine receives (M − 1) × k × gradientBytes
/// at the link rate, plus `latency` per hop.
struct ScaleProjection {
    var singleTokensPerSecond: Double
    var tokensPerMicroBatch: Int
    var microBatchesPerMachine: Int
    var gradientBytes: Double
    var latency = 50e-6
    static let machines = [2, 4, 8, 16, 32, 64]
    static let links = [1.0, 10.0, 25.0]

    /// Tokens per second of `machines` machines on a link of `gigabits` Gbit/s, and the parallel efficiency.
    func throughput(machines: Int, gigabits: Double) -> (tokensPerSecond: Double, efficiency: Double) {
        let k = Double(microBatchesPerMachine)
        let compute = k * Double(tokensPerMicroBatch) / singleTokensPerSecond
        let exchange = Double(machines - 1) * (k * gradientBytes * 8 / (gigabits * 1e9) + latency)
        let tokens = Double(machines) * k * Double(tokensPerMicroBatch)
        return (tokens / (compute + exchange), compute / (compute + exchange))
    }

    /// A Markdown table: one row per machine count, one column per link rate.
    var table: String {
        var out = "| machines | " + Self.links.map { "\(format($0, decimals: 0)) Gbit/s" }.joined(separator: " | ") + " |\n"
        out += "|---:|" + Self.links.map { _ in "---:|" }.joined() + "\n"
        for m in Self.machines {
            out += "| \(m) | " + Self.links.map { link in
                let (rate, efficiency) = throughput(machines: m, gigabits: link)
                return "\(format(rate, decimals: 0)) tok/s (\(format(100 * efficiency, decimals: 0))%)"
            }.joined(separator: " | ") + " |\n"
        }
        return out
    }
}
