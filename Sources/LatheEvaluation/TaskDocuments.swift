import Foundation
import LatheFormats
import LatheJinja

/// Reading a task's documents from JSONL or CSV, and writing them back as JSON for the samples file.
public enum TaskDocuments {
    /// Largest data file `load` reads. A task's file is read whole and every document becomes template values (several
    /// times the file's size in memory), so a file past this is refused before it is read.
    public static let maxBytes = 256 << 20

    /// The documents of `split` for `task`; each is a `.dict` (JSON object or CSV row with its header's keys).
    static func load(_ task: TaskConfig, split: String) throws -> [TemplateValue] {
        guard let path = task.dataFiles[split] else {
            throw EvaluationError.invalidTask(file: task.file, key: "dataset_kwargs.data_files",
                                              message: "no file for split '\(split)'; add \(split): FILE")
        }
        guard let mapped = try? MappedBytes(path: path) else {
            throw EvaluationError.invalidTask(file: task.file, key: "dataset_kwargs.data_files.\(split)",
                                              message: "cannot read \(path) (paths are relative to the YAML file)")
        }
        guard mapped.buffer.count <= maxBytes else {
            throw EvaluationError.invalidTask(
                file: task.file, key: "dataset_kwargs.data_files.\(split)",
                message: "\(path) is \(mapped.buffer.count) bytes, over the \(maxBytes >> 20) MiB limit for a task data file "
                    + "(it is read whole); evaluate a subset: keep its first lines in a smaller file, or split it into several tasks")
        }
        return try withExtendedLifetime(mapped) { try parse(mapped.buffer, csv: task.datasetPath == "csv", path: path) }
    }

    /// The documents in `bytes`, the contents of the data file `path`: CSV with a header row when `csv`, else JSONL.
    /// Errors name `path` and the line or row.
    public static func parse(_ bytes: UnsafeRawBufferPointer, csv isCSV: Bool, path: String) throws -> [TemplateValue] {
        let text = String(decoding: bytes, as: UTF8.self)
        return isCSV ? try csv(text, path: path) : try jsonl(text, path: path)
    }

    static func jsonl(_ text: String, path: String) throws -> [TemplateValue] {
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
    static func csv(_ text: String, path: String) throws -> [TemplateValue] {
        var rows = [[String]](), field = "", row = [String](), quoted = false
        var chars = text.makeIterator()   // Characters one at a time: no 16-byte-per-character array
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

