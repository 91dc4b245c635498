import Testing
@testable import LatheFormats

@Suite("safetensors: broken and hostile files")
struct SafetensorsBrokenTests {
    /// 8-byte length + header text + data.
    static func file(_ header: String, data: Int) -> [UInt8] {
        var bytes = Bytes()
        bytes.u64(UInt64(header.utf8.count))
        bytes.data += header.utf8
        bytes.data += [UInt8](repeating: 0, count: data)
        return bytes.data
    }

    static func valid() throws -> [UInt8] {
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        try writer.add("a", shape: [2, 2], values: [1, 2, 3, 4])
        try writer.add("b", shape: [3], values: [5, 6, 7], as: .bf16)
        return try writer.serialized()
    }

    @Test func everyTruncationIsAnErrorNamingTheFile() throws {
        let bytes = try Self.valid()
        for length in 0 ..< bytes.count {
            expectFormatError(file: "cut-\(length)") { _ = try SafetensorsFile(bytes: Array(bytes[0 ..< length]), name: "cut-\(length)") }
        }
        #expect(try SafetensorsFile(bytes: bytes, name: "whole").tensors.count == 2)
    }

    @Test func everySingleByteCorruptionOfTheHeaderIsHandled() throws {
        let bytes = try Self.valid()
        let file = try SafetensorsFile(bytes: bytes, name: "ok")
        for position in 0 ..< file.dataStart {
            for value: UInt8 in [0x00, 0x22, 0x7D, 0xFF, 0x39] {
                var broken = bytes
                broken[position] = value
                // Either still valid (e.g. a changed digit in a name) or a FormatError; never a crash.
                do { _ = try SafetensorsFile(bytes: broken, name: "x") } catch let error as FormatError { #expect(error.file == "x") }
            }
        }
    }

    @Test(arguments: [
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, 12, "overlaps"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#, 16, "gap"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 4, "only 4"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 12, "after the last tensor"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#, 16, "duplicate key \"a\""),
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8, "needs 12 bytes"),
        (#"{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}"#, 8, "unknown dtype"),
        (#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}"#, 8, "overflows"),
        (#"{"a":{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,8]}}"#, 8, "overflows"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, 8, "before begin"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775800,9223372036854775807]}}"#, 8, "data_offsets span"),
        (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, 8, "not a size"),
        (#"{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, 8, "not a size"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#, 8, "two non-negative"),
        (#"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, 8, "dtype"),
        (#"{"a":[1]}"#, 0, "not a JSON object"),
        (#"{"__metadata__":{"k":1}}"#, 0, "not a string"),
        (#"{"__metadata__":[]}"#, 0, "not a JSON object"),
        (#" {}"#, 0, "start with '{'"),
        (#"[]"#, 0, "start with '{'"),
        (#"{"a":1"#, 0, "header JSON"),
        (#"{"F4":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#, 2, "whole bytes"),
    ])
    func rejectsInvalidHeaders(_ header: String, _ data: Int, _ fragment: String) {
        expectFormatError(file: "bad.safetensors", containing: fragment) {
            _ = try SafetensorsFile(bytes: Self.file(header, data: data), name: "bad.safetensors")
        }
    }

    @Test func rejectsHugeAndShortHeaderLengths() {
        var huge = Bytes()
        huge.u64(100_000_001)
        huge.data += Array("{}".utf8)
        expectFormatError(.badHeader, file: "h", containing: "100 MB") { _ = try SafetensorsFile(bytes: huge.data, name: "h") }
        var max = Bytes()
        max.u64(UInt64.max)
        expectFormatError(.badHeader, file: "m") { _ = try SafetensorsFile(bytes: max.data, name: "m") }
        var long = Bytes()
        long.u64(50)
        long.data += Array("{}".utf8)
        expectFormatError(.truncated, file: "l", containing: "past the end") { _ = try SafetensorsFile(bytes: long.data, name: "l") }
        expectFormatError(.truncated, file: "s", containing: "shorter than") { _ = try SafetensorsFile(bytes: [1, 2, 3], name: "s") }
        var utf = Bytes()
        utf.u64(4)
        utf.data += [0x7B, 0xFF, 0x7D, 0x20]
        expectFormatError(.badHeader, file: "u", containing: "UTF-8") { _ = try SafetensorsFile(bytes: utf.data, name: "u") }
    }

    @Test func emptyHeaderAndZeroSizedTensorsAreValid() throws {
        #expect(try SafetensorsFile(bytes: Self.file("{}", data: 0), name: "e").tensors.isEmpty)
        let header = #"{"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let file = try SafetensorsFile(bytes: Self.file(header, data: 4), name: "z")
        #expect(try file.floats("z").isEmpty)
        #expect(try file.floats("a") == [0])
    }

    @Test func missingFileIsAnIOError() {
        expectFormatError(.io, file: "/nonexistent/model.safetensors", containing: "cannot open") {
            _ = try SafetensorsFile(path: "/nonexistent/model.safetensors")
        }
        expectFormatError(.io, file: "/tmp", containing: "not a regular file") { _ = try SafetensorsFile(path: "/tmp") }
    }
}
