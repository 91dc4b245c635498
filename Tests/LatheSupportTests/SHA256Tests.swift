import Foundation
import Testing
@testable import LatheSupport

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        // FIPS 180-4 examples (NIST CSRC "SHA256.pdf") and the empty string.
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
                == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    @Test func oneMillionA() {
        var h = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0 ..< 1000 { h.update(chunk) }
        #expect(SHA256.hexString(h.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func paddingBoundaries() {
        // Lengths around the 55/56/64-byte padding edges, hashed whole and byte by byte, must agree.
        for n in [55, 56, 57, 63, 64, 65, 119, 120, 128] {
            let bytes = (0 ..< n).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            var h = SHA256()
            for b in bytes { h.update([b]) }
            #expect(SHA256.hexString(h.finalize()) == SHA256.hex(bytes))
        }
    }
}
