import LatheFormats
import LatheSupport
import LatheTensors

/// A frozen base matrix (out, in) — the one type every path multiplies by: the batch forward, the KV-cache step,
/// scoring and LoRA training. Either fp32 values in `DecoderWeights.storage`, or a `QuantizedMatrix` whose rows are
/// dequantised a tile at a time into a small fp32 scratch and handed to the sgemm: the same arithmetic as the fp32
/// path (dequantise, then multiply in fp32), without an fp32 copy of the matrix.
public enum FrozenMatrix: Sendable {
    /// fp32 rows at this offset of `DecoderWeights.storage`.
    case dense(offset: Int)
    /// Rows in their stored type (a ggml quant, F16, BF16), memory-mapped or quantised on load.
    case quantized(QuantizedMatrix)
}

/// The fp32 tile a quantised matrix is dequantised into before each sgemm: one per workspace, so one per thread
/// running a pass. A tile of rows takes about `floats` values (4 MiB by default), one of whole columns up to
/// `maximumFloats`; either is at least 256 rows or columns, so every sgemm's dimensions stay long enough for the
/// kernels to run at their rate, and tile edges fall on the kernels' own blocks.
final class TileScratch {
    /// The default `floats`.
    static let floats = 1 << 20
    /// The most floats a tile takes with the default budget (what `lathe plan` counts for it).
    static let maximumFloats = 4 * floats
    /// The least rows (or columns) of a tile.
    static let minimumEdge = 256
    /// Values a tile of rows aims at; a tile of whole columns may take four times as many.
    let floats: Int
    private(set) var pointer: UnsafeMutablePointer<Float>?
    private var capacity = 0

    /// A scratch whose tiles aim at `floats` values (tests pass small budgets to run products over many tiles).
    init(floats: Int = TileScratch.floats) { self.floats = floats }

    /// Rows per tile for rows of `columns` values (a multiple of 64, at least `minimumEdge`).
    func rows(columns: Int) -> Int { max(Self.minimumEdge, floats / max(columns, 1) / 64 * 64) }

    /// Columns per tile of `rows` rows when a tile of whole columns within 4 × `floats` is wide enough (a multiple
    /// of 256, so of every block size), else nil.
    func columns(rows: Int, of total: Int) -> Int? {
        let width = 4 * floats / max(rows, 1) / 256 * 256
        if width >= total { return total }
        return width >= Self.minimumEdge ? width : nil
    }

    /// A buffer of at least `count` floats, valid until the next call.
    func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer?.deallocate()
            pointer = .allocate(capacity: count)
            capacity = count
        }
        return pointer!
    }

    deinit { pointer?.deallocate() }
}

/// The frozen base during one pass: fp32 vectors (norms, biases) at their layout offsets, and each matrix bound to
/// the storage and the tile scratch it multiplies through.
struct FrozenBase {
    /// `DecoderWeights.storage`: the vectors, and the matrices when they are fp32.
    let w: UnsafePointer<Float>
    let weights: DecoderWeights
    let tile: TileScratch

    /// The matrix at layout offset `offset`.
    func matrix(_ offset: Int) -> BoundMatrix { BoundMatrix(matrix: weights.matrix(at: offset), w: w, tile: tile) }
}

extension DecoderWeights {
    /// The base bound for one pass through `tile`, for the duration of `body`.
    func withBase<R>(_ tile: TileScratch, _ body: (FrozenBase) throws -> R) rethrows -> R {
        try withWeights { try body(FrozenBase(w: $0, weights: self, tile: tile)) }
    }
}

/// A frozen matrix W (out, in) bound for one pass: the products a linear layer needs with it.
struct BoundMatrix {
    let matrix: FrozenMatrix
    let w: UnsafePointer<Float>
    let tile: TileScratch

    /// Up to this many rows, a quantised product is a dequantise-and-dot over the stored bytes
    /// (`QuantizedMatrix.multiply`); above it, dequantised tiles go through the sgemm.
    static let decodeRows = 4

