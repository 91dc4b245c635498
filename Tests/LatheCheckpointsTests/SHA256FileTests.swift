import Foundation
import Testing
import LatheSupport
@testable import LatheCheckpoints

/// `SHA256.hex(fileAt:)`, the streamed file digest that checkpoints and stage caches use.
@Suite struct SHA256FileTests {
    @Test func streamsLargeFile() throws {
        let count = 1_200_007
        var bytes = [UInt8](repeating: 0, count: count)
        var x: UInt32 = 12345
        for i in 0 ..< count { x = x &* 1_664_525 &+ 1_013_904_223; bytes[i] = UInt8(truncatingIfNeeded: x >> 24) }
        let path = NSTemporaryDirectory() + "lathe-sha-\(UInt32.random(in: 0 ... .max)).bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var h = SHA256()
        var start = 0
        var size = 1
        while start < count {
            let end = min(count, start + size)
            bytes[start ..< end].withUnsafeBytes { h.update($0) }
            start = end
            size = size * 3 + 7
        }
        let streamed = SHA256.hexString(h.finalize())
        #expect(try SHA256.hex(fileAt: path) == streamed)
    }
}
