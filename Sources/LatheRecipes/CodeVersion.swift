import Foundation

/// The version of the code that made a run: the git commit of the checkout and whether tracked files differ from it.
/// Read from the `.git` files directly (HEAD, refs, packed-refs, index); no process is spawned.
public struct CodeVersion: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The 40-hex commit, or "unknown" when there is no repository.
    public var commit: String
    /// True when a tracked file's size or modification time differs from the index, or one is missing; nil when
    /// that could not be determined. Untracked files are not considered.
    public var dirty: Bool?

    /// A version with the given fields.
    public init(commit: String, dirty: Bool?) {
        self.commit = commit
        self.dirty = dirty
    }

    /// "<commit>", "<commit>-dirty", "<commit>-unknown-state" or "unknown": the string stage keys include.
    public var description: String {
        guard commit != "unknown" else { return "unknown" }
        switch dirty {
        case .some(true): return commit + "-dirty"
        case .some(false): return commit
        case .none: return commit + "-unknown-state"
        }
    }

    /// Reads the repository containing `directory` (searching upward for `.git`).
    public static func read(from directory: String) -> CodeVersion {
        var current = RunPaths.normalize(directory)
        while true {
            let dotGit = current + "/.git"
            if let gitDirectory = gitDirectory(dotGit) {
                let common = commonDirectory(gitDirectory)
                guard let commit = resolveHEAD(gitDirectory, common: common) else { return CodeVersion(commit: "unknown", dirty: nil) }
                return CodeVersion(commit: commit, dirty: GitIndex.isDirty(gitDirectory + "/index", workTree: current))
            }
            if current == "/" || current.isEmpty { return CodeVersion(commit: "unknown", dirty: nil) }
            current = RunPaths.parent(current)
        }
    }

    /// `.git` as a directory, or the directory a `.git` file ("gitdir: ...", as in worktrees) points to.
    static func gitDirectory(_ dotGit: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return dotGit }
        guard let text = try? String(contentsOfFile: dotGit, encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("gitdir:") else { return nil }
        let target = line.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return target.hasPrefix("/") ? target : RunPaths.normalize(RunPaths.parent(dotGit) + "/" + target)
    }

    /// The shared repository directory (a worktree's `commondir`), else the git directory itself.
    static func commonDirectory(_ gitDirectory: String) -> String {
        guard let text = try? String(contentsOfFile: gitDirectory + "/commondir", encoding: .utf8) else { return gitDirectory }
        let target = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return target.hasPrefix("/") ? target : RunPaths.normalize(gitDirectory + "/" + target)
    }

    static func resolveHEAD(_ gitDirectory: String, common: String) -> String? {
        guard let head = try? String(contentsOfFile: gitDirectory + "/HEAD", encoding: .utf8) else { return nil }
        let text = head.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("ref:") else { return isCommit(text) ? text : nil }
        let ref = text.dropFirst(4).trimmingCharacters(in: .whitespaces)
        for base in [gitDirectory, common] {
            if let value = try? String(contentsOfFile: base + "/" + ref, encoding: .utf8) {
                let commit = value.trimmingCharacters(in: .whitespacesAndNewlines)
                if isCommit(commit) { return commit }
            }
        }
        guard let packed = try? String(contentsOfFile: common + "/packed-refs", encoding: .utf8) else { return nil }
        for line in packed.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("^") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[1] == ref, isCommit(String(parts[0])) { return String(parts[0]) }
        }
        return nil
    }

    static func isCommit(_ s: String) -> Bool {
        (s.count == 40 || s.count == 64) && s.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}

/// Just enough of git's index format (versions 2 and 3, Documentation/gitformat-index.txt) to compare tracked
/// files' sizes and modification times with the work tree, as `git status` does before looking at content.
enum GitIndex {
    static func isDirty(_ indexPath: String, workTree: String) -> Bool? {
        guard let data = FileManager.default.contents(atPath: indexPath) else { return nil }
        let bytes = [UInt8](data)
        func u32(_ at: Int) -> Int? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        }
        guard bytes.count >= 12, bytes[0 ..< 4].elementsEqual("DIRC".utf8), let version = u32(4), version == 2 || version == 3,
              let count = u32(8) else { return nil }
        var offset = 12
        for _ in 0 ..< count {
            guard let mtime = u32(offset + 8), let mode = u32(offset + 24), let size = u32(offset + 36),
                  offset + 62 <= bytes.count else { return nil }
            let flags = Int(bytes[offset + 60]) << 8 | Int(bytes[offset + 61])
            let nameStart = offset + 62 + (version == 3 && flags & 0x4000 != 0 ? 2 : 0)
            guard let nameEnd = bytes[nameStart...].firstIndex(of: 0) else { return nil }
            let name = String(decoding: bytes[nameStart ..< nameEnd], as: UTF8.self)
            offset = (nameStart + (nameEnd - nameStart) + 8 - offset) & ~7 + offset
            if mode & 0o170000 == 0o160000 { continue }   // submodule
            var info = stat()
            guard lstat(workTree + "/" + name, &info) == 0 else { return true }
            if Int(info.st_size) & 0xFFFF_FFFF != size || Int(info.st_mtim.tv_sec) & 0xFFFF_FFFF != mtime { return true }
        }
        return false
    }
}
