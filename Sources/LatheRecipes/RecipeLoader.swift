import Foundation
import Yams
import LatheCheckpoints
import LatheSupport

/// How a recipe is loaded: `--set` overrides, the project root, and whether input files must exist.
public struct RecipeOptions: Sendable {
    /// `key.path=value` overrides; the value is parsed as YAML (`8`, `cosine`, `[q_proj, v_proj]`).
    public var overrides: [String]
    /// The directory holding `Checkpoints/`; nil means the parent of the recipe's directory when that is named
    /// `Recipes`, else the recipe's directory.
    public var projectRoot: String?
    /// Check that data files, the base model and task files exist (the CLI always does; tests may not).
    public var checkFiles: Bool

    /// Options with no overrides that check files.
    public init(overrides: [String] = [], projectRoot: String? = nil, checkFiles: Bool = true) {
        self.overrides = overrides
        self.projectRoot = projectRoot
        self.checkFiles = checkFiles
    }
}

/// A decoded, validated recipe with its paths resolved. Precedence: `--set` flags > recipe file > defaults.
public struct LoadedRecipe: Sendable {
    /// The resolved recipe (`output_dir` filled in).
    public let recipe: Recipe
    /// The recipe file as given.
    public let file: String
    /// The project root (absolute).
    public let projectRoot: String
    /// The run directory (absolute, inside `<projectRoot>/Checkpoints/`).
    public let runDirectory: String
    /// Data files (absolute; directories expanded to their `.jsonl` / `.csv` / `.parquet` files when files are checked).
    public let dataFiles: [String]
    /// The base model path (absolute).
    public let baseModelPath: String
    /// Evaluation task paths (absolute; files or directories).
    public let taskPaths: [String]

    /// `path` as the run's records name it: relative to the project root when inside it (so a project copied
    /// elsewhere keeps its records valid), else the absolute path as given.
    public func recordedPath(_ path: String) -> String {
        let absolute = RecipeLoader.absolutePath(path, base: FileManager.default.currentDirectoryPath)
        return RunPaths.relative(absolute, to: projectRoot) ?? absolute
    }

    /// The resolved recipe as canonical JSON (sorted keys), the text every hash is taken of.
    public func canonicalJSON() throws -> String { try CanonicalJSON.string(recipe) }

    /// SHA-256 of `canonicalJSON()`.
    public func sha256() throws -> String { SHA256.hex(try canonicalJSON()) }

    /// The resolved recipe as YAML, every default written out.
    public func yaml() throws -> String { Self.plainNumbers(try YAMLEncoder().encode(recipe)) }

    /// Rewrites Yams' exponent notation for floats ("9e-1", "3.2e+1") as Swift prints them ("0.9", "32.0").
    static func plainNumbers(_ yaml: String) -> String {
        yaml.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let cut = line.range(of: ": ", options: .backwards) ?? line.range(of: "- ") else { return String(line) }
            let value = line[cut.upperBound...]
            guard value.contains("e"), !value.hasPrefix("0x"), let number = Double(value), number.isFinite else { return String(line) }
            return line[..<cut.upperBound] + number.description
        }.joined(separator: "\n")
    }

    /// One line: name, model, data, steps, stages.
    public var summary: String {
        let r = recipe
        let length = r.train.maxSteps.map { "\($0) steps" } ?? "\(r.train.resolvedEpochs) epoch(s)"
        let stages = StageName.allCases.filter { $0.isEnabled(in: r) }.map(\.rawValue).joined(separator: " → ")
        return "\(r.name): \(URL(fileURLWithPath: baseModelPath).lastPathComponent), \(dataFiles.count) data file(s), "
            + "LoRA r\(r.train.lora.rank) α\(Self.trim(r.train.lora.alpha)), T=\(r.tokenize.maxLength), \(length); \(stages)"
    }

    static func trim(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
}

/// Reads recipe files: YAML → tree with line numbers → defaults merged → strict decode → checks → resolved paths.
public enum RecipeLoader {
    /// Recipes larger than this are refused (a recipe is a page of settings, not data).
    public static let maxRecipeBytes = 1 << 20

