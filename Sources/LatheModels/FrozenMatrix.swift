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
    private let storage = GrowingBuffer()

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
    func buffer(_ count: Int) -> UnsafeMutablePointer<Float> { storage.floats(count) }
}

/// Floats kept from one call to the next, reallocated only to grow: a buffer allocated afresh for each pass takes
/// its page faults again each time (on this VM about 13 µs per 4 KiB page, 0.3 s for 100 MB of logits).
final class GrowingBuffer {
    private var pointer: UnsafeMutablePointer<Float>?
    private var capacity = 0

    /// At least `count` floats (contents unspecified), valid until the next call.
    func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity || pointer == nil {
            pointer?.deallocate()
            pointer = .allocate(capacity: max(count, 1))
            capacity = max(count, 1)
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
    func matrix(_ offset: Int) -> BoundMatrix {
        BoundMatrix(matrix: weights.matrix(at: offset), w: w, tile: tile, activations: weights.decodeActivations)
    }
}

extension DecoderWeights {
    /// The base bound for one pass through `tile`, for the duration of `body`.
    func withBase<R>(_ tile: TileScratch, _ body: (FrozenBase) throws -> R) rethrows -> R {
        try withWeights { try body(FrozenBase(w: $0, weights: self, tile: tile)) }
    }
}

/// How the products of few rows — decode steps, and with `q8` any product of up to 16 rows (a short prompt, a
/// batched step) — multiply their activations by a base kept in a ggml 4- or 8-bit type (`BoundMatrix.decodeRowLimit`).
public enum DecodeActivations: String, Sendable, CaseIterable {
    /// Dequantised weights times fp32 activations, as transformers computes: the same sums as an fp32 base
    /// (`QuantizedMatrix.multiply`). The default, and the only path evaluation and training take.
    case fp32
    /// Activations rounded to 8 bits per 32-value block and integer dots with the stored blocks, as llama.cpp
    /// computes (`QuantizedMatrix.multiply(rows:q8Vectors:…)`): faster, with logits about 1e-2 off the fp32 ones.
    /// Matrices of other types (Q4_K, F16, …) keep the fp32 path.
    case q8
}

/// A frozen matrix W (out, in) bound for one pass: the products a linear layer needs with it.
struct BoundMatrix {
    let matrix: FrozenMatrix
    let w: UnsafePointer<Float>
    let tile: TileScratch
    var activations = DecodeActivations.fp32

    /// Up to this many rows, a quantised product is a dequantise-and-dot over the stored bytes
    /// (`QuantizedMatrix.multiply`); above it, dequantised tiles go through the sgemm.
    static let decodeRows = 4

    /// Rows up to which this matrix's products are decode products: `decodeRows`, or, when the activations are
    /// rounded to 8 bits, `QuantizedMatrix.maximumVectors` (integer dots stay ahead of the tiles to a batch of 16).
    var decodeRowLimit: Int { roundsActivations ? QuantizedMatrix.maximumVectors : Self.decodeRows }

    /// `y (N, out) = x (N, in) · Wᵀ + bias`. Up to `decodeRowLimit` rows, a decode product (`decode`). Quantised:
    /// tiles of output rows, each dequantised and multiplied as a block of columns of y — every dot product is
    /// whole, over the same `in` values the fp32 path multiplies.
    func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 rows n: Int, out: Int, in inFeatures: Int) {
        if n <= decodeRowLimit {
            Self.decode([DecodeProduct(matrix: self, y: y, bias: bias, out: out)], x, rows: n, in: inFeatures)
            return
        }
        let span = OpProfiler.begin()
        defer { OpProfiler.end(span, .baseMatmul, flops: Double(2 * n * out * inFeatures)) }
        switch matrix {
        case .dense(let offset):
            linear(y, x, w + offset, bias: bias, rows: n, out: out, in: inFeatures)
        case .quantized(let q):
            precondition(q.rows == out && q.columns == inFeatures, "matrix \(q.rows)×\(q.columns) used as \(out)×\(inFeatures)")
            forEachTile(q) { start, count, rows in
                matmul(x, .none, lda: inFeatures, rows, .transposed, ldb: inFeatures, y + start, ldc: out,
                       m: n, n: count, k: inFeatures)
            }
            if let bias { addBias(y, bias, rows: n, out: out) }
        }
    }

    /// One product of a decode step: `y (N, out) = x · Wᵀ + bias` for `matrix`.
    struct DecodeProduct {
        let matrix: BoundMatrix
        let y: UnsafeMutablePointer<Float>
        let bias: UnsafePointer<Float>?
        let out: Int
    }

