// swift-tools-version:6.0
// Lathe: LoRA fine-tuning of open-weight LLMs on the CPU, with nothing leaving the machine.
//
// Layering: a module depends only on modules listed above it, and each target below declares exactly the modules
// its files import (tests likewise).
//   LatheSupport      parallel loops, thread budget, SplitMix64 / CounterRandom, SHA-256, the `Communicator` protocol —
//                     no dependency, no BLAS, no MPI
//   LatheDistributed  `MPICommunicator` over Open MPI (C shim CLatheMPI over the CMPI module map): Support
//   CLatheKernels     C: decode dot products of 4/8-bit weight blocks with fp32 activations (bytes widened to
//                     lanes from memory) and with 8-bit ones (AVX2's byte multiply-adds), which Swift's SIMD types
//                     cannot express, and the CPU's vector level — no dependency
//   LatheFormats      safetensors, GGUF, JSON, Parquet structure, and `Zstd`, the one zstd wrapper (checkpoints,
//                     token shards, Parquet pages) — libzstd, CLatheKernels
//   LatheTensors      fp32 kernels: Support + OpenBLAS (it hands Support's thread budget to BLAS and picks its
//                     kernels where OpenBLAS does not know the CPU), CLatheKernels
//   LatheJinja        sandboxed chat templates: Formats
//   LatheTokenizers   tokenizer.json / GGUF tokenizers, chat templates and `ChatMessage`: Formats, Jinja
//   LatheCheckpoints  zstd checkpoints and token shards: Support, Formats (its `Zstd`)
//   LatheData         cleaning: Support, Tokenizers, and snappy/zlib (zstd through Formats' `Zstd`) to decompress the
//                     Parquet pages that LatheFormats parses (Formats takes the decompressor as a value).
//                     No BLAS. A chat record's messages are the `ChatMessage`s the chat template renders, so the
//                     message type lives with the template in LatheTokenizers (it carries tool calls as template
//                     values) and the cleaner reuses it instead of a copy.
//   LatheModels       decoder forward/backward, LoRA (`LoRAConfig`, the one set of adapter defaults), exports:
//                     Support, Tensors, Formats, Tokenizers
//   LatheTraining     trainer, AdamW, batching: Support, Tokenizers, Models (kernels only through Models)
//   LatheEvaluation   lm-eval tasks: Support, Formats, Jinja, Tokenizers, Models + Yams
//   LatheRecipes      recipe, stages, cache, lineage, report: everything above except Distributed and Jinja + Yams
//   LatheServe        `lathe serve`: OpenAI-style HTTP over Formats, Tokenizers, Models + Hummingbird,
//                     swift-prometheus
//   lathe             the CLI: parses flags, renders events, starts the MPI job + ArgumentParser
import Foundation
import PackageDescription

/// The CPU the numeric modules are compiled for. Their SIMD loops (`SIMD16<Float>` and the like) use whatever vector
/// registers the target has: built for baseline x86-64 they run in 128-bit SSE registers without F16C. On an x86-64
/// host whose /proc/cpuinfo lists every Haswell feature (AVX2, FMA, F16C, BMI1/2, MOVBE, LZCNT) they are compiled
/// for `haswell`, as llama.cpp builds for the host by default; such a binary needs those features where it runs.
/// `LATHE_TARGET_CPU=x86-64 swift build` (or any CPU name LLVM knows) overrides the choice. Swift neither contracts
/// `a * b + c` into a fused multiply-add nor reorders floating-point sums, so the arithmetic is the same either way.
let targetCPU: String? = {
    if let chosen = ProcessInfo.processInfo.environment["LATHE_TARGET_CPU"], !chosen.isEmpty { return chosen }
    #if os(Linux) && arch(x86_64)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let present = Set(flags.split(separator: " ").map(String.init))
    let haswell = ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "movbe", "abm", "popcnt"]
    return haswell.allSatisfy(present.contains) ? "haswell" : nil
    #else
    return nil
    #endif
}()

/// Optimisation for the modules with hot loops, in every configuration.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"] + (targetCPU.map { ["-target-cpu", $0] } ?? []))]
/// The same for C: clang's `-march` takes LLVM's CPU names. Without one, the kernels compile their portable bodies.
let optimizedC: [CSetting] = [.unsafeFlags(["-O2"] + (targetCPU.map { ["-march=\($0)"] } ?? []))]