    /// `y (N, out) = x (N, in) · Wᵀ + bias`. Quantised: tiles of output rows, each dequantised and multiplied as a
    /// block of columns of y — every dot product is whole, over the same `in` values the fp32 path multiplies.
    func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 rows n: Int, out: Int, in inFeatures: Int) {
        let span = OpProfiler.begin()
        defer { OpProfiler.end(span, .baseMatmul, flops: Double(2 * n * out * inFeatures)) }
        switch matrix {
        case .dense(let offset) where n <= Self.decodeRows:
            // Decode over an fp32 base: the same sums as the quantised decode product below.
            let shared = UncheckedSendable((y, x, w + offset))
            Parallel.forEachChunk(out, minimumChunk: 64) { range in
                QuantizedMatrix.multiplyRows(range, of: shared.value.2, columns: inFeatures, vectors: shared.value.1, count: n,
                                             into: shared.value.0, ldy: out)
            }
            if let bias { addBias(y, bias, rows: n, out: out) }
        case .dense(let offset):
            linear(y, x, w + offset, bias: bias, rows: n, out: out, in: inFeatures)
        case .quantized(let q) where n <= Self.decodeRows:
            precondition(q.rows == out && q.columns == inFeatures, "matrix \(q.rows)×\(q.columns) used as \(out)×\(inFeatures)")
            // Decode: dequantise-and-dot from the stored bytes, bounded by reading them once.
            let shared = UncheckedSendable((y, x))
            Parallel.forEachChunk(out, minimumChunk: 64) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: q.scratchCount(vectors: n)) { scratch in
                    q.multiply(rows: range, vectors: shared.value.1, count: n, into: shared.value.0, ldy: out,
                               scratch: scratch.baseAddress!)
                }
            }
            if let bias { addBias(y, bias, rows: n, out: out) }
        case .quantized(let q):
            precondition(q.rows == out && q.columns == inFeatures, "matrix \(q.rows)×\(q.columns) used as \(out)×\(inFeatures)")
            forEachTile(q) { start, count, rows in
                matmul(x, .none, lda: inFeatures, rows, .transposed, ldb: inFeatures, y + start, ldc: out,
                       m: n, n: count, k: inFeatures)
            }
            if let bias { addBias(y, bias, rows: n, out: out) }
        }
    }

    /// `dx (N, in) += dY (N, out) · W`. Quantised: when a block of whole columns of W fits the tile, tiles over the
    /// input features, so each dx element is one whole sum over `out` as on the fp32 path; else (very tall matrices:
    /// the LM head) the sum over `out` is split at tile boundaries and results agree with the fp32 path to rounding.
    func inputGradient(_ dx: UnsafeMutablePointer<Float>, _ dY: UnsafePointer<Float>, rows n: Int, out: Int, in inFeatures: Int) {
        let span = OpProfiler.begin()
        defer { OpProfiler.end(span, .baseMatmul, flops: Double(2 * n * out * inFeatures)) }
        switch matrix {
        case .dense(let offset):
            matmul(dY, .none, w + offset, .none, dx, m: n, n: inFeatures, k: out, beta: 1)
        case .quantized(let q):
            precondition(q.rows == out && q.columns == inFeatures, "matrix \(q.rows)×\(q.columns) used as \(out)×\(inFeatures)")
            if let width = tile.columns(rows: out, of: inFeatures) {
                let buffer = tile.buffer(out * width)
                let shared = UncheckedSendable(buffer)
                for start in stride(from: 0, to: inFeatures, by: width) {
                    let count = min(width, inFeatures - start)
                    Parallel.forEachChunk(out, minimumChunk: max(1, 8192 / count)) { range in
                        q.dequantize(rows: range, columns: start..<(start + count), into: shared.value + range.lowerBound * count)
                    }
                    matmul(dY, .none, lda: out, buffer, .none, ldb: count, dx + start, ldc: inFeatures,
                           m: n, n: count, k: out, beta: 1)
                }
                return
            }
            forEachTile(q) { start, count, rows in
                matmul(dY + start, .none, lda: out, rows, .none, ldb: inFeatures, dx, ldc: inFeatures,
                       m: n, n: inFeatures, k: count, beta: 1)
            }
        }
    }

    /// `out (N, C) = W[tokens]`: the embedding lookup, dequantising only the rows the tokens name.
    func gatherRows(_ out: UnsafeMutablePointer<Float>, _ tokens: UnsafePointer<Int32>, n: Int, c: Int) {
        switch matrix {
        case .dense(let offset):
            embeddingForward(out, tokens, w + offset, n: n, c: c)
        case .quantized(let q):
            let shared = UncheckedSendable((out, tokens))
            Parallel.forEachChunk(n, minimumChunk: 16) { range in
                let (out, tokens) = shared.value
                for row in range {
                    let token = Int(tokens[row])
                    q.dequantize(rows: token..<(token + 1), into: out + row * c)
                }
            }
        }
    }

    /// Calls `body(firstRow, rowCount, tile)` for consecutive tiles of `q`'s rows, each dequantised into the scratch
    /// (in parallel across rows; the sgemm then runs on the BLAS threads, never at the same time).
    private func forEachTile(_ q: QuantizedMatrix, _ body: (Int, Int, UnsafePointer<Float>) -> Void) {
        let tileRows = min(q.rows, tile.rows(columns: q.columns))
        let buffer = tile.buffer(tileRows * q.columns)
        let shared = UncheckedSendable(buffer)
        for start in stride(from: 0, to: q.rows, by: tileRows) {
            let count = min(tileRows, q.rows - start)
            Parallel.forEachChunk(count, minimumChunk: max(1, 8192 / q.columns)) { range in
                q.dequantize(rows: (start + range.lowerBound)..<(start + range.upperBound),
                             into: shared.value + range.lowerBound * q.columns)
            }
            body(start, count, buffer)
        }
    }
}

/// `y (N, out) += bias (out)` on every row.
func addBias(_ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, out: Int) {
    Parallel.forEachChunk(rows, minimumChunk: 16) { range in
        for r in range {
            let row = y + r * out
            for j in 0..<out { row[j] += bias[j] }
        }
    }
}
