import Foundation
import LatheCheckpoints
import LatheFormats

/// `report.html`: one self-contained page per run (no scripts, no network) with inline SVG charts of the training
/// loss and learning rate, the cleaning funnel, and the base-vs-adapter evaluation table.
public enum RunReport {
    /// Writes `<run>/report.html` from the stage directories of a finished run.
    public static func write(_ loaded: LoadedRecipe, outputs: [StageName: String]) throws {
        var sections: [String] = []
        if let clean = outputs[.clean], let report = stageReport(clean) {
            sections.append(funnel(report))
        }
        if let train = outputs[.train] {
            let log = trainingLog((train as NSString).appendingPathComponent("training_log.jsonl"))
            if !log.steps.isEmpty {
                let evaluated = log.evaluations.isEmpty ? "" : " (dots: held-out loss)"
                sections.append("<h2>Training</h2>"
                                + lineChart(log.steps.map(\.loss), title: "training loss per step" + evaluated, color: "#1f6feb",
                                            markers: log.evaluations, markerColor: "#d1242f")
                                + lineChart(log.steps.map(\.lr), title: "learning rate per step", color: "#8250df"))
            }
            sections += taskEvaluationCharts((train as NSString).appendingPathComponent("training_log.jsonl"),
                                             selected: stageReport(train)?.metrics["selected_step"].map { Int($0) })
            if let report = stageReport(train), let base = report.metrics["eval_loss_base"], let adapter = report.metrics["eval_loss_adapter"] {
                sections.append("<p>Held-out loss: base <b>\(fixed(base))</b> → adapter <b>\(fixed(adapter))</b></p>")
            }
        }
        if let evaluate = outputs[.evaluate], let report = stageReport(evaluate) {
            sections.append(evaluationTable(report))
        }
        let html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Lathe run: \(escape(loaded.recipe.name))</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1f2328; }
        table { border-collapse: collapse; margin: 1rem 0; } td, th { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: right; }
        th:first-child, td:first-child { text-align: left; } .better { color: #1a7f37; font-weight: 600; }
        figure { margin: 1rem 0; } figcaption { font-size: .9rem; color: #57606a; }
        </style></head><body>
        <h1>Lathe run: \(escape(loaded.recipe.name))</h1>
        <p>Recipe <code>\(escape(loaded.recordedPath(loaded.file)))</code>, base model <code>\(escape(loaded.recordedPath(loaded.baseModelPath)))</code>\(baseModelHash(loaded)).
        Paths are relative to the project root (the folder holding <code>Checkpoints/</code>) unless absolute.
        Every figure comes from the run directory; <code>lineage.json</code> records the hashes.</p>
        \(sections.joined(separator: "\n"))
        </body></html>
        """
        try DurableFile.write(Array(html.utf8), to: (loaded.runDirectory as NSString).appendingPathComponent("report.html"))
    }

    /// ", SHA-256 `…`" for the base model as the run's lineage header records it, or "" when it records none.
    static func baseModelHash(_ loaded: LoadedRecipe) -> String {
        guard let base = try? Lineage.read(LineageRecorder.path(in: loaded.runDirectory)).header.baseModel else { return "" }
        return ", SHA-256 <code>\(base.sha256)</code>"
    }

    static func stageReport(_ directory: String) -> StageReport? {
        try? JSONNode.read(file: (directory as NSString).appendingPathComponent("report.json")).decode(StageReport.self)
    }

    /// The per-step lines (loss, learning rate) and the held-out evaluations (step, loss) of a training log.
    static func trainingLog(_ path: String) -> (steps: [(loss: Double, lr: Double)], evaluations: [(step: Int, value: Double)]) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return ([], []) }
        var steps: [(loss: Double, lr: Double)] = [], evaluations: [(step: Int, value: Double)] = []
        for line in text.split(separator: "\n") {
            guard let object = try? JSONValue.parse(Array(line.utf8)), object.objectValue != nil else { continue }
            if let loss = object["loss"]?.doubleValue, let lr = object["lr"]?.doubleValue {
                steps.append((loss, lr))
            } else if let loss = object["eval_loss"]?.doubleValue, let step = object["step"]?.intValue {
                evaluations.append((step, loss))
            }
        }
        return (steps, evaluations)
    }

    /// One chart per task metric evaluated during training (`evaluate.every`): its value at each evaluation step, the
    /// step `evaluate.select` chose marked.
    static func taskEvaluationCharts(_ path: String, selected: Int?) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var steps = [Int](), series = [String: [Double]]()
        for line in text.split(separator: "\n") {
            guard let object = try? JSONValue.parse(Array(line.utf8)), let step = object["step"]?.intValue,
                  let tasks = object["tasks"]?.objectValue else { continue }
            steps.append(step)
            for i in 0 ..< tasks.count { series[tasks.keys[i], default: []].append(tasks.values[i].doubleValue ?? .nan) }
        }
        guard !steps.isEmpty else { return [] }
        let stepsText = steps.map(String.init).joined(separator: ", ")
        return ["<h2>Task metrics during training</h2>"] + series.keys.sorted().map { key in
            let values = series[key]!
            let chosen = selected.flatMap { s in steps.firstIndex(of: s).map { [(step: $0 + 1, value: values[$0])] } } ?? []
            return lineChart(values, title: "\(key) at steps \(stepsText)" + (selected.map { " (dot: step \($0), chosen by evaluate.select)" } ?? ""),
                             color: "#1a7f37", markers: chosen, xLabel: "evaluation \(values.count)")
        }
    }

    /// A polyline over `values` with labelled axes, as inline SVG.
    /// `markers` are (step, value) points (step 1 is the first value) drawn as dots on the same axes.
    static func lineChart(_ values: [Double], title: String, color: String,
                          markers: [(step: Int, value: Double)] = [], markerColor: String = "#d1242f",
                          xLabel: String? = nil) -> String {
        let (width, height, pad) = (640.0, 220.0, 56.0)
        let all = values + markers.map(\.value)
        let low = all.min() ?? 0, high = all.max() ?? 1
        let span = high > low ? high - low : 1
        func x(_ i: Int) -> Double { pad + (width - 2 * pad) * Double(i) / Double(max(values.count - 1, 1)) }
        func y(_ v: Double) -> Double { height - pad - (height - 2 * pad) * (v - low) / span }
        let points = values.enumerated().map { i, v in "\(fixed(x(i))),\(fixed(y(v)))" }.joined(separator: " ")
        let dots = markers.map { m in
            "<circle cx=\"\(fixed(x(m.step - 1)))\" cy=\"\(fixed(y(m.value)))\" r=\"4\" fill=\"\(markerColor)\"><title>step \(m.step): \(fixed(m.value))</title></circle>"
        }.joined()
        return """
        <figure><svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" role="img" aria-label="\(escape(title))">
        <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#ffffff" stroke="#d0d7de"/>
        <line x1="\(pad)" y1="\(height - pad)" x2="\(width - pad)" y2="\(height - pad)" stroke="#57606a"/>
        <line x1="\(pad)" y1="\(pad)" x2="\(pad)" y2="\(height - pad)" stroke="#57606a"/>
        <text x="\(pad - 4)" y="\(pad + 4)" font-size="11" text-anchor="end">\(short(high))</text>
        <text x="\(pad - 4)" y="\(height - pad)" font-size="11" text-anchor="end">\(short(low))</text>
        <text x="\(width - pad)" y="\(height - pad + 16)" font-size="11" text-anchor="end">\(escape(xLabel ?? "step \(values.count)"))</text>
        <polyline fill="none" stroke="\(color)" stroke-width="2" points="\(points)"/>\(dots)
        </svg><figcaption>\(escape(title))</figcaption></figure>
        """
    }

    /// Records in, then out after each cleaning decision, as horizontal bars.
    static func funnel(_ report: StageReport) -> String {
        let rows: [(String, Int)] = [("records in", report.counts["records_in"] ?? 0),
                                     ("records out", report.counts["records_out"] ?? 0),
                                     ("training split", report.counts["split_train"] ?? 0),
                                     ("held out", report.counts["split_eval"] ?? 0)].filter { $0.1 > 0 }
        let maximum = Double(rows.map(\.1).max() ?? 1)
        let bars = rows.enumerated().map { i, row in
            let y = 10 + i * 30, w = Int(420 * Double(row.1) / maximum)
            return "<rect x=\"140\" y=\"\(y)\" width=\"\(w)\" height=\"20\" fill=\"#54aeff\"/>"
                + "<text x=\"132\" y=\"\(y + 15)\" font-size=\"12\" text-anchor=\"end\">\(escape(row.0))</text>"
                + "<text x=\"\(146 + w)\" y=\"\(y + 15)\" font-size=\"12\">\(row.1)</text>"
        }.joined()
        let decisions = report.counts.filter { !["records_in", "records_out", "split_train", "split_eval"].contains($0.key) }
            .sorted { $0.key < $1.key }.map { "<tr><td>\(escape($0.key.replacingOccurrences(of: "_", with: " ")))</td><td>\($0.value)</td></tr>" }
            .joined()
        return """
        <h2>Cleaning</h2><figure><svg xmlns="http://www.w3.org/2000/svg" width="640" height="\(rows.count * 30 + 20)" role="img" aria-label="cleaning funnel">\(bars)</svg>
        <figcaption>cleaning funnel</figcaption></figure>
        <table><tr><th>decision</th><th>records</th></tr>\(decisions)</table>
        """
    }

    /// Base vs adapter per task and metric, with standard errors and the delta's paired bootstrap error.
    static func evaluationTable(_ report: StageReport) -> String {
        let m = report.metrics
        let names = Set(m.keys.compactMap { key -> String? in
            key.hasSuffix("/adapter") ? String(key.dropLast("/adapter".count)) : nil
        }).sorted()
        let rows = names.map { name -> String in
            func cell(_ suffix: String) -> String {
                guard let value = m["\(name)/\(suffix)"] else { return "–" }
                let error = m["\(name)/\(suffix)_stderr"].map { " ± " + fixed($0) } ?? ""
                return fixed(value) + error
            }
            let better = (m["\(name)/delta"] ?? 0) > 2 * (m["\(name)/delta_stderr"] ?? .infinity)
            return "<tr><td>\(escape(name))</td><td>\(cell("base"))</td><td>\(cell("adapter"))</td><td class=\"\(better ? "better" : "")\">\(cell("delta"))</td></tr>"
        }.joined()
        return "<h2>Evaluation on held-out questions</h2><table><tr><th>task / metric</th><th>base</th><th>adapter</th><th>delta</th></tr>\(rows)</table>"
    }

    static func fixed(_ value: Double) -> String { String(format: "%.4f", value) }
    static func short(_ value: Double) -> String { String(format: "%.3g", value) }
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
