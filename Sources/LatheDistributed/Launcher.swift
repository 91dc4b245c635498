import LatheSupport
#if canImport(Glibc)
import Glibc
#endif

/// How this process was started: by a launcher that made it one rank of a job (`mpirun`, `srun`), or alone.
public enum Launcher: Equatable, Sendable {
    case none
    case openMPI
    case pmix
    case slurm

    /// The launcher named by the environment: Open MPI's `mpirun` sets OMPI_COMM_WORLD_SIZE, PMIx launchers set
    /// PMIX_RANK, Slurm's `srun` sets SLURM_STEP_ID and SLURM_NTASKS (an `sbatch` script alone sets no step).
    public static func detect(_ environment: [String: String]) -> Launcher {
        if environment["OMPI_COMM_WORLD_SIZE"] != nil { return .openMPI }
        if environment["PMIX_RANK"] != nil { return .pmix }
        if environment["SLURM_STEP_ID"] != nil, environment["SLURM_NTASKS"] != nil { return .slurm }
        return .none
    }

    /// This process's environment.
    public static var processEnvironment: [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }
}

/// The job this process belongs to: MPI when a launcher started it, one process otherwise.
public enum Job {
    /// The communicator for this process: `MPICommunicator` (MPI initialised) under a launcher, else `SingleProcess`.
    public static func start(environment: [String: String] = Launcher.processEnvironment) throws -> any Communicator {
        Launcher.detect(environment) == .none ? SingleProcess() : try MPICommunicator()
    }

    /// Ends a job normally: finalises MPI when it was initialised.
    public static func finish(_ communicator: any Communicator) throws {
        try (communicator as? MPICommunicator)?.finalize()
    }

    /// Ends the whole job after `error` on this rank: one rank failing takes the others down (a rank alone would
    /// wait for them forever in the next collective), with the launcher reporting a non-zero exit.
    public static func abort(_ communicator: any Communicator, code: Int32 = 1) -> Never {
        if let mpi = communicator as? MPICommunicator, mpi.size > 1 { mpi.abort(code) }
        exit(code)
    }
}
