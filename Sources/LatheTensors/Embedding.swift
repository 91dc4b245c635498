import LatheSupport

// Token embedding lookup: each row of the output is the table row its token names.

/// `out (N, C) = table (V, C)[tokens (N)]`. Tokens must be non-negative and index rows of `table`.
public func embeddingForward(
    _ out: UnsafeMutablePointer<Float>,       // (N, C)
    _ tokens: UnsafePointer<Int32>,           // (N)
    _ table: UnsafePointer<Float>,            // (V, C)
    n: Int, c: Int
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(8 * n * c)) }
    precondition(n >= 0 && c >= 0, "embeddingForward n=\(n) c=\(c)")
    let shared = UncheckedSendable((out, tokens, table))
    Parallel.forEachChunk(n, minimumChunk: 64) { rows in
        let (out, tokens, table) = shared.value
        for row in rows {
            let token = Int(tokens[row])
            precondition(token >= 0, "embeddingForward: negative token \(token) at row \(row)")
            (out + row * c).update(from: table + token * c, count: c)
        }
    }
}

/// `dTable (V, C) += scatter-add of dOut (N, C)` into the rows `tokens (N)` name.
/// Split by columns so that repeated tokens never race and the sum order is fixed (rows in order).
public func embeddingBackward(
    _ dTable: UnsafeMutablePointer<Float>,    // (V, C)
    _ dOut: UnsafePointer<Float>,             // (N, C)
    _ tokens: UnsafePointer<Int32>,           // (N)
    n: Int, c: Int
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(12 * n * c)) }
    precondition(n >= 0 && c >= 0, "embeddingBackward n=\(n) c=\(c)")
    for row in 0..<n { precondition(tokens[row] >= 0, "embeddingBackward: negative token \(tokens[row]) at row \(row)") }
    let shared = UncheckedSendable((dTable, dOut, tokens))
    Parallel.forEachChunk(c, minimumChunk: 64) { columns in
        let (dTable, dOut, tokens) = shared.value
        let width = columns.count
        for row in 0..<n {
            let token = Int(tokens[row])
            addInPlace(dTable + token * c + columns.lowerBound, dOut + row * c + columns.lowerBound, width)
        }
    }
}
