import Testing
@testable import LatheFormats

/// A hand-assembled GGUF, so tests can write what `GGUFWriter` refuses to.
struct RawGGUF {
    struct Tensor {
        var name: String
        var ne: [Int64]
        var type: UInt32 = 0
        var offset: UInt64 = 0
        var dims: UInt32? = nil
    }

    var version: UInt32 = 3
    var kv: [(key: String, write: (inout Bytes) -> Void)] = []
    var tensors: [Tensor] = []
    var tensorCount: UInt64? = nil
    var kvCount: UInt64? = nil
    var alignment = 32
    var data = 0

    mutating func add(_ key: String, u32 value: UInt32) { kv.append((key, { $0.u32(4); $0.u32(value) })) }
    mutating func add(_ key: String, string value: String) { kv.append((key, { $0.u32(8); $0.string(value) })) }

    var bytes: [UInt8] {
        var b = Bytes()
        b.data += Array("GGUF".utf8)
        b.u32(version)
        b.u64(tensorCount ?? UInt64(tensors.count))
        b.u64(kvCount ?? UInt64(kv.count))
        for (key, write) in kv {
            b.string(key)
            write(&b)
        }
        for t in tensors {
            b.string(t.name)
            b.u32(t.dims ?? UInt32(t.ne.count))
            for d in t.ne { b.i64(d) }
            b.u32(t.type)
            b.u64(t.offset)
        }
        b.pad(to: alignment)
        b.data += [UInt8](repeating: 0, count: data)
        return b.data
    }
}

@Suite("GGUF: broken and hostile files")
struct GGUFBrokenTests {
    static func valid() throws -> [UInt8] {
        var writer = GGUFWriter()
        try writer.set("general.architecture", .string("llama"))
        try writer.set("tokenizer.ggml.tokens", .array([.string("<s>"), .string("a")]))
        try writer.set("llama.block_count", .uint32(1))
        try writer.addTensor("a", shape: [2, 32], values: [Float](repeating: 1, count: 64), as: .q8_0)
        try writer.addTensor("b", shape: [3], values: [1, 2, 3], as: .f16)
        return try writer.serialized()
    }

    func reject(_ raw: RawGGUF, _ kind: FormatError.Kind, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        expectFormatError(kind, file: "bad.gguf", containing: fragment, sourceLocation: sourceLocation) {
            _ = try GGUFFile(bytes: raw.bytes, name: "bad.gguf")
        }
    }

    @Test func everyTruncationIsAnErrorNamingTheFile() throws {
        let bytes = try Self.valid()
        let whole = try GGUFFile(bytes: bytes, name: "whole")
        #expect(whole.tensors.count == 2)
        let lastEnd = whole.dataStart + whole.tensors.map { $0.offset + $0.byteCount }.max()!
        for length in 0 ..< lastEnd {
            expectFormatError(file: "cut-\(length)") { _ = try GGUFFile(bytes: Array(bytes[0 ..< length]), name: "cut-\(length)") }
        }
    }

    @Test func everySingleByteCorruptionOfTheHeaderIsHandled() throws {
        let bytes = try Self.valid()
        let header = try GGUFFile(bytes: bytes, name: "ok").dataStart
        for position in 0 ..< header {
            for value: UInt8 in [0x00, 0x01, 0x09, 0x7F, 0x80, 0xFF] {
                var broken = bytes
                broken[position] = value
                do {
                    let file = try GGUFFile(bytes: broken, name: "x")
                    for name in file.tensorNames where file.tensors.first(where: { $0.name == name })!.type.canDequantize {
                        _ = try file.floats(name)
                    }
                } catch let error as FormatError {
                    #expect(error.file == "x")
                }
            }
        }
    }

    @Test func rejectsBadMagic() {
        var bytes = RawGGUF().bytes
        bytes[0] = UInt8(ascii: "X")
        expectFormatError(.badHeader, file: "m", containing: "not a GGUF") { _ = try GGUFFile(bytes: bytes, name: "m") }
    }

    @Test func rejectsTooManyDimensions() {
        var raw = RawGGUF()
        raw.tensors = [.init(name: "t", ne: Array(repeating: 1, count: 9))]
        raw.data = 32
        reject(raw, .invalidValue, "9 dimensions")
    }

    @Test(arguments: [0, 3, 48]) func rejectsAlignmentsThatAreNotPowersOfTwo(_ alignment: Int) {
        var raw = RawGGUF()
        raw.add(GGUFFile.alignmentKey, u32: UInt32(alignment))
        reject(raw, .invalidValue, "power of two")
    }

    @Test func rejectsAnAlignmentOfTheWrongType() {
        var raw = RawGGUF()
        raw.add(GGUFFile.alignmentKey, string: "32")
        reject(raw, .invalidValue, "not a uint32")
    }