    /// Loads, validates and resolves the recipe at `path`. Nothing is written.
    public static func load(path: String, options: RecipeOptions = RecipeOptions()) throws -> LoadedRecipe {
        let bytes: [UInt8]
        do { bytes = try DurableFile.read(path, limit: maxRecipeBytes, bound: "RecipeLoader.maxRecipeBytes (1 MiB; split the recipe: a recipe holds settings, its data lives in files)") } catch {
            throw RecipeError.invalid(file: path, line: 0, key: "(file)", message: "cannot read the recipe: \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw RecipeError.invalid(file: path, line: 0, key: "(file)", message: "not UTF-8 text; save the recipe as UTF-8")
        }
        let absolute = absolutePath(path, base: FileManager.default.currentDirectoryPath)
        let recipeDirectory = (absolute as NSString).deletingLastPathComponent
        let root = options.projectRoot.map { absolutePath($0, base: FileManager.default.currentDirectoryPath) }
            ?? ((recipeDirectory as NSString).lastPathComponent == "Recipes"
                ? (recipeDirectory as NSString).deletingLastPathComponent : recipeDirectory)
        return try load(yaml: text, file: path, recipeDirectory: recipeDirectory, projectRoot: root, options: options)
    }

    /// Loads recipe text as if it were the file `file` in `recipeDirectory`.
    public static func load(yaml: String, file: String, recipeDirectory: String, projectRoot: String,
                            options: RecipeOptions = RecipeOptions()) throws -> LoadedRecipe {
        var tree = try RecipeNode.parse(yaml: yaml, source: file)
        guard case .mapping = tree.kind else {
            throw RecipeError.invalid(file: file, line: tree.line, key: "(top level)",
                                      message: "a recipe is a mapping of sections (name:, data:, train:, ...)")
        }
        for flag in options.overrides { tree = try applyOverride(flag, to: tree) }
        let merged = try defaultsTree().merged(with: tree)
        var recipe = try RecipeDecoder(merged).decode(Recipe.self)
        let locate = { (path: String) -> (String, Int) in
            let node = merged.node(at: path.split(separator: ".").map(String.init))
            return (node?.source ?? file, node?.line ?? 0)
        }
        try RecipeChecks.validate(recipe, locate: locate)
        let output = recipe.outputDir ?? "Checkpoints/\(recipe.name)"
        recipe.outputDir = output
        let (outFile, outLine) = locate("output_dir")
        let run = try RunPaths.resolveRunDirectory(output, projectRoot: projectRoot, file: outFile, line: outLine)
        let resolver = InputResolver(base: recipeDirectory, check: options.checkFiles, locate: locate)
        let data = try recipe.data.inputs.enumerated().flatMap { i, p in try resolver.dataFiles(p, key: "data.inputs", index: i) }
        let model = try resolver.existing(recipe.baseModel, key: "base_model", what: "base model")
        let tasks = try recipe.evaluate.tasks.map { try resolver.existing($0, key: "evaluate.tasks", what: "evaluation task file or directory") }
        return LoadedRecipe(recipe: recipe, file: file, projectRoot: projectRoot, runDirectory: run,
                            dataFiles: data, baseModelPath: model, taskPaths: tasks)
    }

    /// The tree of defaults, so that every key the recipe leaves out decodes to its documented default.
    static func defaultsTree() throws -> RecipeNode {
        try RecipeNode.parse(yaml: YAMLEncoder().encode(Recipe()), source: "(defaults)")
    }

    /// Applies one `key.path=value` flag.
    static func applyOverride(_ flag: String, to tree: RecipeNode) throws -> RecipeNode {
        let source = "--set \(flag)"
        guard let eq = flag.firstIndex(of: "=") else {
            throw RecipeError.invalid(file: source, line: 0, key: flag, message: "expected key.path=value, e.g. train.lora.rank=16")
        }
        let path = flag[..<eq].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !path.isEmpty, !path.contains(where: \.isEmpty) else {
            throw RecipeError.invalid(file: source, line: 0, key: String(flag[..<eq]), message: "empty key in the path")
        }
        var value = try RecipeNode.parse(yaml: String(flag[flag.index(after: eq)...]), source: source)
        if case .mapping(let entries) = value.kind, entries.isEmpty, flag.hasSuffix("=") {
            value = RecipeNode(kind: .scalar("", plain: true), source: source, line: 0)
        }
        value = value.relabelled(source: source)
        return tree.setting(path[...], to: value)
    }

    static func absolutePath(_ path: String, base: String) -> String {
        RunPaths.normalize(path.hasPrefix("/") ? path : base + "/" + path)
    }
}

extension RecipeNode {
    /// The same tree attributed to `source` with no line (for `--set` values).
    func relabelled(source: String) -> RecipeNode {
        var copy = self
        copy.source = source
        copy.line = 0
        switch kind {
        case .scalar: break
        case .sequence(let items): copy.kind = .sequence(items.map { $0.relabelled(source: source) })
        case .mapping(let entries):
            copy.kind = .mapping(entries.map { Entry(key: $0.key, keyLine: 0, value: $0.value.relabelled(source: source)) })
        }
        return copy
    }
}

/// Resolves input paths relative to the recipe file and checks that they exist.
struct InputResolver {
    let base: String
    let check: Bool
    let locate: (String) -> (String, Int)

    func error(_ key: String, _ message: String) -> RecipeError {
        let (file, line) = locate(key)
        return RecipeError.invalid(file: file, line: line, key: key, message: message)
    }

    func existing(_ path: String, key: String, what: String) throws -> String {
        let absolute = RecipeLoader.absolutePath(path, base: base)
        if check, !FileManager.default.fileExists(atPath: absolute) {
            throw error(key, "\(what) \"\(path)\" not found (looked at \(absolute)); paths are relative to the recipe file")
        }
        return absolute
    }

    func dataFiles(_ path: String, key: String, index: Int) throws -> [String] {
        let absolute = try existing(path, key: key, what: "data file")
        var isDirectory: ObjCBool = false
        guard check, FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [absolute]
        }
        let names = DurableFile.list(absolute).filter { $0.hasSuffix(".jsonl") || $0.hasSuffix(".csv") || $0.hasSuffix(".parquet") }
        guard !names.isEmpty else { throw error(key, "directory \"\(path)\" holds no .jsonl, .csv or .parquet files") }
        return names.map { absolute + "/" + $0 }
    }
}

/// Sorted-key JSON: the canonical text hashed for cache keys, recipe hashes and lineage chaining.
public enum CanonicalJSON {
    /// `value` encoded with sorted keys and unescaped slashes.
    public static func string<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
