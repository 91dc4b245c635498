// swift-tools-version:6.0
// Lathe: LoRA fine-tuning of open-weight LLMs on the CPU, with nothing leaving the machine.
// Layering (arrows point down only): Tensors ← Models ← Training/Evaluation ← Recipes ← CLI;
// Formats, Jinja and Tokenizers depend on nothing above Tensors.
import PackageDescription

/// Optimisation for the modules with hot loops, in every configuration.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "Lathe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lathe", targets: ["lathe"]),
        .library(name: "LatheTensors", targets: ["LatheTensors"]),
        .library(name: "LatheFormats", targets: ["LatheFormats"]),
        .library(name: "LatheTokenizers", targets: ["LatheTokenizers"]),
        .library(name: "LatheModels", targets: ["LatheModels"]),
        .library(name: "LatheData", targets: ["LatheData"]),
        .library(name: "LatheTraining", targets: ["LatheTraining"]),
        .library(name: "LatheEvaluation", targets: ["LatheEvaluation"]),
        .library(name: "LatheRecipes", targets: ["LatheRecipes"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // System libraries from Debian/Ubuntu: libopenblas-dev and libzstd-dev (the Makefile installs them).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),

        // The numeric modules are optimised in debug builds too: their hot loops run 10–50× slower at -Onone,
        // which would make the test suite (finite differences, real-model tests) far too slow.
        .target(name: "LatheTensors", dependencies: ["CBLAS"], swiftSettings: optimized),
        .target(name: "LatheFormats", exclude: ["FORMAT.md"], swiftSettings: optimized),
        .target(name: "LatheJinja", dependencies: ["LatheFormats"]),
        .target(name: "LatheTokenizers", dependencies: ["LatheFormats", "LatheJinja"], swiftSettings: optimized),
        .target(name: "LatheModels", dependencies: ["LatheTensors", "LatheFormats", "LatheTokenizers"],
                swiftSettings: optimized),
        .target(name: "LatheTraining", dependencies: ["LatheTensors", "LatheModels"], swiftSettings: optimized),
        .target(name: "LatheCheckpoints", dependencies: ["CZstd", "LatheFormats"], exclude: ["FORMAT.md"],
                swiftSettings: optimized),
        .target(name: "LatheData", dependencies: ["LatheTensors", "LatheFormats"], exclude: ["README.md"], swiftSettings: optimized),
        .target(name: "LatheEvaluation", dependencies: ["LatheModels", "LatheTokenizers", "LatheJinja",
                                                       .product(name: "Yams", package: "Yams")]),
        .target(name: "LatheRecipes", dependencies: ["LatheCheckpoints", "LatheTraining", "LatheEvaluation", "LatheData",
                                                    .product(name: "Yams", package: "Yams")]),
        .executableTarget(name: "lathe", dependencies: [
            "LatheTensors", "LatheFormats", "LatheTokenizers", "LatheModels", "LatheTraining", "LatheCheckpoints",
            "LatheData", "LatheEvaluation", "LatheRecipes",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "LatheTensorsTests", dependencies: ["LatheTensors"]),
        .testTarget(name: "LatheFormatsTests", dependencies: ["LatheFormats"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheJinjaTests", dependencies: ["LatheJinja"]),
        .testTarget(name: "LatheTokenizersTests", dependencies: ["LatheTokenizers"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheModelsTests", dependencies: ["LatheModels", "LatheFormats", "LatheTensors"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheTrainingTests", dependencies: ["LatheTraining", "LatheModels", "LatheFormats"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheCheckpointsTests", dependencies: ["LatheCheckpoints"]),
        .testTarget(name: "LatheEvaluationTests", dependencies: ["LatheEvaluation"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheRecipesTests", dependencies: ["LatheRecipes"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheCLITests", dependencies: ["lathe"]),
        .testTarget(name: "LatheDataTests", dependencies: ["LatheData"],
                    resources: [.copy("Fixtures")]),
    ]
)
