import Foundation
import LatheTensors
import Testing

/// `lathe plan` end to end on a tiny model with long rows, planned against a given amount of memory
/// (`--memory-available`): the run that needs more is refused with status 1, naming the largest term and the change
/// that makes it fit, and that change does fit in the same memory.
@Suite struct PlanCommandTests {
    let project: TinyProject

    init() throws {
        project = try TinyProject(label: "plan", model: "tiny-llama/tiny-llama-F32.gguf", texts: ["a short record"],
                                  name: "long", seed: 1, sections: """
        tokenize:
          max_length: 2048
        train:
          lora: {rank: 4, alpha: 8}
          micro_batch_size: 32
          max_steps: 2

        """)
    }

    /// The memory terms (name, GB) `lathe plan` prints above its predicted peak.
    static func terms(_ output: String) -> [(name: String, gigabytes: Double)] {
        let lines = output.split(separator: "\n").map(String.init)
        return lines.prefix { !$0.hasPrefix("peak (predicted)") }.compactMap { line in
            guard line.count > 23, line.hasSuffix(" GB"), let value = Double(line.dropLast(3).split(separator: " ").last ?? "") else { return nil }
            return (String(line.prefix(22)).trimmingCharacters(in: .whitespaces), value)
        }
    }

    /// The predicted peak in GB from `lathe plan`'s output.
    static func predictedPeak(_ output: String) -> Double? {
        let line = output.split(separator: "\n").first { $0.hasPrefix("peak (predicted)") }
        return line?.split(separator: " ").dropLast().last.flatMap { Double($0) }
    }

    /// On a CPU with AVX2 and FMA (its /proc/cpuinfo flags), `lathe` runs OpenBLAS kernels that use them, even where
    /// OpenBLAS does not know the CPU and would fall back to its SSE3 "Prescott" kernels (`BLASCore`).
    @Test func runsOpenBLASKernelsForTheCPUsVectorUnits() throws {
        defer { project.remove() }
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let result = try CLI.run(["plan", project.recipe, "--memory-available", "10000GB"])
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("blas ") }, "\(result.stdout)")
        let core = line.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
        #expect(!core.isEmpty, "\(line)")
        if flags.contains("avx2") && flags.contains("fma") {
            #expect(!BLASCore.withoutAVX2.contains(core.lowercased()), "OpenBLAS runs \(core) kernels on a CPU with AVX2: \(line)")
        }
    }

    @Test func refusesWhatDoesNotFitNamingTheLargestTermAndTheChangeThatFits() throws {
        defer { project.remove() }
        let plenty = try CLI.run(["plan", project.recipe, "--memory-available", "10000GB"])
        #expect(plenty.status == 0, "\(plenty.stderr)")
        #expect(plenty.stdout.contains("(--memory-available)") && plenty.stdout.hasSuffix("fits\n"), "\(plenty.stdout)")
        let recomputed = try CLI.run(["plan", project.recipe, "--set", "train.recompute=true", "--memory-available", "10000GB"])
        #expect(recomputed.status == 0, "\(recomputed.stderr)")
        let full = try #require(Self.predictedPeak(plenty.stdout), "\(plenty.stdout)")
        let lean = try #require(Self.predictedPeak(recomputed.stdout), "\(recomputed.stdout)")
        #expect(lean < full - 0.1, "recomputation should lower the peak of 32 × 2048 rows: \(lean) vs \(full) GB")

        // Between the two peaks: only the recomputing configuration fits.
        let between = "\((full + lean) / 2)GB"
        let refused = try CLI.run(["plan", project.recipe, "--memory-available", between])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("peak (predicted)"), "the plan is printed before the refusal")
        let largest = try #require(Self.terms(plenty.stdout).max { $0.gigabytes < $1.gigabytes }, "\(plenty.stdout)")
        #expect(refused.stderr.contains("the largest term is \(largest.name)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("it fits with train.recompute: true"), "\(refused.stderr)")
        let fixed = try CLI.run(["plan", project.recipe, "--set", "train.recompute=true", "--memory-available", between])
        #expect(fixed.status == 0 && fixed.stdout.hasSuffix("fits\n"), "\(fixed.stdout)\(fixed.stderr)")

        // Below even the recomputing peak: the refusal names a smaller micro-batch or a shorter length instead.
        let tight = try CLI.run(["plan", project.recipe, "--set", "train.recompute=true", "--memory-available", "\(lean * 0.9)GB"])
        #expect(tight.status == 1)
        #expect(tight.stderr.contains("it fits with train.micro_batch_size: ") || tight.stderr.contains("it fits with tokenize.max_length: ")
                || tight.stderr.contains("no change of"), "\(tight.stderr)")
    }

    @Test func rejectsAMemorySizeItCannotRead() throws {
        defer { project.remove() }
        let result = try CLI.run(["plan", project.recipe, "--memory-available", "lots"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--memory-available 'lots' is not a size"), "\(result.stderr)")
    }
}
