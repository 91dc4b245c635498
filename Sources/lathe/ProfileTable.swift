import LatheSupport

/// The `--profile` table of a bench: per op class, seconds per step, share of the step and the rate it ran at —
/// GFLOP/s and its fraction of the sgemm rate for products, GB/s and its fraction of the measured memory
/// bandwidth for memory-bound passes. `seconds` is the wall time of the `steps` steps the profiler recorded.
func profileTable(_ profiler: OpProfiler, seconds: Double, steps: Int, sgemm: Double, bandwidth: Double) -> String {
    func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let gap = String(repeating: " ", count: max(0, width - text.count))
        return left ? text + gap : gap + text
    }
    var lines = ["profile over \(steps) timed step\(steps == 1 ? "" : "s") (sgemm \(format(sgemm)) GFLOP/s, "
                 + "memory \(format(bandwidth)) GB/s, both measured in this run)",
                 pad("op class", 26, left: true) + pad("s/step", 9) + pad("share", 8) + "   rate"]
    for row in profiler.rows(total: seconds) {
        var rate = ""
        if let kind = row.kind, let value = row.rate {
            rate = kind.isCompute ? "\(format(value)) GFLOP/s = \(format(100 * value / sgemm))% of sgemm"
                                  : "\(format(value)) GB/s = \(format(100 * value / bandwidth))% of memory"
        }
        lines.append(pad(row.kind?.label ?? "other (serial glue, idle)", 26, left: true)
                     + pad(format(row.seconds / Double(steps), decimals: 3), 9)
                     + pad(format(100 * row.share) + "%", 8) + "   " + rate)
    }
    lines.append(pad("step", 26, left: true) + pad(format(seconds / Double(steps), decimals: 3), 9) + pad("100.0%", 8))
    return lines.joined(separator: "\n")
}
