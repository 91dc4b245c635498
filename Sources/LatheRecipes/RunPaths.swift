#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps run outputs inside `<project>/Checkpoints/`: `..`, absolute paths elsewhere and symlinks out are refused.
public enum RunPaths {
    /// The absolute run directory for `outputDir` (relative to `projectRoot`), or an error naming `file` and `line`.
    public static func resolveRunDirectory(_ outputDir: String, projectRoot: String, file: String, line: Int) throws -> String {
        let root = normalize(projectRoot + "/Checkpoints")
        let candidate = normalize(outputDir.hasPrefix("/") ? outputDir : projectRoot + "/" + outputDir)
        func refuse(_ why: String) -> RecipeError {
            RecipeError.invalid(file: file, line: line, key: "output_dir",
                                message: "\"\(outputDir)\" \(why); runs are written only inside \(root)/, e.g. Checkpoints/my-run")
        }
        guard isInside(candidate, root) else { throw refuse("is outside the project's Checkpoints/ directory") }
        // Components that do not exist yet cannot be symlinks; the deepest existing one must resolve inside Checkpoints.
        var existing = candidate
        while existing.utf8.count > root.utf8.count, !exists(existing) {
            existing = parent(existing)
        }
        if existing.utf8.count > root.utf8.count {
            guard let real = realPath(existing), let realRoot = realPath(root),
                  real.utf8.elementsEqual(realRoot.utf8) || isInside(real, realRoot) else {
                throw refuse("leads through a symbolic link outside the project's Checkpoints/ directory")
            }
        }
        return candidate
    }

    /// Lexically resolves `.`, `..` and repeated slashes (no file system access).
    public static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    /// `path` relative to `directory` when it lies strictly inside it (both normalised lexically first), else nil.
    public static func relative(_ path: String, to directory: String) -> String? {
        below(normalize(path), normalize(directory)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether normalised `path` lies strictly below normalised `directory`.
    static func isInside(_ path: String, _ directory: String) -> Bool { below(path, directory) != nil }

    /// The bytes of normalised `path` after normalised `directory` and its slash, when non-empty, else nil. Bytes,
    /// not `String` comparison: a file system tells "é" from "e\u{301}", and `String` calls them equal.
    private static func below(_ path: String, _ directory: String) -> ArraySlice<UInt8>? {
        let base = Array(directory.utf8) + (directory.hasSuffix("/") ? [] : [UInt8(ascii: "/")])
        let full = Array(path.utf8)
        return full.count > base.count && full.starts(with: base) ? full[base.count...] : nil
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
