import Dispatch

/// The machine's measured `cblas_sgemm` rate: the ceiling every benchmark's utilisation is reported against.
public enum SgemmRate {
    /// Best GFLOP/s over `repeats` runs of `(m, k) · (k, n)` with the configured thread count.
    public static func measure(m: Int = 2048, n: Int = 1536, k: Int = 576, repeats: Int = 5) -> Double {
        var a = [Float](repeating: 0, count: m * k)
        var b = [Float](repeating: 0, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<a.count { a[i] = Float(i % 7) * 0.01 }
        for i in 0..<b.count { b[i] = Float(i % 5) * 0.02 }
        var best = Double.infinity
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    matmul(ap.baseAddress!, .none, bp.baseAddress!, .none, cp.baseAddress!, m: m, n: n, k: k)  // warm-up
                    for _ in 0..<repeats {
                        let start = DispatchTime.now().uptimeNanoseconds
                        matmul(ap.baseAddress!, .none, bp.baseAddress!, .none, cp.baseAddress!, m: m, n: n, k: k)
                        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    }
                }
            }
        }
        return 2.0 * Double(m) * Double(n) * Double(k) / best / 1e9
    }
}
