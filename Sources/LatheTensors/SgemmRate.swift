import Dispatch
import LatheSupport

/// The machine's measured `cblas_sgemm` rate: the ceiling every benchmark's utilisation is reported against.
public enum SgemmRate {
    /// Best GFLOP/s over runs of `(m, k) · (k, n)` with the configured thread count, threaded by OpenBLAS itself and
    /// split over Lathe's pool as `sgemm` splits products: the higher of the two is the ceiling. Each way gets at
    /// least `repeats` runs, and runs for at least `seconds`, so a stall of a fraction of a second (another
    /// process's exit, a page-cache flush) cannot spoil every run and understate the ceiling (five runs of 20 ms once
    /// measured 92 GFLOP/s on a machine that gives 167, and utilisation came out at 121%).
    public static func measure(m: Int = 2048, n: Int = 1536, k: Int = 576, repeats: Int = 5, seconds: Double = 1) -> Double {
        var best = Double.infinity
        withOperands(m: m, n: n, k: k) { product in
            func fastest() -> Double {
                product()   // warm-up
                let first = DispatchTime.now().uptimeNanoseconds
                var (runs, fastest) = (0, Double.infinity)
                while runs < repeats || Double(DispatchTime.now().uptimeNanoseconds - first) / 1e9 < seconds {
                    let start = DispatchTime.now().uptimeNanoseconds
                    product()
                    fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    runs += 1
                }
                return fastest
            }
            best = min(BLASThreads.openBLASThreaded(fastest), fastest())
        }
        return 2.0 * Double(m) * Double(n) * Double(k) / best / 1e9
    }

    /// GFLOP/s of each whole second of `seconds` seconds of back-to-back `(m, k) · (k, n)` products split over the
    /// configured threads as `sgemm` splits them: what the sgemm alone keeps up over about as long as a training step,
    /// where `measure` takes its fastest run. On a shared machine, or one whose clock falls under sustained AVX-512
    /// load, the two differ.
    public static func sustained(seconds: Int, m: Int = 2048, n: Int = 1536, k: Int = 576) -> [Double] {
        var rates: [Double] = []
        withOperands(m: m, n: n, k: k) { product in
            product()   // warm-up
            for _ in 0..<seconds {
                let start = DispatchTime.now().uptimeNanoseconds
                var (runs, elapsed) = (0, 0.0)
                while elapsed < 1 {
                    product()
                    runs += 1
                    elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                }
                rates.append(2.0 * Double(m) * Double(n) * Double(k) * Double(runs) / elapsed / 1e9)
            }
        }
        return rates
    }

    /// Calls `body` with a function that runs `c (m, n) = a (m, k) · b (k, n)` through `matmul` on fixed operands.
    private static func withOperands(m: Int, n: Int, k: Int, _ body: (() -> Void) -> Void) {
        var a = [Float](repeating: 0, count: m * k)
        var b = [Float](repeating: 0, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<a.count { a[i] = Float(i % 7) * 0.01 }
        for i in 0..<b.count { b[i] = Float(i % 5) * 0.02 }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    body { matmul(ap.baseAddress!, .none, bp.baseAddress!, .none, cp.baseAddress!, m: m, n: n, k: k) }
                }
            }
        }
    }
}

/// The machine's measured memory bandwidth: the ceiling memory-bound passes (norms, element-wise ops, AdamW) are
/// reported against.
public enum MemoryBandwidth {
    /// Best GB/s over `repeats` runs of `y = a·x + y` over `floats` floats (8 bytes read, 4 written per element)
    /// split over the configured threads as the element-wise kernels split theirs.
    public static func measure(floats: Int = 1 << 23, repeats: Int = 5) -> Double {
        let x = UnsafeMutablePointer<Float>.allocate(capacity: floats)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: floats)
        defer { x.deallocate(); y.deallocate() }
        x.initialize(repeating: 0.5, count: floats)
        y.initialize(repeating: 0.25, count: floats)
        let shared = UncheckedSendable((x, y))
        var best = Double.infinity
        for run in 0...repeats {   // run 0 warms up
            let start = DispatchTime.now().uptimeNanoseconds
            Parallel.forEachChunk(floats, minimumChunk: 1 << 16) { range in
                let (x, y) = shared.value
                axpy(y + range.lowerBound, 1e-3, x + range.lowerBound, range.count)
            }
            if run > 0 { best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        return 12 * Double(floats) / best / 1e9
    }
}
