import Foundation

/// CPython's `random.Random` for the parts lm-eval's few-shot sampler uses: MT19937 seeded from an integer
/// (`init_by_array` over the integer's 32-bit words, `_randommodule.c random_seed`), `getrandbits`,
/// `_randbelow_with_getrandbits` and `sample` (Lib/random.py, CPython 3.11).
public struct PythonRandom: Sendable {
    private static let n = 624, m = 397
    private var state = [UInt32](repeating: 0, count: 624)   // (N,) MT19937 words
    private var index = 624

    /// `random.Random(seed)` for an integer seed (its absolute value, as CPython).
    public init(seed: Int) {
        var magnitude = seed.magnitude
        var key = [UInt32]()
        repeat {
            key.append(UInt32(truncatingIfNeeded: magnitude))
            magnitude >>= 32
        } while magnitude != 0
        initByArray(key)
    }

    private mutating func initGenrand(_ s: UInt32) {
        state[0] = s
        for i in 1..<Self.n {
            let prev = state[i - 1]
            state[i] = 1_812_433_253 &* (prev ^ (prev >> 30)) &+ UInt32(i)
        }
        index = Self.n
    }

    private mutating func initByArray(_ key: [UInt32]) {
        initGenrand(19_650_218)
        var i = 1, j = 0
        for _ in 0..<max(Self.n, key.count) {
            let prev = state[i - 1]
            state[i] = (state[i] ^ ((prev ^ (prev >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1; j += 1
            if i >= Self.n { state[0] = state[Self.n - 1]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<(Self.n - 1) {
            let prev = state[i - 1]
            state[i] = (state[i] ^ ((prev ^ (prev >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= Self.n { state[0] = state[Self.n - 1]; i = 1 }
        }
        state[0] = 0x8000_0000
    }

    private mutating func twist() {
        func mixed(_ a: UInt32, _ b: UInt32) -> UInt32 {
            let y = (a & 0x8000_0000) | (b & 0x7FFF_FFFF)
            return (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_B0DF)
        }
        for k in 0..<Self.n {
            state[k] = state[(k + Self.m) % Self.n] ^ mixed(state[k], state[(k + 1) % Self.n])
        }
        index = 0
    }

    /// `genrand_uint32`: the next tempered 32-bit word.
    public mutating func nextWord() -> UInt32 {
        if index >= Self.n { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// `getrandbits(k)` for 0 ≤ k ≤ 64: words fill from the least significant end, the last one keeps its top bits.
    public mutating func getrandbits(_ k: Int) -> UInt64 {
        precondition((0...64).contains(k), "getrandbits supports 0...64 bits")
        if k == 0 { return 0 }
        if k <= 32 { return UInt64(nextWord() >> UInt32(32 - k)) }
        let low = UInt64(nextWord())
        let high = UInt64(nextWord() >> UInt32(64 - k))
        return low | (high << 32)
    }

    /// `_randbelow_with_getrandbits(n)`: uniform in 0..<n by rejection on `n.bit_length()` bits.
    public mutating func randbelow(_ n: Int) -> Int {
        precondition(n > 0, "randbelow needs n > 0")
        let bits = Int.bitWidth - n.leadingZeroBitCount
        var r = getrandbits(bits)
        while r >= UInt64(n) { r = getrandbits(bits) }
        return Int(r)
    }

    /// `sample(range(n), k)`: k distinct indices of a population of n, in selection order. CPython keeps a pool
    /// list when `n <= setsize` (21, plus `4 ** ceil(log(3k, 4))` when k > 5), and otherwise redraws on repeats.
    public mutating func sample(populationSize n: Int, count k: Int) -> [Int] {
        precondition(0 <= k && k <= n, "Sample larger than population or is negative")
        var setsize = 21
        if k > 5 {
            let exponent = Int((log(Double(k * 3)) / log(4.0)).rounded(.up))
            setsize += Int(pow(4.0, Double(exponent)))
        }
        var result = [Int]()
        result.reserveCapacity(k)
        if n <= setsize {
            var pool = Array(0..<n)
            for i in 0..<k {
                let j = randbelow(n - i)
                result.append(pool[j])
                pool[j] = pool[n - i - 1]
            }
        } else {
            var selected = Set<Int>()
            for _ in 0..<k {
                var j = randbelow(n)
                while selected.contains(j) { j = randbelow(n) }
                selected.insert(j)
                result.append(j)
            }
        }
        return result
    }
}
