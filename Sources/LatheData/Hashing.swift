import LatheSupport

/// Fast non-cryptographic 64-bit hashing (our own design: SplitMix64's finaliser over 8-byte words) and a
/// 128-bit variant built from two seeds. Used for shingles, exact-duplicate keys and split assignment; never
/// for security.
public enum Hash64 {
    /// SplitMix64's mix (`SplitMix64.mix`): a bijective mix with good avalanche.
    @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 { SplitMix64.mix(x) }

    /// Hash of a byte range.
    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        var h = seed ^ (UInt64(bytes.count) &* SplitMix64.increment)
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let w = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ mix(w)) &* 0xFF51_AFD7_ED55_8CCD
            h = (h << 29) | (h >> 35)
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n { tail |= UInt64(bytes[i]) << shift; shift += 8; i += 1 }
            h = (h ^ mix(tail ^ 0xA5)) &* 0xFF51_AFD7_ED55_8CCD
        }
        return mix(h)
    }

    /// Hash of a string's UTF-8 bytes.
    public static func hash(_ string: String, seed: UInt64 = 0) -> UInt64 {
        var s = string
        return s.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// A 128-bit key (two independent seeds) of a string, for exact-duplicate detection.
    public static func hash128(_ string: String) -> Hash128 {
        var s = string
        return s.withUTF8 { buf in
            let raw = UnsafeRawBufferPointer(buf)
            return Hash128(high: hash(raw, seed: 0x243F_6A88_85A3_08D3), low: hash(raw, seed: 0x1319_8A2E_0370_7344))
        }
    }
}

/// A 128-bit hash value.
public struct Hash128: Hashable, Sendable {
    /// Upper 64 bits.
    public var high: UInt64
    /// Lower 64 bits.
    public var low: UInt64
    /// Lower-case hex, 32 digits.
    public var hex: String {
        let h = String(high, radix: 16), l = String(low, radix: 16)
        return String(repeating: "0", count: 16 - h.count) + h + String(repeating: "0", count: 16 - l.count) + l
    }
}
