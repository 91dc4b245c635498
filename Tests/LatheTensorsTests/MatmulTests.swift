import Testing
@testable import LatheTensors

/// Naive triple loop in Float64: the independent reference for every transpose combination.
func referenceMatmul(_ a: [Float], _ ta: Transpose, _ b: [Float], _ tb: Transpose,
                     m: Int, n: Int, k: Int) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let av = ta == .none ? a[i * k + p] : a[p * m + i]
                let bv = tb == .none ? b[p * n + j] : b[j * k + p]
                sum += Double(av) * Double(bv)
            }
            c[i * n + j] = sum
        }
    }
    return c
}

@Suite struct MatmulTests {
    @Test(arguments: [(Transpose.none, Transpose.none), (.none, .transposed), (.transposed, .none), (.transposed, .transposed)])
    func allTransposesWithAccumulation(ta: Transpose, tb: Transpose) {
        let (m, n, k) = (5, 7, 3)
        let a = (0..<(m * k)).map { Float($0 % 5) - 1.5 }
        let b = (0..<(k * n)).map { Float($0 % 3) * 0.5 - 0.25 }
        var c = [Float](repeating: 1, count: m * n)
        c.withUnsafeMutableBufferPointer { cp in
            matmul(a, ta, b, tb, cp.baseAddress!, m: m, n: n, k: k, alpha: 2, beta: 0.5)
        }
        let expected = referenceMatmul(a, ta, b, tb, m: m, n: n, k: k)
        for i in 0..<(m * n) {
            #expect(abs(Double(c[i]) - (2 * expected[i] + 0.5)) < 1e-5)
        }
    }
}
