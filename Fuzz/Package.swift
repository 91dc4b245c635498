// swift-tools-version:6.0
// The libFuzzer targets, one executable per reader of untrusted input. A separate package so that `swift build`
// and `make test` of the main package never build them; Fuzz/run.sh builds it with
// `swift build --sanitize=fuzzer --sanitize=address --sanitize=undefined --scratch-path .build-fuzz/spm`.
// Each target is compiled with -parse-as-library: libFuzzer supplies `main` and calls LLVMFuzzerTestOneInput.
import Foundation
import PackageDescription

/// The main package is the parent folder; SwiftPM names a path dependency by its folder's name.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let lathe = root.lastPathComponent

/// A libFuzzer executable from Fuzz/Sources/<name>/ depending on the given products of the main package.
func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name,
                      dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: lathe) },
                      path: "Sources/\(name)",
                      swiftSettings: [.unsafeFlags(["-parse-as-library"])])
}

let package = Package(
    name: "LatheFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
        fuzzTarget("FuzzSafetensors", ["LatheFormats"]),
        fuzzTarget("FuzzGGUF", ["LatheFormats"]),
        fuzzTarget("FuzzJSON", ["LatheFormats"]),
        fuzzTarget("FuzzTokenizerJSON", ["LatheTokenizers"]),
        fuzzTarget("FuzzGGUFTokenizer", ["LatheTokenizers", "LatheFormats"]),
        fuzzTarget("FuzzChatTemplate", ["LatheTokenizers", "LatheJinja"]),
        fuzzTarget("FuzzRecipe", ["LatheRecipes"]),
        fuzzTarget("FuzzTaskYAML", ["LatheEvaluation"]),
        fuzzTarget("FuzzTaskData", ["LatheEvaluation"]),
        fuzzTarget("FuzzCSV", ["LatheData"]),
        fuzzTarget("FuzzJSONL", ["LatheData"]),
        fuzzTarget("FuzzParquet", ["LatheData", "LatheFormats"]),
        fuzzTarget("FuzzModelConfig", ["LatheModels", "LatheFormats", "LatheTensors"]),
        fuzzTarget("FuzzPEFTAdapter", ["LatheModels"]),
        fuzzTarget("FuzzCheckpoint", ["LatheCheckpoints"]),
        fuzzTarget("FuzzTokenShard", ["LatheRecipes"]),
        fuzzTarget("FuzzServeRequest", ["LatheServe", "LatheModels", "LatheTokenizers"]),
        fuzzTarget("FuzzLineage", ["LatheRecipes"]),
        // Not a libFuzzer target: runs the parallel cleaning and tokenizing paths over a corpus under TSan.
        .executableTarget(name: "ThreadCheck", dependencies: [.product(name: "LatheData", package: lathe), .product(name: "LatheSupport", package: lathe),
                                                              .product(name: "LatheTokenizers", package: lathe)],
                          path: "Sources/ThreadCheck"),
    ]
)
