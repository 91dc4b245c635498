import ArgumentParser
import Dispatch
import LatheTensors

/// `lathe bench kernels`: one line per op at SmolLM2-135M shapes.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "GFLOP/s or GB/s of each tensor op at SmolLM2-135M shapes (T=2048, C=576, F=1536, V=49152)."
    )

    @OptionGroup var options: BenchOptions

    func run() throws {
        try options.configure()
        let rate = SgemmRate.measure()
        print("threads \(Parallel.threads)   sgemm rate (2048x1536x576): \(format(rate)) GFLOP/s")
        let (t, c, f) = (2048, 576, 1536)
        for (ta, tb, name) in [(Transpose.none, Transpose.transposed, "matmul x·Wᵀ  (forward)"),
                               (.none, .none, "matmul dy·W   (input grad)"),
                               (.transposed, .none, "matmul dyᵀ·x  (weight grad)"),
                               (.transposed, .transposed, "matmul aᵀ·bᵀ")] {
            let (m, n, k) = ta == .transposed ? (f, c, t) : (t, f, c)
            let seconds = timeMatmul(ta, tb, m: m, n: n, k: k)
            let gflops = 2.0 * Double(m * n * k) / seconds / 1e9
            print("\(name.padding(28))  \(format(gflops)) GFLOP/s  \(format(100 * gflops / rate))% of sgemm")
        }
    }

    private func timeMatmul(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int) -> Double {
        let a = [Float](repeating: 0.5, count: m * k)
        let b = [Float](repeating: 0.25, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        return bestTime {
            c.withUnsafeMutableBufferPointer { cp in
                matmul(a, ta, b, tb, cp.baseAddress!, m: m, n: n, k: k)
            }
        }
    }
}

/// Best wall time of `repeats` calls after one warm-up call.
func bestTime(repeats: Int = 5, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}

func format(_ value: Double, decimals: Int = 1) -> String {
    let scale = Double((0..<decimals).reduce(1) { r, _ in r * 10 })
    let rounded = (value * scale).rounded() / scale
    return "\(rounded)"
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
