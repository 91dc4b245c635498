// swift-tools-version:6.0
// Lathe: LoRA fine-tuning of open-weight LLMs on the CPU, with nothing leaving the machine.
// Layering (arrows point down only): Tensors ← Models ← Training/Evaluation ← Recipes ← CLI;
// Formats, Jinja and Tokenizers depend on nothing above Tensors.
import PackageDescription

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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries from Debian/Ubuntu: libopenblas-dev and libzstd-dev (the Makefile installs them).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),

        .target(name: "LatheTensors", dependencies: ["CBLAS"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "LatheFormats"),
        .target(name: "LatheJinja"),
        .target(name: "LatheTokenizers", dependencies: ["LatheFormats", "LatheJinja"]),
        .target(name: "LatheModels", dependencies: ["LatheTensors", "LatheFormats", "LatheTokenizers"]),
        .target(name: "LatheCheckpoints", dependencies: ["CZstd", "LatheFormats"]),
        .target(name: "LatheData", dependencies: ["LatheTensors"], exclude: ["README.md"]),
        .executableTarget(name: "lathe", dependencies: [
            "LatheTensors", "LatheFormats", "LatheTokenizers", "LatheModels", "LatheCheckpoints", "LatheData",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "LatheTensorsTests", dependencies: ["LatheTensors"]),
        .testTarget(name: "LatheFormatsTests", dependencies: ["LatheFormats"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheJinjaTests", dependencies: ["LatheJinja"]),
        .testTarget(name: "LatheTokenizersTests", dependencies: ["LatheTokenizers"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheModelsTests", dependencies: ["LatheModels"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatheCheckpointsTests", dependencies: ["LatheCheckpoints"]),
        .testTarget(name: "LatheCLITests", dependencies: ["lathe"]),
        .testTarget(name: "LatheDataTests", dependencies: ["LatheData"],
                    resources: [.copy("Fixtures")]),
    ]
)
