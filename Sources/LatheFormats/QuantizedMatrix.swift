/// A weight matrix (rows, columns) kept in its file's storage type — a ggml quant, F16, BF16 or F32 — read in place
/// (memory-mapped, or bytes quantised on load) and dequantised a few rows at a time, bit-exactly as `floats(_:)`
/// converts the whole tensor. A row is whole blocks, so any set of rows dequantises on its own.
public struct QuantizedMatrix: Sendable {
    /// Storage type of every row.
    public let type: GGMLType
    /// Logical rows (out features of a linear layer; vocabulary rows of an embedding).
    public let rows: Int
    /// Values per row.
    public let columns: Int
    /// Bytes of one stored row.
    public let rowBytes: Int
    let bytes: MappedBytes
    let byteOffset: Int       // absolute offset of stored row 0 in `bytes`
    /// Stored row of each logical row when the rows are reordered (GGUF's Q/K permutation); nil: row i is row i.
    let rowOrder: [Int32]?

    /// The `rows` × `columns` values of `type` starting at `byteOffset` of `bytes`; the range is checked against the
    /// buffer and `columns` must be whole blocks.
    public init(type: GGMLType, rows: Int, columns: Int, bytes: MappedBytes, byteOffset: Int) throws {
        guard type.canDequantize else {
            throw FormatError(.unsupported, file: bytes.name, offset: byteOffset,
                              "a \(rows)×\(columns) matrix stored as \(type.name) cannot be dequantised",
                              fix: "use F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 or Q2_K…Q6_K")
        }
        guard rows >= 0, columns > 0, columns % type.blockSize == 0 else {
            throw FormatError(.invalidValue, file: bytes.name, offset: byteOffset,
                              "rows of \(columns) values are not whole \(type.name) blocks of \(type.blockSize)",
                              fix: "the matrix's inner dimension must be a multiple of \(type.blockSize)")
        }
        let rowBytes = columns / type.blockSize * type.blockBytes
        guard byteOffset >= 0, byteOffset + rows * rowBytes <= bytes.count else {
            throw FormatError(.badLayout, file: bytes.name, offset: byteOffset,
                              "a \(rows)×\(columns) \(type.name) matrix needs \(rows * rowBytes) bytes beyond the file's end",
                              fix: "the file is truncated; re-download it")
        }
        self.init(type: type, rows: rows, columns: columns, rowBytes: rowBytes, bytes: bytes, byteOffset: byteOffset,
                  rowOrder: nil)
    }

    private init(type: GGMLType, rows: Int, columns: Int, rowBytes: Int, bytes: MappedBytes, byteOffset: Int,
                 rowOrder: [Int32]?) {
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.bytes = bytes
        self.byteOffset = byteOffset
        self.rowOrder = rowOrder
    }

    /// Bytes the matrix occupies in its storage type.
    public var byteCount: Int { rows * rowBytes }

    /// The same storage read with logical row i taken from current row `order[i]` (a permutation of the rows).
    public func reorderingRows(_ order: [Int]) -> QuantizedMatrix {
        precondition(order.count == rows && Set(order).count == rows && order.allSatisfy { $0 >= 0 && $0 < rows })
        let stored: [Int] = order.map { row in rowOrder.map { Int($0[row]) } ?? row }
        return QuantizedMatrix(type: type, rows: rows, columns: columns, rowBytes: rowBytes, bytes: bytes,
                               byteOffset: byteOffset, rowOrder: stored.map { Int32($0) })
    }

    /// Rows `range` as a matrix of their own (a part of a fused projection).
    public func rowSlice(_ range: Range<Int>) -> QuantizedMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows)
        if let rowOrder {
            return QuantizedMatrix(type: type, rows: range.count, columns: columns, rowBytes: rowBytes, bytes: bytes,
                                   byteOffset: byteOffset, rowOrder: Array(rowOrder[range]))
        }
        return QuantizedMatrix(type: type, rows: range.count, columns: columns, rowBytes: rowBytes, bytes: bytes,
                               byteOffset: byteOffset + range.lowerBound * rowBytes, rowOrder: nil)
    }

    /// Dequantises rows `range` into `out` (range.count, columns).
    public func dequantize(rows range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows)
        guard !range.isEmpty else { return }
        withExtendedLifetime(bytes) {
            guard let base = bytes.buffer.baseAddress else { return }
            if rowOrder == nil {
                let start = base + byteOffset + range.lowerBound * rowBytes
                Dequantize.run(type, UnsafeRawBufferPointer(start: start, count: range.count * rowBytes),
                               into: UnsafeMutableBufferPointer(start: out, count: range.count * columns))
                return
            }
            for (i, row) in range.enumerated() {
                let start = base + byteOffset + Int(rowOrder![row]) * rowBytes
                Dequantize.run(type, UnsafeRawBufferPointer(start: start, count: rowBytes),
                               into: UnsafeMutableBufferPointer(start: out + i * columns, count: columns))
            }
        }
    }

    /// Dequantises columns `columns` (whole blocks) of rows `range` into `out` (range.count, columns.count): a block
    /// of columns of the matrix, for the input-gradient product tiled over the input features.
    public func dequantize(rows range: Range<Int>, columns: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows && columns.lowerBound >= 0 && columns.upperBound <= self.columns
                     && columns.lowerBound % type.blockSize == 0 && columns.count % type.blockSize == 0)
        guard !range.isEmpty, !columns.isEmpty else { return }
        let skip = columns.lowerBound / type.blockSize * type.blockBytes, count = columns.count / type.blockSize * type.blockBytes
        withExtendedLifetime(bytes) {
            guard let base = bytes.buffer.baseAddress else { return }
            for (i, row) in range.enumerated() {
                let stored = rowOrder.map { Int($0[row]) } ?? row
                Dequantize.run(type, UnsafeRawBufferPointer(start: base + byteOffset + stored * rowBytes + skip, count: count),
                               into: UnsafeMutableBufferPointer(start: out + i * columns.count, count: columns.count))
            }
        }
    }

    /// Every value, row-major, as a new array (exports and the fp32 path; never on the training path).
    public func floats() -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * columns) { buffer, initialized in
            if let base = buffer.baseAddress { dequantize(rows: 0..<rows, into: base) }
            initialized = rows * columns
        }
    }
}

extension QuantizedMatrix {
    /// `values` (rows, columns) encoded as `type` into bytes this matrix owns: quantisation on load of an fp32 or
    /// 16-bit base. `name` is used in errors. Supported: F32, F16, BF16, Q8_0, Q4_K.
    public init(encoding values: UnsafeBufferPointer<Float>, rows: Int, columns: Int, as type: GGMLType, name: String) throws {
        precondition(values.count == rows * columns)
        guard Quantize.canEncode(type) else {
            throw FormatError(.unsupported, file: name, "cannot quantise to \(type.name)",
                              fix: "quantise on load to f32, bf16, f16, q8_0 or q4_k")
        }
        guard columns % type.blockSize == 0 else {
            throw FormatError(.invalidValue, file: name, "rows of \(columns) values are not whole \(type.name) blocks of \(type.blockSize)",
                              fix: "keep this model in bf16 or f32 (\(type.name) needs a width that is a multiple of \(type.blockSize))")
        }
        let rowBytes = columns / type.blockSize * type.blockBytes
        var encoded = [UInt8](repeating: 0, count: rows * rowBytes)
        encoded.withUnsafeMutableBytes { Quantize.encode(values, as: type, into: $0) }
        try self.init(type: type, rows: rows, columns: columns, bytes: MappedBytes(bytes: encoded, name: name), byteOffset: 0)
    }
}
