import Foundation
import Testing
@testable import LatheFormats

/// Fixture files and small helpers shared by the LatheFormats tests.
enum Fixture {
    static let root: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(relative)))
    }

    static func floats(_ relative: String) throws -> [Float] {
        try bytes(relative).withUnsafeBytes { raw in
            (0 ..< raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    static func halves(_ relative: String) throws -> [UInt16] {
        try bytes(relative).withUnsafeBytes { raw in
            (0 ..< raw.count / 2).map { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
        }
    }

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// A fresh temporary directory, removed when the value is deinitialised.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "lathe-formats-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
    }
}

/// Runs `body`, expecting a `FormatError` that names `file` and whose text contains `fragment`; returns it.
@discardableResult
func expectFormatError(_ kind: FormatError.Kind? = nil, file: String, containing fragment: String = "",
                       sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> FormatError? {
    do {
        try body()
        Issue.record("expected a FormatError containing \"\(fragment)\", got success", sourceLocation: sourceLocation)
    } catch let error as FormatError {
        #expect(error.file == file, sourceLocation: sourceLocation)
        #expect(fragment.isEmpty || error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
        if let kind { #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation) }
        return error
    } catch {
        Issue.record("expected a FormatError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Bit-exact comparison of two fp32 arrays, reporting the first mismatch.
func expectBitExact(_ actual: [Float], _ expected: [Float], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    for i in 0 ..< min(actual.count, expected.count) where actual[i].bitPattern != expected[i].bitPattern {
        Issue.record("\(what)[\(i)] = \(actual[i]) (0x\(String(actual[i].bitPattern, radix: 16))), expected \(expected[i]) (0x\(String(expected[i].bitPattern, radix: 16)))",
                     sourceLocation: sourceLocation)
        return
    }
}

/// Little-endian byte building for hand-made broken files.
struct Bytes {
    var data: [UInt8] = []
    mutating func u8(_ v: UInt8) { data.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data += $0 } }
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); data += s.utf8 }
    mutating func pad(to alignment: Int) { while data.count % alignment != 0 { data.append(0) } }
}
