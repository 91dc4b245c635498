import ArgumentParser
import Foundation
import LatheData
import LatheModels
import LatheSupport
import LatheTraining

/// `--threads`, shared by every command that runs parallel work: validated before `run()`, so a bad count is a
/// usage error (exit code 64) and never reaches `Parallel.configure`'s precondition.
struct ThreadOptions: ParsableArguments {
    /// The largest thread count accepted: far above any machine Lathe runs on, low enough to catch a typo.
    static let maximum = 1024

    @Option(help: ArgumentHelp("Threads for Lathe and OpenBLAS together, 1…\(ThreadOptions.maximum) (default: all cores; per rank under mpirun or srun, where training defaults to cores ÷ ranks on the host).",
                               valueName: "n"))
    var threads: Int?

    func validate() throws {
        if let threads, !(1...Self.maximum).contains(threads) {
            throw ValidationError("--threads must be between 1 and \(Self.maximum) (got \(threads))")
        }
    }

    /// The thread count in effect: the flag, else one per core.
    var count: Int { threads ?? Parallel.availableCores }

    /// Sets the thread count of Lathe's loops and OpenBLAS.
    func configure() { Parallel.configure(threads: count) }
}

/// `--base-format`, shared by every command that loads a base model (`train.base_format` in a recipe).
struct BaseFormatOption: ParsableArguments {
    @Option(name: .customLong("base-format"),
            help: ArgumentHelp("How the frozen base is held: auto (the file's form when it is quantised or 16-bit), f32, or quantised on load to bf16 or q8_0.",
                               valueName: "format"))
    var format = BaseFormat.auto
}

/// `--decode-activations`, shared by the commands that decode token by token (`generate`, `serve`).
struct DecodeActivationsOption: ParsableArguments {
    @Option(name: .customLong("decode-activations"),
            help: ArgumentHelp("How decode steps (and, with q8, prompts of up to 16 tokens) multiply by a Q4_0/Q4_1/Q8_0 base: fp32 (dequantised weights times fp32 activations, as transformers) or q8 (activations rounded to 8 bits per 32 values and integer dots, as llama.cpp: faster, logits about 1e-2 off fp32).",
                               valueName: "kind"))
    var activations = DecodeActivations.fp32
}

// Enumerated option values: each library enum is the one vocabulary, its raw values the spellings on the command
// line; ArgumentParser lists them in --help and turns any other spelling into a usage error that lists them.
extension CleanKind: ExpressibleByArgument {}
extension RecordFormat: ExpressibleByArgument {}
extension TextFolderMode: ExpressibleByArgument {}
extension TextNormalizer.Form: ExpressibleByArgument {}
extension PIIType: ExpressibleByArgument {}
extension LearningRateSchedule.Kind: ExpressibleByArgument {}
extension TargetTokens: ExpressibleByArgument {}
extension ExportFormat: ExpressibleByArgument {}
extension BaseFormat: ExpressibleByArgument {}
extension ExportDType: ExpressibleByArgument {}
extension DecodeActivations: ExpressibleByArgument {}

/// Splits a comma-separated option value; nil when an element is empty (`a,,b`, a trailing comma).
private func commaSeparated(_ argument: String) -> [String]? {
    let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    return parts.contains(where: \.isEmpty) ? nil : parts
}

/// `--pii`: `all`, `none`, or a comma-separated list of PII types.
enum PIISelection: ExpressibleByArgument, Equatable {
    case all, none
    case only(Set<PIIType>)

    init?(argument: String) {
        switch argument {
        case "all": self = .all
        case "none": self = .none
        default:
            guard let names = commaSeparated(argument) else { return nil }
            var types: Set<PIIType> = []
            for name in names {
                guard let type = PIIType(argument: name) else { return nil }
                types.insert(type)
            }
            self = .only(types)
        }
    }

    static var allValueStrings: [String] { ["all", "none"] + PIIType.allValueStrings }

    var defaultValueDescription: String {
        switch self {
        case .all: return "all"
        case .none: return "none"
        case .only(let types): return types.map(\.rawValue).sorted().joined(separator: ",")
        }
    }
}

/// `--languages`: a comma-separated list of the labels the language detector gives.
struct LanguageList: ExpressibleByArgument {
    var codes: [String]

    init?(argument: String) {
        guard let codes = commaSeparated(argument), codes.allSatisfy(LanguageDetector.labels.contains) else { return nil }
        self.codes = codes
    }

    static var allValueStrings: [String] { LanguageDetector.labels }
    var defaultValueDescription: String { codes.joined(separator: ",") }
}

/// `--targets`: `all-linear` or a comma-separated list of projections, as PEFT's `target_modules`.
struct LoRATargets: ExpressibleByArgument {
    var modules: [LatheModels.LoRAConfig.Module]
    private var argument: String

    init?(argument: String) {
        guard let names = commaSeparated(argument),
              let modules = try? LatheModels.LoRAConfig.modules(named: names) else { return nil }
        self.modules = modules
        self.argument = argument
    }

    /// `LoRAConfig`'s default targets, spelled `all-linear` when they are every projection.
    static var defaults: LoRATargets {
        let modules = LatheModels.LoRAConfig().targets
        let all = Set(modules) == Set(LatheModels.LoRAConfig.Module.allCases)
        return LoRATargets(modules: modules, argument: all ? "all-linear" : modules.map(\.rawValue).joined(separator: ","))
    }

    private init(modules: [LatheModels.LoRAConfig.Module], argument: String) {
        self.modules = modules
        self.argument = argument
    }

    static var allValueStrings: [String] { ["all-linear"] + LatheModels.LoRAConfig.Module.allCases.map(\.rawValue) }
    var defaultValueDescription: String { argument }
}
