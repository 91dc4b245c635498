import Testing
@testable import LatheFormats

@Suite("Dequantisation against gguf-py goldens")
struct DequantGoldenTests {
    static let types: [(GGMLType, String)] = [
        (.q4_0, "q4_0"), (.q4_1, "q4_1"), (.q5_0, "q5_0"), (.q5_1, "q5_1"), (.q8_0, "q8_0"),
        (.q2_K, "q2_k"), (.q3_K, "q3_k"), (.q4_K, "q4_k"), (.q5_K, "q5_k"), (.q6_K, "q6_k"),
        (.f16, "f16"), (.bf16, "bf16"),
    ]

    @Test(arguments: types.map(\.1))
    func dequantisesBitExactly(_ name: String) throws {
        let type = Self.types.first { $0.1 == name }!.0
        let blocks = try Fixture.bytes("dequant/\(name).bin")
        let expected = try Fixture.floats("dequant/\(name).f32")
        #expect(blocks.count == expected.count / type.blockSize * type.blockBytes)
        // Through a GGUF file, as the loader reads it: one row of all the values.
        var writer = GGUFWriter()
        try writer.addRawTensor("t", ne: [expected.count], type: type, bytes: blocks)
        let file = try GGUFFile(bytes: try writer.serialized(), name: "\(name).gguf")
        #expect(try file.storageType(of: "t") == type.name)
        expectBitExact(try file.floats("t"), expected, name)
    }

    @Test func quantisesQ8_0AsGGML() throws {
        let input = try Fixture.floats("dequant/q8_0.input.f32")
        var writer = GGUFWriter()
        try writer.addTensor("t", shape: [input.count / 32, 32], values: input, as: .q8_0)
        let file = try GGUFFile(bytes: try writer.serialized(), name: "q8.gguf")
        let stored = try file.withRawBytes(of: "t") { [UInt8]($0) }
        #expect(stored == (try Fixture.bytes("dequant/q8_0.bin")))
        expectBitExact(try file.floats("t"), try Fixture.floats("dequant/q8_0.f32"), "q8_0 round trip")
    }
}