    /// The products of a decode step (N ≤ `decodeRowLimit` rows) that read the same input — q, k and v; gate and up —
    /// in one parallel section over all their output rows: a step has fewer of the thread hand-offs that dominate
    /// at decode sizes, and each output is the same whole dot product however the rows are split. Quantised: a
    /// dequantise-and-dot over the stored bytes, bounded by reading them once; with `DecodeActivations.q8`, the
    /// input is rounded to 8 bits once for every product that takes it. fp32: the same sums as the quantised
    /// fp32-activation product (`QuantizedMatrix.multiplyRows`).
    /// Every matrix must take decode products of `n` rows (`decodeRowLimit`).
    static func decode(_ products: [DecodeProduct], _ x: UnsafePointer<Float>, rows n: Int, in inFeatures: Int) {
        precondition(products.allSatisfy { n <= $0.matrix.decodeRowLimit }, "a decode product of \(n) rows")
        let total = products.reduce(0) { $0 + $1.out }
        let span = OpProfiler.begin()
        defer { OpProfiler.end(span, .baseMatmul, flops: Double(2 * n * total * inFeatures)) }
        let rounded = products.contains { $0.matrix.roundsActivations }
        withUnsafeTemporaryAllocation(byteCount: rounded ? n * inFeatures / 32 * QuantizedMatrix.q8BlockBytes : 0,
                                      alignment: 16) { blocks in
            if rounded { QuantizedMatrix.quantizeActivations(x, count: n * inFeatures, into: blocks.baseAddress!) }
            let shared = UncheckedSendable((products, x, blocks.baseAddress.map(UnsafeRawPointer.init)))
            Parallel.forEachChunk(total, minimumChunk: 64) { range in
                var first = 0
                for product in shared.value.0 {
                    let (lower, upper) = (max(range.lowerBound - first, 0), min(range.upperBound - first, product.out))
                    if lower < upper {
                        product.matrix.multiplyDecodeRows(lower..<upper, product.y, shared.value.1, rounded: shared.value.2, count: n,
                                                  out: product.out, in: inFeatures)
                    }
                    first += product.out
                }
            }
        }
        for product in products { if let bias = product.bias { addBias(product.y, bias, rows: n, out: product.out) } }
    }

    /// True when this matrix's decode products take the input rounded to 8 bits.
    private var roundsActivations: Bool {
        guard activations == .q8, case .quantized(let q) = matrix else { return false }
        return q.takesQ8Activations
    }

    /// Rows `range` of the decode product `y (n, out) = x · Wᵀ`; `rounded` holds x rounded to 8 bits when
    /// `roundsActivations`.
    private func multiplyDecodeRows(_ range: Range<Int>, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                            rounded: UnsafeRawPointer?, count n: Int, out: Int, in inFeatures: Int) {
        switch matrix {
        case .dense(let offset):
            QuantizedMatrix.multiplyRows(range, of: w + offset, columns: inFeatures, vectors: x, count: n, into: y, ldy: out)
        case .quantized(let q):
            precondition(q.rows == out && q.columns == inFeatures, "matrix \(q.rows)×\(q.columns) used as \(out)×\(inFeatures)")
            if roundsActivations, let rounded {
                q.multiply(rows: range, q8Vectors: rounded, count: n, into: y, ldy: out)
                return
            }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: q.scratchCount(vectors: n)) { scratch in
                q.multiply(rows: range, vectors: x, count: n, into: y, ldy: out, scratch: scratch.baseAddress!)
            }
        }
    }

    /// `dx (N, in) += dY (N, out) · W`, or `=` without `accumulate` (dx's contents are then never read). Quantised:
    /// when a block of whole columns of W fits the tile, tiles over the input features, so each dx element is one
    /// whole sum over `out` as on the fp32 path; else (very tall matrices: the LM head) the sum over `out` is split at
    /// tile boundaries and results agree with the fp32 path to rounding.
    func inputGradient(_ dx: UnsafeMutablePointer<Float>, _ dY: UnsafePointer<Float>, rows n: Int, out: Int, in inFeatures: Int,
                       accumulate: Bool) {
        let span = OpProfiler.begin()
        defer { OpProfiler.end(span, .baseMatmul, flops: Double(2 * n * out * inFeatures)) }
        let beta: Float = accumulate ? 1 : 0
        switch matrix {
        case .dense(let offset):
            matmul(dY, .none, w + offset, .none, dx, m: n, n: inFeatures, k: out, beta: beta)
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
                           m: n, n: count, k: out, beta: beta)
                }
                return
            }
            forEachTile(q) { start, count, rows in   // the first tile's product writes, the rest add
                matmul(dY + start, .none, lda: out, rows, .none, ldb: inFeatures, dx, ldc: inFeatures,
                       m: n, n: inFeatures, k: count, beta: start == 0 ? beta : 1)
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
    /// (in parallel across rows; the sgemm then runs split over the same threads, never at the same time).
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
