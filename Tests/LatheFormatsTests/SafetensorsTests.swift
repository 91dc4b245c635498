import Foundation
import Testing
@testable import LatheFormats

@Suite("safetensors reading and writing")
struct SafetensorsTests {
    static func randomValues(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0 ..< n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 123_457
        }
    }

    @Test func roundTripsF32F16BF16ThroughAFile() throws {
        let dir = try TemporaryDirectory()
        let a = Self.randomValues(6, seed: 1), b = Self.randomValues(20, seed: 2), c = Self.randomValues(7, seed: 3)
        var writer = SafetensorsWriter(metadata: ["format": "pt", "note": "héllo \"quoted\""])
        try writer.add("model.embed_tokens.weight", shape: [2, 3], values: a, as: .f32)
        try writer.add("model.norm.weight", shape: [4, 5], values: b, as: .f16)
        try writer.add("lm_head.weight", shape: [7], values: c, as: .bf16)
        try writer.addRaw("step", dtype: .i64, shape: [1], bytes: [9, 0, 0, 0, 0, 0, 0, 0])
        let path = dir.file("model.safetensors")
        try writer.write(to: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])

        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["format": "pt", "note": "héllo \"quoted\""])
        #expect(file.dataStart % 8 == 0)
        #expect(Set(file.tensorNames) == ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight", "step"])
        #expect(try file.shape(of: "model.norm.weight") == [4, 5])
        #expect(try file.storageType(of: "lm_head.weight") == "BF16")
        expectBitExact(try file.floats("model.embed_tokens.weight"), a, "f32")
        expectBitExact(try file.floats("model.norm.weight"), b.map { HalfFloat.float(fromF16: HalfFloat.f16(from: $0)) }, "f16")
        expectBitExact(try file.floats("lm_head.weight"), c.map { HalfFloat.float(fromBF16: HalfFloat.bf16(from: $0)) }, "bf16")
        expectFormatError(.unsupported, file: path, containing: "I64") { _ = try file.floats("step") }
        expectFormatError(.notFound, file: path, containing: "missing") { _ = try file.floats("missing") }
        #expect(try SafetensorsFile(bytes: try writer.serialized(), name: "mem").tensors == file.tensors)
    }

    @Test func readsAFileWrittenByPythonSafetensors() throws {
        let file = try SafetensorsFile(path: Fixture.path("safetensors/python.safetensors"))
        #expect(file.metadata == ["format": "pt", "lathe": "golden"])
        #expect(try file.storageType(of: "step") == "I64")
        let expected: [(String, String, [Int])] = [
            ("model.layers.0.self_attn.q_proj.weight", "F32", [2, 3]), ("model.norm.weight", "F16", [4]),
            ("lm_head.weight", "BF16", [3, 2]),
        ]
        for (name, dtype, shape) in expected {
            #expect(try file.storageType(of: name) == dtype)
            #expect(try file.shape(of: name) == shape)
            expectBitExact(try file.floats(name), try Fixture.floats("safetensors/\(name).f32"), name)
        }
        let step = try file.withRawBytes(of: "step") { raw in (0 ..< 2).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) } }
        #expect(step == [7, -1])
    }

    @Test func opensShardedDirectoriesAndSingleFiles() throws {
        let dir = try TemporaryDirectory()
        var first = SafetensorsWriter(), second = SafetensorsWriter()
        try first.add("a", shape: [2], values: [1, 2])
        try second.add("b", shape: [1], values: [3], as: .bf16)
        try second.add("c", shape: [1], values: [4])
        try first.write(to: dir.file("model-00001-of-00002.safetensors"))
        try second.write(to: dir.file("model-00002-of-00002.safetensors"))
        let index = #"{"metadata": {"total_size": 16}, "weight_map": {"b": "model-00002-of-00002.safetensors", "a": "model-00001-of-00002.safetensors"}}"#
        try dir.write(ShardedSafetensors.indexFileName, Array(index.utf8))
        let model = try ShardedSafetensors(directory: dir.path)
        #expect(model.tensorNames == ["b", "a"])
        #expect(try model.floats("a") == [1, 2])
        #expect(try model.floats("b") == [3])
        #expect(try model.storageType(of: "b") == "BF16")

        let single = try TemporaryDirectory()
        try first.write(to: single.file("model.safetensors"))
        #expect(try ShardedSafetensors(directory: single.path).floats("a") == [1, 2])
    }

    @Test(arguments: [
        ("../outside.safetensors", "escapes"), ("/etc/passwd", "escapes"), ("a//b.safetensors", "escapes"),
        ("missing.safetensors", "cannot resolve"),
    ])
    func refusesShardPathsOutsideTheDirectory(_ shard: String, _ fragment: String) throws {
        let dir = try TemporaryDirectory()
        try dir.write(ShardedSafetensors.indexFileName, Array(#"{"weight_map": {"a": "\#(shard)"}}"#.utf8))
        expectFormatError(file: dir.file(ShardedSafetensors.indexFileName), containing: fragment) {
            _ = try ShardedSafetensors(directory: dir.path)
        }
    }

    @Test func refusesSymlinkedShardsAndNamesMissingFromTheirShard() throws {
        let outside = try TemporaryDirectory()
        var writer = SafetensorsWriter()
        try writer.add("a", shape: [1], values: [1])
        try writer.write(to: outside.file("x.safetensors"))
        let dir = try TemporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: dir.file("x.safetensors"), withDestinationPath: outside.file("x.safetensors"))
        let indexPath = dir.file(ShardedSafetensors.indexFileName)
        try dir.write(ShardedSafetensors.indexFileName, Array(#"{"weight_map": {"a": "x.safetensors"}}"#.utf8))
        expectFormatError(.invalidValue, file: indexPath, containing: "outside") { _ = try ShardedSafetensors(directory: dir.path) }

        try writer.write(to: dir.file("y.safetensors"))
        try dir.write(ShardedSafetensors.indexFileName, Array(#"{"weight_map": {"a": "y.safetensors", "zz": "y.safetensors"}}"#.utf8))
        expectFormatError(.notFound, file: indexPath, containing: "zz") { _ = try ShardedSafetensors(directory: dir.path) }
        try dir.write(ShardedSafetensors.indexFileName, Array(#"{"weight_map": {"a": "y.safetensors", "a": "y.safetensors"}}"#.utf8))
        expectFormatError(.duplicate, file: indexPath, containing: "duplicate") { _ = try ShardedSafetensors(directory: dir.path) }
    }
}