let package = Package(
    name: "Lathe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lathe", targets: ["lathe"]),
        .library(name: "LatheSupport", targets: ["LatheSupport"]),
        .library(name: "LatheTensors", targets: ["LatheTensors"]),
        .library(name: "LatheDistributed", targets: ["LatheDistributed"]),
        .library(name: "LatheFormats", targets: ["LatheFormats"]),
        .library(name: "LatheJinja", targets: ["LatheJinja"]),
        .library(name: "LatheTokenizers", targets: ["LatheTokenizers"]),
        .library(name: "LatheModels", targets: ["LatheModels"]),
        .library(name: "LatheData", targets: ["LatheData"]),
        .library(name: "LatheCheckpoints", targets: ["LatheCheckpoints"]),
        .library(name: "LatheTraining", targets: ["LatheTraining"]),
        .library(name: "LatheEvaluation", targets: ["LatheEvaluation"]),
        .library(name: "LatheRecipes", targets: ["LatheRecipes"]),
        .library(name: "LatheServe", targets: ["LatheServe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        // System libraries from Debian/Ubuntu: libopenblas-dev, libzstd-dev, libopenmpi-dev (the Makefile installs them).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSnappy", path: "Sources/CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "CLatheMPI", dependencies: ["CMPI"]),

        // The numeric modules are optimised in debug builds too: their hot loops run 10–50× slower at -Onone,
        // which would make the test suite (finite differences, real-model tests) far too slow.
        .target(name: "LatheSupport", swiftSettings: optimized),
        .target(name: "LatheTensors", dependencies: ["CBLAS", "CLatheKernels", "LatheSupport"], swiftSettings: optimized),
        .target(name: "LatheDistributed", dependencies: ["CLatheMPI", "LatheSupport"]),
        .target(name: "CLatheKernels", cSettings: optimizedC),
        .target(name: "LatheFormats", dependencies: ["CZstd", "CLatheKernels"], exclude: ["FORMAT.md"], swiftSettings: optimized),
        .target(name: "LatheJinja", dependencies: ["LatheFormats"]),
        .target(name: "LatheTokenizers", dependencies: ["LatheFormats", "LatheJinja"], swiftSettings: optimized),
        .target(name: "LatheCheckpoints", dependencies: ["LatheSupport", "LatheFormats"], exclude: ["FORMAT.md"],
                swiftSettings: optimized),
        .target(name: "LatheData", dependencies: ["CSnappy", "CZlib", "LatheSupport", "LatheFormats", "LatheTokenizers"],
                exclude: ["README.md"],
                swiftSettings: optimized),
        .target(name: "LatheModels", dependencies: ["LatheSupport", "LatheTensors", "LatheFormats", "LatheTokenizers"],
                swiftSettings: optimized),
        .target(name: "LatheTraining", dependencies: ["LatheSupport", "LatheTokenizers", "LatheModels"], swiftSettings: optimized),
        .target(name: "LatheEvaluation", dependencies: ["LatheSupport", "LatheFormats", "LatheJinja", "LatheTokenizers", "LatheModels",
                                                       .product(name: "Yams", package: "Yams")]),
        .target(name: "LatheRecipes", dependencies: ["LatheSupport", "LatheFormats", "LatheTensors", "LatheTokenizers", "LatheModels",
                                                    "LatheCheckpoints", "LatheData", "LatheTraining", "LatheEvaluation",
                                                    .product(name: "Yams", package: "Yams")],
                exclude: ["LINEAGE.md"]),
        .target(name: "LatheServe", dependencies: ["LatheFormats", "LatheTokenizers", "LatheModels",
                                                  .product(name: "Hummingbird", package: "hummingbird"),
                                                  .product(name: "NIOCore", package: "swift-nio"),
                                                  .product(name: "Prometheus", package: "swift-prometheus")]),
        .executableTarget(name: "lathe", dependencies: [
            "LatheSupport", "LatheTensors", "LatheDistributed", "LatheFormats", "LatheTokenizers", "LatheModels", "LatheData",
            "LatheTraining", "LatheEvaluation", "LatheRecipes", "LatheCheckpoints", "LatheServe",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "LatheSupportTests", dependencies: ["LatheSupport"]),
        .testTarget(name: "LatheTensorsTests", dependencies: ["LatheSupport", "LatheTensors"]),
        .testTarget(name: "LatheDistributedTests", dependencies: ["LatheSupport", "LatheDistributed"]),
        .testTarget(name: "LatheFormatsTests", dependencies: ["LatheFormats"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheJinjaTests", dependencies: ["LatheSupport", "LatheJinja"]),
        .testTarget(name: "LatheTokenizersTests", dependencies: ["LatheFormats", "LatheJinja", "LatheTokenizers"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheModelsTests", dependencies: ["LatheFormats", "LatheTokenizers", "LatheModels"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheTrainingTests", dependencies: ["LatheSupport", "LatheFormats", "LatheTokenizers", "LatheModels",
                                                             "LatheTraining"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheCheckpointsTests", dependencies: ["LatheSupport", "LatheFormats", "LatheCheckpoints"]),
        .testTarget(name: "LatheEvaluationTests", dependencies: ["LatheFormats", "LatheJinja", "LatheTokenizers", "LatheModels", "LatheEvaluation"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheRecipesTests", dependencies: ["LatheFormats", "LatheModels", "LatheData", "LatheTraining", "LatheRecipes",
                                                            "LatheCheckpoints"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheCLITests", dependencies: ["lathe", "LatheTensors"]),
        .testTarget(name: "LatheServeTests", dependencies: ["LatheSupport", "LatheFormats", "LatheModels", "LatheServe"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheDataTests", dependencies: ["LatheSupport", "LatheFormats", "LatheData"],
                    resources: [.copy("Fixtures")]),
    ]
)
