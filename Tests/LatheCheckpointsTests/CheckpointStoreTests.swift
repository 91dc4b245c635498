import Foundation
import Testing
import LatheFormats
import LatheSupport
@testable import LatheCheckpoints

@Suite struct CheckpointStoreTests {
    func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "lathe-ckpt-\(UInt32.random(in: 0 ... .max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func checkpoint(_ seed: Float) -> TrainingCheckpoint {
        let a = (0 ..< 64).map { Float($0) * 0.01 + seed }
        let b = (0 ..< 32).map { Float($0) * -0.5 + seed }
        return TrainingCheckpoint(tensors: [
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": CheckpointTensor(shape: [4, 16], values: a),
            "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": CheckpointTensor(shape: [8, 4], values: b),
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight.exp_avg": CheckpointTensor(shape: [4, 16], values: a.map { $0 * 2 }),
        ], metadata: [TrainingCheckpoint.Key.dataEpoch: "1", TrainingCheckpoint.Key.dataPosition: "17",
                      TrainingCheckpoint.Key.shuffleSeed: "42", TrainingCheckpoint.Key.rngCounter: "9001"])
    }

    @Test func roundTrips() throws {
        let store = CheckpointStore(directory: temporaryDirectory())
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        try store.save(checkpoint(1), step: 10)
        let loaded = try store.load(step: 10)
        #expect(loaded.tensors == checkpoint(1).tensors)
        #expect(loaded.metadata[TrainingCheckpoint.Key.dataPosition] == "17")
        #expect(loaded.step == 10)
        #expect(loaded.metadata[TrainingCheckpoint.Key.formatVersion] == "1")
    }

    @Test func decompressedFileIsPlainSafetensors() throws {
        let store = CheckpointStore(directory: temporaryDirectory())
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        let path = try store.save(checkpoint(2), step: 3)
        let compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let size = try #require(Zstd.frameContentSize(compressed))
        // What `zstd -d` writes: the frame's content, which must parse as an ordinary safetensors file.
        let raw = try Zstd.decompress(compressed, limit: size)
        let file = try SafetensorsFile(bytes: raw, name: "step-3.safetensors")
        #expect(file.tensors.count == 3)
        #expect(file.metadata?["step"] == "3")
        #expect(try file.floats("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight") == checkpoint(2).tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"]!.values)
        #expect(file.metadata?["payload_sha256"] == SHA256.hex(Array(raw[file.dataStart...])))
    }

    @Test func flippedByteFallsBackToPrevious() throws {
        let store = CheckpointStore(directory: temporaryDirectory())
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        try store.save(checkpoint(1), step: 1)
        let newest = try store.save(checkpoint(2), step: 2)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: newest)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: newest))
        let (found, step, problems) = store.latestValid()
        #expect(step == 1)
        #expect(found?.tensors == checkpoint(1).tensors)
        #expect(problems.count == 1 && problems[0].step == 2)
    }

    @Test func truncatedFileIsSkipped() throws {
        let store = CheckpointStore(directory: temporaryDirectory())
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        try store.save(checkpoint(1), step: 5)
        let newest = try store.save(checkpoint(2), step: 6)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: newest)))
        try Data(bytes.prefix(bytes.count * 2 / 3)).write(to: URL(fileURLWithPath: newest))
        #expect(throws: CheckpointError.self) { try store.load(step: 6) }
        let (_, step, problems) = store.latestValid()
        #expect(step == 5)
        #expect(problems.map(\.step) == [6])
    }

    @Test func payloadHashMismatchIsDetected() throws {
        // A well-formed zstd frame and safetensors file whose tensor bytes no longer match payload_sha256.
        var raw = try checkpoint(3).safetensorsBytes(step: 4)
        raw[raw.count - 1] ^= 0x80
        #expect(throws: CheckpointError.self) { try TrainingCheckpoint.decode(Zstd.compress(raw), name: "x", limit: 1 << 20) }
    }

    @Test func refusesFrameLargerThanCap() throws {
        let encoded = try checkpoint(1).encoded(step: 1)
        #expect(throws: CheckpointError.self) { try TrainingCheckpoint.decode(encoded, name: "bomb", limit: 100) }
    }

    @Test func storeCapIsNamedWithHowToRaiseIt() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try CheckpointStore(directory: directory).save(checkpoint(1), step: 2)
        try FileManager.default.removeItem(atPath: directory + "/manifest.json")
        let small = CheckpointStore(directory: directory, maxDecompressedBytes: 1 << 20)
        let tiny = CheckpointStore(directory: directory, maxDecompressedBytes: 64)
        #expect(try small.load(step: 2).step == 2)
        do {
            _ = try tiny.load(step: 2)
            Issue.record("a checkpoint over the store's cap was loaded")
        } catch let error as CheckpointError {
            guard case .tooLarge(_, _, let limit, _) = error else { Issue.record("\(error)"); return }
            #expect(limit == 64)
            #expect("\(error)".contains("CheckpointStore.maxDecompressedBytes"), "\(error)")
            #expect("\(error)".contains("passes a larger one to raise it"), "\(error)")
        }
    }

    @Test func manifestPinsTheDecompressedSize() throws {
        let store = CheckpointStore(directory: temporaryDirectory())
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        try store.save(checkpoint(1), step: 7)
        let manifest = store.directory + "/manifest.json"
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        #expect(text.contains("\"7\":{\"bytes\":"))
        let shrunk = text.replacingOccurrences(of: #""bytes":\d+"#, with: "\"bytes\":64", options: .regularExpression)
        try shrunk.write(toFile: manifest, atomically: true, encoding: .utf8)
        #expect(throws: CheckpointError.self) { try store.load(step: 7) }
        do { _ = try store.load(step: 7) } catch {
            #expect("\(error)".contains("manifest.json pinned for step 7"), "\(error)")
        }
        try FileManager.default.removeItem(atPath: manifest)
        #expect(try store.load(step: 7).step == 7)   // without a manifest the store's cap applies
    }

    @Test func keepsLastKAndBest() throws {
        let store = CheckpointStore(directory: temporaryDirectory(), keepLast: 2)
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        let losses: [Double] = [3.0, 1.0, 2.5, 2.0, 2.2]
        for (i, loss) in losses.enumerated() { try store.save(checkpoint(Float(i)), step: (i + 1) * 10, metric: loss) }
        #expect(store.steps() == [20, 40, 50])
        #expect(store.bestStep() == 20)
        #expect(!FileManager.default.fileExists(atPath: store.path(step: 10)))
    }
}
