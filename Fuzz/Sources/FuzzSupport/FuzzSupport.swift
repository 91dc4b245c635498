// Helpers shared by the libFuzzer targets: the input as bytes, scratch files for readers that take a path,
// and splitting one input into several parts (template and messages, config and weights).
import Foundation

/// The fuzzer's input as an array.
public func fuzzBytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    [UInt8](UnsafeBufferPointer(start: data, count: size))
}

/// A private scratch directory for this process (libFuzzer runs one input at a time per process).
public let fuzzScratch: String = {
    var template = Array("\(NSTemporaryDirectory())/lathe-fuzz-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "cannot create a scratch directory under \(NSTemporaryDirectory())")
    return String(cString: made!)
}()

/// Writes `bytes` to `name` in the scratch directory (creating parent folders) and returns the path.
@discardableResult
public func writeScratch(_ name: String, _ bytes: some Collection<UInt8>) -> String {
    let path = "\(fuzzScratch)/\(name)"
    let parent = (path as NSString).deletingLastPathComponent
    try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write \(path)")
    return path
}

/// The parts of `bytes` separated by `separator` (a byte the dictionaries also hold, so the fuzzer keeps the shape).
public func splitParts(_ bytes: [UInt8], separator: UInt8 = 0) -> [ArraySlice<UInt8>] {
    bytes.split(separator: separator, omittingEmptySubsequences: false)
}

/// Lossless-enough text of a byte slice: invalid UTF-8 becomes U+FFFD, as when a file is read as text.
public func text(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

/// Texts every fuzzed tokenizer encodes: mixed scripts, digits, special-token text, SentencePiece's `▁`, and one
/// 4 KiB word (the probe for quadratic BPE merging under `-timeout`).
public let tokenizerProbes = [
    "Hello world, 123 ça va? <|im_start|>user\n<s></s>[INST]",
    "▁spaces  and\ttabs\r\nand é (e\u{301}) 한국어 \u{FFFD}",
    String(repeating: "ab", count: 2048),
]
