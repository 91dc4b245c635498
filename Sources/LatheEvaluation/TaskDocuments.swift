import Foundation
import LatheFormats
import LatheJinja

/// Reading a task's documents from JSONL or CSV, and writing them back as JSON for the samples file.
enum TaskDocuments {
    /// The documents of `split` for `task`; each is a `.dict` (JSON object or CSV row with its header's keys).
    static func load(_ task: TaskConfig, split: String) throws -> [TemplateValue] {
        guard let path = task.dataFiles[split] else {
            throw EvaluationError.invalidTask(file: task.file, key: "dataset_kwargs.data_files",
                                              message: "no file for split '\(split)'; add \(split): FILE")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.invalidTask(file: task.file, key: "dataset_kwargs.data_files.\(split)",
                                              message: "cannot read \(path) (paths are relative to the YAML file)")
        }
        let text = String(decoding: data, as: UTF8.self)
        return task.datasetPath == "csv" ? try csv(text, path: path, task: task) : try jsonl(text, path: path, task: task)
    }

    static func jsonl(_ text: String, path: String, task: TaskConfig) throws -> [TemplateValue] {
        var docs = [TemplateValue]()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let value: TemplateValue
            do { value = try TemplateValue(json: trimmed) } catch {
                throw EvaluationError.invalidTask(file: path, key: "line \(number + 1)", message: "not valid JSON: \(error)")
            }
            guard case .dict = value else {
                throw EvaluationError.invalidTask(file: path, key: "line \(number + 1)", message: "expected a JSON object")
            }
            docs.append(value)
        }
        return docs
    }

    /// RFC 4180 CSV with a header row; values stay strings, as `datasets` infers them only for plain numbers.
    static func csv(_ text: String, path: String, task: TaskConfig) throws -> [TemplateValue] {
        var rows = [[String]](), field = "", row = [String](), quoted = false
        var chars = Array(text).makeIterator()
        var pending: Character? = nil
        func endRow() { row.append(field); field = ""; if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }; row = [] }
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = chars.next() { if next == "\"" { field.append("\"") } else { quoted = false; pending = next } } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true } else if c == "," { row.append(field); field = "" } else if c == "\n" || c == "\r\n" { endRow() } else if c != "\r" { field.append(c) }
        }
        if !field.isEmpty || !row.isEmpty { endRow() }
        guard let header = rows.first else { return [] }
        return try rows.dropFirst().enumerated().map { index, values in
            guard values.count == header.count else {
                throw EvaluationError.invalidTask(file: path, key: "row \(index + 2)",
                                                  message: "\(values.count) fields; the header has \(header.count)")
            }
            return .dict(TemplateDict(zip(header, values).map { ($0, csvValue($1)) }))
        }
    }

    private static func csvValue(_ s: String) -> TemplateValue {
        if let i = Int(s) { return .int(i) }
        if let d = Double(s), s.contains(".") { return .double(d) }
        return .string(s)
    }
}

extension TemplateValue {
    /// Compact JSON text (for samples files); non-data values (macros, functions) become null.
    var jsonText: String {
        switch self {
        case .string(let s): return LatheFormats.JSONValue.quoted(s)
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : "null"
        case .bool(let b): return b ? "true" : "false"
        case .list(let l): return "[" + l.map(\.jsonText).joined(separator: ", ") + "]"
        case .dict(let d): return "{" + d.entries.map { LatheFormats.JSONValue.quoted($0.key) + ": " + $0.value.jsonText }.joined(separator: ", ") + "}"
        default: return "null"
        }
    }
}

