#if canImport(Glibc)
import Glibc
#endif
import CBLAS
import CLatheKernels

/// Which of OpenBLAS's kernels run here. OpenBLAS built with DYNAMIC_ARCH (Debian's, Ubuntu's) picks them by CPU
/// model as it loads, and a model its version does not know gets its generic SSE3 kernels ("Prescott"): Debian
/// bookworm's 0.3.21 takes Intel's Emerald Rapids (family 6, model 207) for one, and ran sgemm there at 59 GFLOP/s on
/// 2 cores against 223–304 GFLOP/s with its SkylakeX kernels, which that CPU runs. OpenBLAS reads
/// `OPENBLAS_CORETYPE` only while it loads, before any of Lathe's code runs, so `lathe` sets it and executes itself
/// again (`useBestKernels`). A core the user named in `OPENBLAS_CORETYPE` is kept.
public enum BLASCore {
    /// The kernels OpenBLAS runs, e.g. "SkylakeX", "Zen", "Prescott".
    public static var name: String { String(cString: openblas_get_corename()) }

    /// The core OpenBLAS chose before `lathe` named a better one, or nil when it did not.
    public static var replaced: String? { environment(replacedVariable) }

    /// What `lathe` reports about the kernels: the core, and the core OpenBLAS chose when `lathe` replaced it.
    public static var summary: String {
        replaced.map { "OpenBLAS \(name) kernels (chosen by Lathe: OpenBLAS took this CPU for \($0))" } ?? "OpenBLAS \(name) kernels"
    }

    /// OpenBLAS's cores without AVX2, lower-cased: what it falls back to and what it gives CPUs older than Haswell.
    public static let withoutAVX2: Set<String> = [
        "prescott", "katmai", "coppermine", "northwood", "banias", "core2", "penryn", "dunnington", "nehalem", "atom",
        "sandybridge", "athlon", "opteron", "opteron_sse3", "barcelona", "bobcat", "bulldozer", "piledriver", "steamroller",
    ]

    /// The core to run instead of `chosen` on a CPU of `vectorLevel` (`lathe_cpu_vector_level`): SkylakeX with
    /// AVX-512, Haswell with AVX2 and FMA, and nil when `chosen` already uses AVX2 (OpenBLAS knows the CPU), when the
    /// CPU has neither, or when the user named a core (`userChoice`, the value of `OPENBLAS_CORETYPE`).
    public static func better(chosen: String, vectorLevel: Int, userChoice: String?) -> String? {
        guard userChoice?.isEmpty ?? true, withoutAVX2.contains(chosen.lowercased()) else { return nil }
        switch vectorLevel {
        case 2...: return "SkylakeX"
        case 1: return "Haswell"
        default: return nil
        }
    }

    /// Executes this program again with `OPENBLAS_CORETYPE` naming the better core when `better` finds one, so the
    /// process runs with it from the start; returns when there is none, or when the program cannot be executed again
    /// (then it runs on with OpenBLAS's choice). Call first thing in `main`, before any thread or MPI starts.
    public static func useBestKernels() {
        guard let core = better(chosen: name, vectorLevel: Int(lathe_cpu_vector_level()),
                                userChoice: environment("OPENBLAS_CORETYPE")) else { return }
        setenv(replacedVariable, name, 1)
        setenv("OPENBLAS_CORETYPE", core, 1)
        let arguments = CommandLine.unsafeArgv
        execv("/proc/self/exe", arguments)
        // Still here: exec failed (no /proc). Undo, so the environment does not claim kernels that are not running.
        unsetenv(replacedVariable)
        unsetenv("OPENBLAS_CORETYPE")
    }

    /// The environment variables `useBestKernels` set in this process (empty when it set none): a program `lathe`
    /// runs as a peer, with its own libraries, leaves them out and chooses its kernels itself.
    public static var variablesSet: [String] { replaced == nil ? [] : ["OPENBLAS_CORETYPE", replacedVariable] }

    private static let replacedVariable = "LATHE_OPENBLAS_DETECTED_CORE"

    private static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