    @Test func rejectsAStringLongerThanTheFile() {
        var raw = RawGGUF()
        raw.kv.append(("general.name", { $0.u32(8); $0.u64(1 << 40); $0.data += Array("abc".utf8) }))
        reject(raw, .truncated, "claims 1099511627776 bytes")
        var key = RawGGUF()
        key.kv.append(("", { _ in }))
        var bytes = key.bytes
        bytes.replaceSubrange(24 ..< 32, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        expectFormatError(.truncated, file: "k", containing: "metadata key") { _ = try GGUFFile(bytes: bytes, name: "k") }
    }

    @Test func rejectsCountsLargerThanTheFile() {
        var tensors = RawGGUF()
        tensors.tensorCount = UInt64.max
        reject(tensors, .truncated, "tensor count")
        var kvs = RawGGUF()
        kvs.kvCount = 1 << 40
        reject(kvs, .truncated, "metadata key/value count")
        var array = RawGGUF()
        array.kv.append(("a", { $0.u32(9); $0.u32(8); $0.u64(1 << 59) }))
        reject(array, .truncated, "length of array")
    }

    @Test func rejectsNestedArraysAndUnknownValueTypes() {
        var nested = RawGGUF()
        nested.kv.append(("a", { $0.u32(9); $0.u32(9); $0.u64(1); $0.u32(0); $0.u64(0) }))
        reject(nested, .invalidValue, "nests arrays")
        var unknown = RawGGUF()
        unknown.kv.append(("a", { $0.u32(13); $0.u64(0) }))
        reject(unknown, .invalidValue, "unknown value type")
        var unknownElement = RawGGUF()
        unknownElement.kv.append(("a", { $0.u32(9); $0.u32(99); $0.u64(0) }))
        reject(unknownElement, .invalidValue, "unknown element type")
    }

    @Test func rejectsDuplicateKeysAndTensorNames() {
        var keys = RawGGUF()
        keys.add("general.name", string: "a")
        keys.add("general.name", string: "b")
        reject(keys, .duplicate, "duplicate metadata key \"general.name\"")
        var names = RawGGUF()
        names.tensors = [.init(name: "t", ne: [1]), .init(name: "t", ne: [1], offset: 32)]
        names.data = 64
        reject(names, .duplicate, "duplicate tensor name \"t\"")
    }

    @Test func rejectsUnknownAndRetiredTensorTypes() {
        for type: UInt32 in [4, 5, 31, 36, 99, .max] {
            var raw = RawGGUF()
            raw.tensors = [.init(name: "t", ne: [32], type: type)]
            raw.data = 64
            reject(raw, .invalidValue, "unknown ggml type \(type)")
        }
    }

    @Test func rejectsElementCountsThatOverflow() {
        var elements = RawGGUF()
        elements.tensors = [.init(name: "t", ne: [1 << 32, 1 << 32, 1 << 32])]
        reject(elements, .overflow, "overflow")
        var bytes = RawGGUF()
        bytes.tensors = [.init(name: "t", ne: [1 << 62, 2], type: 0)]
        reject(bytes, .overflow, "overflow")
        var negative = RawGGUF()
        negative.tensors = [.init(name: "t", ne: [-1])]
        reject(negative, .invalidValue, "negative")
    }

    @Test func rejectsRowsThatAreNotWholeBlocks() {
        var raw = RawGGUF()
        raw.tensors = [.init(name: "t", ne: [33, 2], type: GGMLType.q4_0.rawValue)]
        raw.data = 128
        reject(raw, .invalidValue, "not a multiple of the Q4_0 block size 32")
    }

    @Test func rejectsMisalignedOutOfBoundsAndOverlappingData() {
        var misaligned = RawGGUF()
        misaligned.tensors = [.init(name: "t", ne: [4], offset: 4)]
        misaligned.data = 64
        reject(misaligned, .badLayout, "not a multiple of the alignment 32")
        var outside = RawGGUF()
        outside.tensors = [.init(name: "t", ne: [16])]
        outside.data = 32
        reject(outside, .truncated, "holds only 32")
        var far = RawGGUF()
        far.tensors = [.init(name: "t", ne: [1], offset: UInt64.max)]
        reject(far, .badLayout, "alignment")
        var edge = RawGGUF()
        edge.tensors = [.init(name: "t", ne: [8], offset: UInt64(Int.max) - 31)]
        reject(edge, .truncated, "holds only")
        var farAligned = RawGGUF()
        farAligned.tensors = [.init(name: "t", ne: [1], offset: 1 << 62)]
        reject(farAligned, .truncated, "holds only")
        var overlap = RawGGUF()
        overlap.tensors = [.init(name: "a", ne: [16]), .init(name: "b", ne: [8], offset: 32)]
        overlap.data = 128
        reject(overlap, .badLayout, "overlaps tensor \"a\"")
    }

    @Test func rejectsOverlongTensorNames() {
        var raw = RawGGUF()
        raw.tensors = [.init(name: String(repeating: "n", count: 64), ne: [1])]
        raw.data = 32
        reject(raw, .invalidValue, "at most 63")
    }

    @Test func emptyFilesAndDirectoriesAreErrors() {
        expectFormatError(.truncated, file: "e", containing: "magic") { _ = try GGUFFile(bytes: [], name: "e") }
        expectFormatError(.io, file: "/tmp", containing: "not a regular file") { _ = try GGUFFile(path: "/tmp") }
    }
}
