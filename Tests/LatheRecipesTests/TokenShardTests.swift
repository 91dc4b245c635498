import Foundation
import LatheCheckpoints
import LatheFormats
import LatheTraining
import Testing
@testable import LatheRecipes

/// The token-shard reader against hostile zstd frames: the decompressed size is pinned by the frame header and
/// bounded by `TokenShard.maxBytes`, so a decompression bomb is refused before it is expanded.
@Suite struct TokenShardTests {
    let directory: String = {
        let d = NSTemporaryDirectory() + "lathe-shard-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    /// A zstd frame made of `blocks` RLE blocks of 128 KiB zero bytes each; `contentSize` nil leaves it unrecorded.
    static func rleFrame(blocks: Int, contentSize: UInt64?) -> [UInt8] {
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        if let contentSize {
            frame.append(0xC0)  // 8-byte frame content size, window descriptor follows
            frame.append(0x38)  // window 2^17
            frame += (0..<8).map { UInt8(truncatingIfNeeded: contentSize >> (8 * UInt64($0))) }
        } else {
            frame += [0x00, 0x38]  // no content size, window 2^17
        }
        for b in 0..<blocks {
            let header = UInt32(128 << 10) << 3 | 1 << 1 | (b == blocks - 1 ? 1 : 0)  // size, RLE, last
            frame += [UInt8(header & 0xFF), UInt8(header >> 8 & 0xFF), UInt8(header >> 16 & 0xFF), 0x00]
        }
        return frame
    }

    func write(_ bytes: [UInt8]) throws -> String {
        let path = directory + "/train.tokens.zst"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func message(_ path: String) -> String? {
        do { _ = try TokenShard.read(path); return nil } catch { return "\(error)" }
    }

    @Test func roundTrip() throws {
        let examples = [TrainingExample(tokens: [1, 2, 3], targetMask: [false, true, true]), TrainingExample(tokens: [])]
        let path = directory + "/ok.tokens.zst"
        try TokenShard.write(examples, to: path)
        let read = try TokenShard.read(path)
        #expect(read.map(\.tokens) == examples.map(\.tokens))
        #expect(read.map(\.targetMask) == examples.map(\.targetMask))
    }

    /// The streamed writer (temporary file, count patched, compressed 1 MiB at a time) writes one frame holding
    /// exactly the one-shot layout (what shards held before), its size in the header, and leaves no file behind.
    /// The compressed bytes differ from `Zstd.compress` of the whole buffer (zstd cuts blocks differently).
    @Test func streamedShardEqualsTheOneShotShard() throws {
        var state: UInt64 = 7
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        let examples = (0..<1500).map { i in
            let length = Int(next() % 1200)
            return TrainingExample(tokens: (0..<length).map { _ in Int32(next() % 49152) }, targetMask: (0..<length).map { $0 > i % 50 })
        }
        let path = directory + "/streamed.tokens.zst"
        try TokenShard.write(examples, to: path)
        var whole = Array("LTOK".utf8)
        func u32(_ v: UInt32) { whole += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        u32(1); u32(UInt32(examples.count))
        for e in examples {
            u32(UInt32(e.tokens.count))
            for t in e.tokens { u32(UInt32(bitPattern: t)) }
            whole += e.targetMask.map { $0 ? 1 : 0 }
        }
        #expect(whole.count > 4 << 20, "the shard must span several 1 MiB chunks")
        let written = try #require(FileManager.default.contents(atPath: path))
        #expect(Zstd.frameContentSize(Array(written)) == whole.count)
        #expect(try Zstd.decompress(Array(written), limit: whole.count) == whole)
        #expect(try TokenShard.read(path).map(\.tokens) == examples.map(\.tokens))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["streamed.tokens.zst"])
    }

    @Test func frameWithoutContentSizeIsRefusedBeforeExpanding() throws {
        // 512 blocks: 2 KiB that would expand to 64 MiB.
        let text = try #require(message(try write(Self.rleFrame(blocks: 512, contentSize: nil))))
        #expect(text.contains("no content size"), "\(text)")
    }

    @Test func announcedSizeOverTheLimitIsRefused() throws {
        let text = try #require(message(try write(Self.rleFrame(blocks: 1, contentSize: UInt64(TokenShard.maxBytes) + 1))))
        #expect(text.contains("TokenShard.maxBytes"), "\(text)")
    }

    @Test func frameExpandingPastItsAnnouncedSizeIsRefused() throws {
        // Announces 16 bytes, holds 64 MiB: decompression stops at the pinned size.
        let text = try #require(message(try write(Self.rleFrame(blocks: 512, contentSize: 16))))
        #expect(!text.contains("not a token shard"), "\(text)")
    }
}
