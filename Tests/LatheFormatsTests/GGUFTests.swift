import Testing
@testable import LatheFormats

@Suite("GGUF reading and writing")
struct GGUFTests {
    static let everyValue: [(String, GGUFValue)] = [
        ("t.u8", .uint8(250)), ("t.i8", .int8(-5)), ("t.u16", .uint16(65000)), ("t.i16", .int16(-32000)),
        ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-7)), ("t.u64", .uint64(.max)), ("t.i64", .int64(.min)),
        ("t.f32", .float32(-0.25)), ("t.f64", .float64(1e-300)), ("t.bool", .bool(true)), ("t.string", .string("ü\u{0}x")),
        ("t.strings", .array([.string("a"), .string(""), .string("✓")])), ("t.floats", .array([.float32(1), .float32(-2)])),
        ("t.bools", .array([.bool(false), .bool(true)])), ("t.u64s", .array([.uint64(1), .uint64(2)])),
    ]

    @Test func roundTripsMetadataAndTensors() throws {
        var writer = GGUFWriter()
        try writer.set("general.architecture", .string("llama"))
        try writer.set(GGUFFile.alignmentKey, .uint32(64))
        for (key, value) in Self.everyValue { try writer.set(key, value) }
        try writer.set("t.empty", .array([]), emptyArrayType: .string)
        let values = (0 ..< 96).map { Float($0) * 0.37 - 11 }
        try writer.addTensor("f32", shape: [3, 32], values: values)
        try writer.addTensor("f16", shape: [96], values: values, as: .f16)
        try writer.addTensor("bf16", shape: [2, 48], values: values, as: .bf16)
        try writer.addTensor("q8", shape: [3, 32], values: values, as: .q8_0)
        let dir = try TemporaryDirectory()
        try writer.write(to: dir.file("m.gguf"))
        let file = try GGUFFile(path: dir.file("m.gguf"))

        #expect(file.version == 3)
        #expect(file.alignment == 64)
        #expect(file.dataStart % 64 == 0)
        #expect(file.metadataKeys == ["general.architecture", GGUFFile.alignmentKey] + Self.everyValue.map(\.0) + ["t.empty"])
        for (key, value) in Self.everyValue { #expect(file.metadata[key] == value, "\(key)") }
        #expect(file.metadata["t.empty"] == .array([]))
        #expect(file.tensorNames == ["f32", "f16", "bf16", "q8"])
        #expect(file.tensors.allSatisfy { $0.offset % 64 == 0 })
        #expect(try file.shape(of: "f32") == [3, 32])
        #expect(file.tensors[0].ne == [32, 3])
        #expect(try file.storageType(of: "q8") == "Q8_0")
        expectBitExact(try file.floats("f32"), values, "f32")
        expectBitExact(try file.floats("f16"), values.map { HalfFloat.float(fromF16: HalfFloat.f16(from: $0)) }, "f16")
        expectBitExact(try file.floats("bf16"), values.map { HalfFloat.float(fromBF16: HalfFloat.bf16(from: $0)) }, "bf16")
        let q8 = try file.floats("q8")
        #expect(zip(q8, values).allSatisfy { abs($0 - $1) < 0.1 })
        #expect(try GGUFFile(bytes: try writer.serialized(), name: "mem").tensors == file.tensors)
    }

    @Test func readsAFileWrittenByGGUFPy() throws {
        let file = try GGUFFile(path: Fixture.path("dequant/tiny.gguf"))
        #expect(file.version == 3)
        #expect(file.metadata["general.architecture"]?.string == "llama")
        #expect(file.metadata["test.u8"] == .uint8(200))
        #expect(file.metadata["test.i8"] == .int8(-100))
        #expect(file.metadata["test.u16"] == .uint16(60000))
        #expect(file.metadata["test.i16"] == .int16(-30000))
        #expect(file.metadata["test.u32"] == .uint32(4_000_000_000))
        #expect(file.metadata["test.i32"] == .int32(-2_000_000_000))
        #expect(file.metadata["test.u64"] == .uint64(1 << 63 + 5))
        #expect(file.metadata["test.i64"] == .int64(-(1 << 62)))
        #expect(file.metadata["test.f32"] == .float32(0.125))
        #expect(file.metadata["test.f64"] == .float64(-1e300))
        #expect(file.metadata["test.bool"] == .bool(true))
        #expect(file.metadata["test.string"] == .string("héllo ✓"))
        #expect(file.metadata["test.strings"] == .array([.string("a"), .string(""), .string("ünï")]))
        #expect(file.metadata["test.ints"]?.array?.compactMap(\.int) == [1, -2, 3])
        #expect(file.metadata["llama.block_count"]?.int == 2)
        #expect(file.metadataKeys.first == "general.architecture")
        #expect(file.tensorNames == ["a.weight", "b.f16", "c.q8_0"])
        let a = (0 ..< 64).map { Float($0) / 8 }
        #expect(try file.shape(of: "a.weight") == [2, 32])
        expectBitExact(try file.floats("a.weight"), a, "a.weight")
        #expect(try file.shape(of: "b.f16") == [3, 4])
        #expect(try file.floats("b.f16").first == -1)
        #expect(try file.floats("b.f16").last == 1)
        #expect(try file.shape(of: "c.q8_0") == [2, 32])
        #expect(zip(try file.floats("c.q8_0"), a).allSatisfy { abs($0 - $1) < 0.04 })
    }

    @Test func acceptsVersion2AndRefusesVersion1() throws {
        var writer = GGUFWriter()
        try writer.addTensor("x", shape: [2], values: [1, 2])
        var bytes = try writer.serialized()
        bytes[4] = 2
        #expect(try GGUFFile(bytes: bytes, name: "v2").version == 2)
        bytes[4] = 1
        expectFormatError(.unsupported, file: "v1", containing: "version 1") { _ = try GGUFFile(bytes: bytes, name: "v1") }
        bytes[4] = 4
        expectFormatError(.unsupported, file: "v4", containing: "version 4") { _ = try GGUFFile(bytes: bytes, name: "v4") }
        bytes[4] = 0; bytes[7] = 3
        expectFormatError(.unsupported, file: "be", containing: "big-endian") { _ = try GGUFFile(bytes: bytes, name: "be") }
    }

    @Test func refusesToDequantiseOtherTypes() throws {
        var writer = GGUFWriter()
        try writer.addRawTensor("iq", ne: [256], type: .iq4_xs, bytes: [UInt8](repeating: 0, count: 136))
        try writer.addRawTensor("ints", ne: [2], type: .i32, bytes: [UInt8](repeating: 0, count: 8))
        let file = try GGUFFile(bytes: try writer.serialized(), name: "types.gguf")
        expectFormatError(.unsupported, file: "types.gguf", containing: "IQ4_XS") { _ = try file.floats("iq") }
        expectFormatError(.unsupported, file: "types.gguf", containing: "I32") { _ = try file.floats("ints") }
        #expect(try file.withRawBytes(of: "ints") { $0.count } == 8)
    }

    @Test func writerRefusesMisuse() throws {
        var writer = GGUFWriter()
        #expect(throws: FormatError.self) { try writer.set("a", .array([.array([])])) }
        #expect(throws: FormatError.self) { try writer.set("a", .array([.int32(1), .string("x")])) }
        #expect(throws: FormatError.self) { try writer.set(GGUFFile.alignmentKey, .uint32(24)) }
        #expect(throws: FormatError.self) { try writer.addTensor("q", shape: [33], values: [Float](repeating: 0, count: 33), as: .q8_0) }
        #expect(throws: FormatError.self) { try writer.addTensor("q", shape: [2], values: [1]) }
        try writer.addTensor("q", shape: [1], values: [1])
        #expect(throws: FormatError.self) { try writer.addTensor("q", shape: [1], values: [1]) }
    }
}

@Suite("TensorSource")
struct TensorSourceTests {
    /// Loads every tensor of any source the way the model loader does.
    static func load(_ source: some TensorSource) throws -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for name in source.tensorNames {
            let count = try source.elementCount(of: name)
            out[name] = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                try source.floats(name, into: buffer)
                initialized = count
            }
        }
        return out
    }

    @Test func bothFormatsServeTheSameValues() throws {
        let values: [Float] = (0 ..< 64).map { Float($0) - 20.5 }
        var st = SafetensorsWriter()
        try st.add("w", shape: [2, 32], values: values)
        var gg = GGUFWriter()
        try gg.addTensor("w", shape: [2, 32], values: values)
        let a = try Self.load(SafetensorsFile(bytes: st.serialized(), name: "a"))
        let b = try Self.load(GGUFFile(bytes: gg.serialized(), name: "b"))
        #expect(a == b)
        #expect(a["w"] == values)
        #expect(try GGUFFile(bytes: gg.serialized(), name: "b").shape(of: "w") == [2, 32])
    }
}
