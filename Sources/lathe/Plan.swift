import ArgumentParser
import Foundation
import LatheModels
import LatheRecipes
import LatheSupport
import LatheTensors

/// `lathe plan RECIPE`: the predicted peak memory of the recipe's training, term by term, and its time from this
/// machine's measured sgemm rate; exits 1 when the run would not fit in the memory available.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict a recipe's training peak memory (base, LoRA + AdamW, activations, workspace, logits) and time; refuse when it does not fit."
    )

    @OptionGroup var arguments: RecipeArguments

    @Option(name: .customLong("memory-available"),
            help: ArgumentHelp("Plan against this much memory instead of this machine's MemAvailable, e.g. 16GB, 512MiB (planning for another machine).",
                               valueName: "size"))
    var memoryAvailable: String?

    func validate() throws {
        if let memoryAvailable, TrainingPlan.parseBytes(memoryAvailable) == nil {
            throw ValidationError("--memory-available '\(memoryAvailable)' is not a size: give bytes or a number with KB, MB, GB, KiB, MiB or GiB, e.g. 16GB")
        }
    }

    func run() throws {
        let loaded: LoadedRecipe
        do { loaded = try arguments.load() } catch { throw failWith(error) }
        let threads = loaded.recipe.train.threads > 0 ? loaded.recipe.train.threads : Parallel.availableCores
        Parallel.configure(threads: threads)
        let rate = SgemmRate.measure()
        let plan: TrainingPlan
        do { plan = try TrainingPlan.forRecipe(loaded, gflops: rate) } catch { throw failWith(error) }
        print(render(plan, gflops: rate))
        print("blas       \(BLASCore.summary)")
        let given = memoryAvailable.flatMap(TrainingPlan.parseBytes)
        guard let available = given ?? TrainingPlan.availableBytes() else {
            print("available memory: unknown (/proc/meminfo unreadable)")
            return
        }
        print("available  \(TrainingPlan.gigabytes(available)) (\(given == nil ? "MemAvailable" : "--memory-available"))")
        do { try plan.checkFits(available: available) } catch { throw failWith(error) }
        print("fits")
    }
}

/// The plan as text: one line per memory term, the total, and the time per step (and for the run when its
/// steps are known).
func render(_ plan: TrainingPlan, gflops: Double) -> String {
    var lines = plan.terms.map { "\($0.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(TrainingPlan.gigabytes($0.bytes))" }
    lines.append("peak (predicted)       \(TrainingPlan.gigabytes(plan.peakBytes))")
    var time = "time       \(format(plan.secondsPerStep, decimals: 2)) s/step (\(format(plan.flopsPerStep / 1e12, decimals: 2)) TFLOP at \(Int(100 * TrainingPlan.efficiency))% of \(format(gflops)) GFLOP/s sgemm)"
    if plan.steps > 0 { time += ", \(format(plan.secondsPerStep * Double(plan.steps) / 60, decimals: 1)) min for \(plan.steps) steps" }
    lines.append(time)
    return lines.joined(separator: "\n")
}
