/// Read access to the tensors of a model file, whatever its format, so the model loader can take either.
public protocol TensorSource {
    /// Names as stored (HF names for safetensors; GGUF names like "blk.0.attn_q.weight" for GGUF).
    var tensorNames: [String] { get }
    /// Row-major shape, outermost first (for GGUF this is ne reversed: a weight with ne=[in, out] has shape [out, in]).
    func shape(of name: String) throws -> [Int]
    /// A short storage type name for display: "F32", "BF16", "Q4_1", ...
    func storageType(of name: String) throws -> String
    /// The values converted to fp32, row-major.
    func floats(_ name: String) throws -> [Float]
    /// The values converted to fp32 straight into `out` (no intermediate array); `out.count` must equal the element
    /// count. The readers here implement it directly; the default copies from `floats(_:)`.
    func floats(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws
    /// The 2-D tensor `name` read in place, in its stored type, dequantised only a few rows at a time when used.
    func quantizedMatrix(_ name: String) throws -> QuantizedMatrix
}

extension TensorSource {
    /// True when a tensor of this name exists.
    public func contains(_ name: String) -> Bool { tensorNames.contains(name) }

    /// Number of elements of `name` (product of its shape).
    public func elementCount(of name: String) throws -> Int { try shape(of: name).reduce(1, *) }

    /// Default: converts to an array, then copies.
    public func floats(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        let values = try floats(name)
        guard values.count == out.count else {
            throw FormatError(.invalidValue, file: name, "tensor has \(values.count) elements, not \(out.count)",
                              fix: "size the destination from shape(of:)")
        }
        _ = out.initialize(from: values)
    }
}

/// A tensor entry of a memory-mapped model file: its name, element count and where its bytes lie.
protocol StoredTensorInfo: Sendable {
    /// Name as stored.
    var name: String { get }
    /// Number of elements.
    var elementCount: Int { get }
    /// Byte range relative to the start of the data section.
    var dataRange: Range<Int> { get }
}

/// The tensor entries of a memory-mapped model file, looked up by name, with views of their bytes: the one accessor
/// the GGUF and safetensors readers share.
struct MappedTensors<Info: StoredTensorInfo>: Sendable {
    /// The path (or in-memory name) used in errors.
    let path: String
    /// Entries in the file's order.
    let entries: [Info]
    /// Absolute byte offset of the data section.
    let dataStart: Int
    /// The mapping the entries point into.
    let bytes: MappedBytes
    private let index: [String: Int]

    init(path: String, entries: [Info], dataStart: Int, bytes: MappedBytes) {
        self.path = path
        self.entries = entries
        self.dataStart = dataStart
        self.bytes = bytes
        var index: [String: Int] = [:]
        for (i, info) in entries.enumerated() { index[info.name] = i }
        self.index = index
    }

    /// The entry for `name`, or a `.notFound` error.
    func info(_ name: String) throws -> Info {
        guard let i = index[name] else {
            throw FormatError(.notFound, file: path, "no tensor named \"\(name)\"",
                              fix: "check the tensor name; the file holds \(entries.count) tensors")
        }
        return entries[i]
    }

    /// Calls `body` with the raw little-endian bytes of `name`; the view is valid only inside `body`.
    func withRawBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let range = try info(name).dataRange
        return try withExtendedLifetime(bytes) {
            try body(UnsafeRawBufferPointer(rebasing: bytes.buffer[dataStart + range.lowerBound ..< dataStart + range.upperBound]))
        }
    }

    /// The values of `name` as a new fp32 array, filled by `convert` (entry, raw bytes, destination).
    func floats(_ name: String, _ convert: (Info, UnsafeRawBufferPointer, UnsafeMutableBufferPointer<Float>) throws -> Void) throws -> [Float] {
        try makeFloats(count: try info(name).elementCount) { try floats(name, into: $0, convert) }
    }

    /// Checks that `out` holds exactly the element count of `name`, then lets `convert` fill it from the raw bytes.
    func floats(_ name: String, into out: UnsafeMutableBufferPointer<Float>,
                _ convert: (Info, UnsafeRawBufferPointer, UnsafeMutableBufferPointer<Float>) throws -> Void) throws {
        let entry = try info(name)
        guard out.count == entry.elementCount else {
            throw FormatError(.invalidValue, file: path, "tensor \"\(name)\" has \(entry.elementCount) elements, not \(out.count)",
                              fix: "size the destination from shape(of:)")
        }
        try withRawBytes(of: name) { try convert(entry, $0, out) }
    }
}

/// Fills an fp32 array of `count` elements with `fill`, which must write all of it.
func makeFloats(count: Int, _ fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows -> [Float] {
    try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        try fill(buffer)
        initialized = count
    }
}

/// Little-endian F32 / F16 / BF16 elements → fp32 (the only conversions of plain float storage).
enum PlainFloatConversion {
    static func f32(_ source: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        guard let base = source.baseAddress, let dest = out.baseAddress else { return }
        UnsafeMutableRawPointer(dest).copyMemory(from: base, byteCount: out.count * 4)
    }

    static func f16(_ source: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        HalfFloat.f16Table.withUnsafeBufferPointer { table in
            for i in 0 ..< out.count {
                out[i] = table[Int(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))]
            }
        }
    }

    static func bf16(_ source: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< out.count {
            out[i] = HalfFloat.float(fromBF16: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    }
}
