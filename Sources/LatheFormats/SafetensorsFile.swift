/// A single `.safetensors` file, memory-mapped and validated as the Rust `safetensors` crate validates it.
///
/// Tensor bytes are read from the mapping on demand; nothing is copied until `floats(_:)` converts a tensor.
public final class SafetensorsFile: TensorSource, Sendable {
    /// The path (or in-memory name) used in errors.
    public let path: String
    /// The optional `__metadata__` string map.
    public let metadata: [String: String]?
    /// Tensor entries in data-offset order.
    public let tensors: [SafetensorsTensorInfo]
    /// Absolute byte offset of the data section (8 + header length).
    public let dataStart: Int
    private let bytes: MappedBytes
    private let index: [String: Int]

    /// Memory-maps and validates the file at `path`.
    public convenience init(path: String) throws {
        try self.init(mapped: MappedBytes(path: path))
    }

    /// Validates an in-memory safetensors image; `name` is used in errors.
    public convenience init(bytes: [UInt8], name: String) throws {
        try self.init(mapped: MappedBytes(bytes: bytes, name: name))
    }

    /// Validates already-mapped bytes.
    public init(mapped: MappedBytes) throws {
        let header = try SafetensorsHeader(mapped.buffer, file: mapped.name)
        path = mapped.name
        bytes = mapped
        metadata = header.metadata
        tensors = header.tensors
        tensorNames = header.tensors.map(\.name)
        dataStart = header.dataStart
        var index: [String: Int] = [:]
        for (i, info) in header.tensors.enumerated() { index[info.name] = i }
        self.index = index
    }

    /// Tensor names in data-offset order.
    public let tensorNames: [String]

    /// The header entry for `name`, or a `.notFound` error.
    public func info(_ name: String) throws -> SafetensorsTensorInfo {
        guard let i = index[name] else {
            throw FormatError(.notFound, file: path, "no tensor named \"\(name)\"",
                              fix: "check the tensor name; the file holds \(tensors.count) tensors")
        }
        return tensors[i]
    }

    /// Row-major shape of `name`.
    public func shape(of name: String) throws -> [Int] { try info(name).shape }

    /// The dtype string, e.g. "BF16".
    public func storageType(of name: String) throws -> String { try info(name).dtype.rawValue }

    /// Calls `body` with the raw little-endian bytes of `name`; the view is valid only inside `body`.
    public func withRawBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let entry = try info(name)
        return try withExtendedLifetime(bytes) {
            try body(UnsafeRawBufferPointer(rebasing: bytes.buffer[dataStart + entry.dataOffsets.lowerBound ..< dataStart + entry.dataOffsets.upperBound]))
        }
    }

    /// The values of `name` converted to fp32 (F32, F16 and BF16 only).
    public func floats(_ name: String) throws -> [Float] {
        let entry = try info(name)
        return try makeFloats(count: entry.elementCount) { try floats(name, into: $0) }
    }

    /// Converts `name` to fp32 into `out`, which must hold exactly its element count.
    public func floats(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        let entry = try info(name)
        guard out.count == entry.elementCount else {
            throw FormatError(.invalidValue, file: path, "tensor \"\(name)\" has \(entry.elementCount) elements, not \(out.count)",
                              fix: "size the destination from shape(of:)")
        }
        try withRawBytes(of: name) { raw in
            switch entry.dtype {
            case .f32: PlainFloatConversion.f32(raw, into: out)
            case .f16: PlainFloatConversion.f16(raw, into: out)
            case .bf16: PlainFloatConversion.bf16(raw, into: out)
            default:
                throw FormatError(.unsupported, file: path, offset: dataStart + entry.dataOffsets.lowerBound,
                                  "tensor \"\(name)\" is \(entry.dtype.rawValue), which is not a float type",
                                  fix: "only F32, F16 and BF16 tensors can be read as floats")
            }
        }
    }
}
