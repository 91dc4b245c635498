import CBLAS
import LatheSupport

/// Whether an operand of `matmul` is read as stored or transposed.
public enum Transpose: Sendable {
    case none, transposed

    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// `c (M, N) = alpha · op(a) (M, K) · op(b) (K, N) + beta · c`, row-major, through OpenBLAS `cblas_sgemm`.
///
/// `op(x)` is `x` or its transpose as `transA`/`transB` say; stored shapes are `a (M, K)` or `(K, M)`,
/// `b (K, N)` or `(N, K)`. A Hugging Face linear layer `y = x Wᵀ` with `W (out, in)` is
/// `matmul(x, .none, W, .transposed, y, m: rows, n: out, k: in)`. `beta: 1` accumulates into `c`.
@inlinable
public func matmul(
    _ a: UnsafePointer<Float>, _ transA: Transpose,
    _ b: UnsafePointer<Float>, _ transB: Transpose,
    _ c: UnsafeMutablePointer<Float>,
    m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "matmul dims m=\(m) n=\(n) k=\(k)")
    if m == 0 || n == 0 { return }
    let lda = transA == .none ? k : m
    let ldb = transB == .none ? n : k
    sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
}

/// Products of fewer multiply-adds than this run whole on one thread (OpenBLAS's own threshold for threading).
private let splitMultiplyAdds = 4 * 65536

/// `cblas_sgemm` with OpenBLAS on one thread: a product of at least `splitMultiplyAdds` multiply-adds is split over
/// `Parallel`'s threads by rows of `c` (by columns when it has more columns than rows), in runs of 16 so the
/// kernel's tiles stay whole. Each element of `c` is then formed by the same single-threaded kernel over the same
/// k order whatever the thread count.
@usableFromInline
func sgemm(_ ta: Transpose, _ tb: Transpose, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
           _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
           _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    if k == 0 {
        // BLAS leaves c untouched only for beta == 1; make the empty product explicit.
        for i in 0..<(m * n) { c[i] = beta == 0 ? 0 : beta * c[i] }
        return
    }
    BLASThreads.follow()
    let whole = { (m: Int, n: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) in
        cblas_sgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    guard BLASThreads.splits, Parallel.threads > 1, m * n * k >= splitMultiplyAdds, max(m, n) >= 32 else {
        return whole(m, n, a, b, c)
    }
    if m >= n {
        Parallel.forEachChunk((m + 15) / 16) { units in
            let (first, last) = (units.lowerBound * 16, min(m, units.upperBound * 16))
            whole(last - first, n, ta == .none ? a + first * lda : a + first, b, c + first * ldc)
        }
    } else {
        Parallel.forEachChunk((n + 15) / 16) { units in
            let (first, last) = (units.lowerBound * 16, min(n, units.upperBound * 16))
            whole(m, last - first, a, tb == .none ? b + first : b + first * ldb, c + first)
        }
    }
}

/// `matmul` over sub-matrices: `c (M, N)` with row stride `ldc` (a block of columns of a wider matrix), `a` and `b`
/// with row strides `lda`, `ldb`. Tiled products over a frozen weight write their columns of the output this way.
@inlinable
public func matmul(
    _ a: UnsafePointer<Float>, _ transA: Transpose, lda: Int,
    _ b: UnsafePointer<Float>, _ transB: Transpose, ldb: Int,
    _ c: UnsafeMutablePointer<Float>, ldc: Int,
    m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "matmul dims m=\(m) n=\(n) k=\(k)")
    if m == 0 || n == 0 { return }
    if k == 0 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
