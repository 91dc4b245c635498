import Foundation
import LatheFormats
import Yams

/// Finds the tasks a `--tasks` argument names: a task YAML, a suite YAML, or a folder of task YAMLs.
///
/// A suite is an lm-eval group file — `group: NAME` and `task: [name or file, …]` — so it also runs in lm-eval with
/// `--include_path`. Names are matched against the `task:` of the YAML files in the suite's folder (recursively).
public enum TaskSuite {
    /// The tasks at `path`, in the suite's order (folders: sorted by file name; suite files are skipped).
    public static func load(_ path: String) throws -> [TaskConfig] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EvaluationError.invalidSuite(file: path, message: "no such file or directory")
        }
        if isDirectory.boolValue {
            return try yamlFiles(in: path).filter { try !isSuite($0) }.map(TaskConfig.load)
        }
        guard try isSuite(path) else { return [try TaskConfig.load(path)] }
        return try suiteTasks(path)
    }

    static func yamlFiles(in folder: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { (folder as NSString).appendingPathComponent($0) }
    }

    static func yamlMap(_ path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.invalidSuite(file: path, message: "cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        do {
            guard let map = try TaskYAML.load(text) as? [String: Any] else {
                throw EvaluationError.invalidSuite(file: path, message: "expected a mapping")
            }
            return map
        } catch let error as EvaluationError { throw error } catch {
            throw EvaluationError.invalidSuite(file: path, message: "not valid YAML: \(error)")
        }
    }

    static func isSuite(_ path: String) throws -> Bool {
        let map = try yamlMap(path)
        return map["group"] != nil && map["task"] is [Any]
    }

    static func suiteTasks(_ path: String) throws -> [TaskConfig] {
        let map = try yamlMap(path)
        let allowed: Set<String> = ["group", "task", "aggregate_metric_list", "metadata"]
        if let extra = map.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw EvaluationError.invalidSuite(file: path, message: "key '\(extra)' is not supported in a suite; use group and task")
        }
        let folder = (path as NSString).deletingLastPathComponent
        var byName = [String: String]()
        for file in try yamlFiles(in: folder.isEmpty ? "." : folder) where file != path {
            if let m = try? yamlMap(file), let name = m["task"] as? String, m["group"] == nil { byName[name] = file }
        }
        return try (map["task"] as? [Any] ?? []).map { entry in
            guard let name = entry as? String else {
                throw EvaluationError.invalidSuite(file: path, message: "task entries must be task names or YAML paths")
            }
            if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                return try TaskConfig.load(name.hasPrefix("/") ? name : (folder as NSString).appendingPathComponent(name))
            }
            guard let file = byName[name] else {
                throw EvaluationError.invalidSuite(file: path, message: "no task named '\(name)' in \(folder); known: \(byName.keys.sorted().joined(separator: ", "))")
            }
            return try TaskConfig.load(file)
        }
    }
}
