import LatheDistributed
import LatheSupport
import Testing

/// Which launcher started the process, from the variables each one sets; without one, no MPI is initialised.
@Suite struct LauncherTests {
    @Test func launcherIsReadFromTheEnvironment() {
        #expect(Launcher.detect([:]) == .none)
        #expect(Launcher.detect(["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "1"]) == .openMPI)
        #expect(Launcher.detect(["PMIX_RANK": "0"]) == .pmix)
        #expect(Launcher.detect(["SLURM_STEP_ID": "0", "SLURM_NTASKS": "4"]) == .slurm)
        // An sbatch script sets SLURM_JOB_ID and SLURM_NTASKS but starts no job step: still one process.
        #expect(Launcher.detect(["SLURM_JOB_ID": "17", "SLURM_NTASKS": "4"]) == .none)
    }

    @Test func withoutALauncherTheJobIsOneProcess() throws {
        let communicator = try Job.start(environment: ["HOME": "/root"])
        #expect(communicator is SingleProcess)
        #expect(communicator.size == 1)
        try Job.finish(communicator)
    }
}
