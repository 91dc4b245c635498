/// A single `.safetensors` file, memory-mapped and validated as the Rust `safetensors` crate validates it.
///
/// Tensor bytes are read from the mapping on demand; nothing is copied until `floats(_:)` converts a tensor.
public final class SafetensorsFile: TensorSource, Sendable {
    /// The path (or in-memory name) used in errors.
    public let path: String
    /// The optional `__metadata__` string map.
    public let metadata: [String: String]?
    /// Tensor entries in data-offset order.
    public var tensors: [SafetensorsTensorInfo] { table.entries }
    /// Absolute byte offset of the data section (8 + header length).
    public var dataStart: Int { table.dataStart }
    let table: MappedTensors<SafetensorsTensorInfo>

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
        metadata = header.metadata
        tensorNames = header.tensors.map(\.name)
        table = MappedTensors(path: mapped.name, entries: header.tensors, dataStart: header.dataStart, bytes: mapped)
    }

    /// Tensor names in data-offset order.
    public let tensorNames: [String]

    /// The header entry for `name`, or a `.notFound` error.
    public func info(_ name: String) throws -> SafetensorsTensorInfo { try table.info(name) }

    /// Row-major shape of `name`.
    public func shape(of name: String) throws -> [Int] { try info(name).shape }

    /// The dtype string, e.g. "BF16".
    public func storageType(of name: String) throws -> String { try info(name).dtype.rawValue }

    /// Calls `body` with the raw little-endian bytes of `name`; the view is valid only inside `body`.
    public func withRawBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try table.withRawBytes(of: name, body)
    }

    /// The values of `name` converted to fp32 (F32, F16 and BF16 only).
    public func floats(_ name: String) throws -> [Float] { try table.floats(name, convert) }

    /// Converts `name` to fp32 into `out`, which must hold exactly its element count.
    public func floats(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        try table.floats(name, into: out, convert)
    }

    private func convert(_ entry: SafetensorsTensorInfo, _ raw: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) throws {
        switch entry.dtype {
        case .f32: PlainFloatConversion.f32(raw, into: out)
        case .f16: PlainFloatConversion.f16(raw, into: out)
        case .bf16: PlainFloatConversion.bf16(raw, into: out)
        default:
            throw FormatError(.unsupported, file: path, offset: dataStart + entry.dataOffsets.lowerBound,
                              "tensor \"\(entry.name)\" is \(entry.dtype.rawValue), which is not a float type",
                              fix: "only F32, F16 and BF16 tensors can be read as floats")
        }
    }
}

extension SafetensorsFile {
    /// The 2-D F32, F16 or BF16 tensor `name` as a matrix read in place from the mapping.
    public func quantizedMatrix(_ name: String) throws -> QuantizedMatrix {
        let entry = try info(name)
        let type: GGMLType
        switch entry.dtype {
        case .f32: type = .f32
        case .f16: type = .f16
        case .bf16: type = .bf16
        default:
            throw FormatError(.unsupported, file: path, offset: dataStart + entry.dataOffsets.lowerBound,
                              "tensor \"\(name)\" is \(entry.dtype.rawValue), which is not a float type",
                              fix: "only F32, F16 and BF16 tensors can be read as floats")
        }
        guard entry.shape.count == 2 else {
            throw FormatError(.invalidValue, file: path, offset: dataStart + entry.dataOffsets.lowerBound,
                              "tensor \"\(name)\" has shape \(entry.shape), not a matrix", fix: "check the model's tensor shapes")
        }
        return try QuantizedMatrix(type: type, rows: entry.shape[0], columns: entry.shape[1], bytes: table.bytes,
                                   byteOffset: dataStart + entry.dataOffsets.lowerBound)
    }
}
