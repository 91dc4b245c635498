/// GGUF metadata value type ids (`enum gguf_type`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Fewest bytes one value of this type occupies in a file (a string is at least its 8-byte length).
    var minimumBytes: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64, .string: return 8
        case .array: return 12
        }
    }
}

/// One tensor's entry in a GGUF file.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// Name as stored, e.g. "blk.0.attn_q.weight".
    public let name: String
    /// ggml dimensions, innermost (contiguous) first.
    public let ne: [Int]
    /// Storage type.
    public let type: GGMLType
    /// Byte offset relative to the start of the data section.
    public let offset: Int
    /// Bytes of tensor data.
    public let byteCount: Int
    /// Number of elements.
    public let elementCount: Int

    /// Row-major shape, outermost first (`ne` reversed).
    public var shape: [Int] { ne.reversed() }
}

extension GGUFTensorInfo: StoredTensorInfo {
    var dataRange: Range<Int> { offset ..< offset + byteCount }
}

/// A GGUF v2/v3 model file, memory-mapped and validated with the checks of ggml's hardened `gguf.cpp`.
///
/// Metadata is parsed eagerly; tensor data stays in the mapping until `floats(_:)` dequantises it.
public final class GGUFFile: TensorSource, Sendable {
    /// Metadata key that sets the data alignment.
    public static let alignmentKey = "general.alignment"
    /// Alignment when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// ggml's `GGML_MAX_DIMS`.
    public static let maxDimensions = 4
    /// ggml's `GGML_MAX_NAME`: tensor names must be shorter than this many bytes.
    public static let maxNameLength = 64

    /// The path (or in-memory name) used in errors.
    public let path: String
    /// Format version (2 or 3).
    public let version: Int
    /// Metadata by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensor entries in file order.
    public var tensors: [GGUFTensorInfo] { table.entries }
    /// Data alignment in bytes.
    public let alignment: Int
    /// Absolute byte offset of the data section.
    public var dataStart: Int { table.dataStart }
    var bytes: MappedBytes { table.bytes }
    private let table: MappedTensors<GGUFTensorInfo>

    /// Memory-maps and validates the file at `path`.
    public convenience init(path: String) throws {
        try self.init(mapped: MappedBytes(path: path))
    }

    /// Validates an in-memory GGUF image; `name` is used in errors.
    public convenience init(bytes: [UInt8], name: String) throws {
        try self.init(mapped: MappedBytes(bytes: bytes, name: name))
    }

    /// Validates already-mapped bytes.
    public init(mapped: MappedBytes) throws {
        var parser = GGUFParser(ByteReader(mapped.buffer, file: mapped.name))
        let header = try parser.parse()
        path = mapped.name
        version = header.version
        metadata = header.metadata
        metadataKeys = header.metadataKeys
        tensorNames = header.tensors.map(\.name)
        alignment = header.alignment
        table = MappedTensors(path: mapped.name, entries: header.tensors, dataStart: header.dataStart, bytes: mapped)
    }

    /// Tensor names in file order.
    public let tensorNames: [String]

    /// The entry for `name`, or a `.notFound` error.
    public func info(_ name: String) throws -> GGUFTensorInfo { try table.info(name) }

    /// Row-major shape (ne reversed).
    public func shape(of name: String) throws -> [Int] { try info(name).shape }

    /// The ggml type name, e.g. "Q4_1".
    public func storageType(of name: String) throws -> String { try info(name).type.name }

    /// Calls `body` with the raw bytes of `name`; the view is valid only inside `body`.
    public func withRawBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try table.withRawBytes(of: name, body)
    }

    /// The values of `name` dequantised to fp32, bit-exactly as ggml's `dequantize_row_*`.
    public func floats(_ name: String) throws -> [Float] { try table.floats(name, dequantize) }

    /// Dequantises `name` into `out`, which must hold exactly its element count.
    public func floats(_ name: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        try table.floats(name, into: out, dequantize)
    }

    private func dequantize(_ entry: GGUFTensorInfo, _ raw: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard entry.type.canDequantize else {
            throw FormatError(.unsupported, file: path, offset: dataStart + entry.offset,
                              "tensor \"\(entry.name)\" is stored as \(entry.type.name), which Lathe cannot dequantise",
                              fix: "use a GGUF quantised as F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 or Q2_K…Q6_K")
        }
        Dequantize.run(entry.type, raw, into: out)
    }
}

extension GGUFFile {
    /// The 2-D tensor `name` as a matrix read in place from the mapping, in its stored type (rows = ne[1]).
    public func quantizedMatrix(_ name: String) throws -> QuantizedMatrix {
        let entry = try info(name)
        guard entry.ne.count == 2 || (entry.ne.count > 2 && entry.ne[2...].allSatisfy { $0 == 1 }) else {
            throw FormatError(.invalidValue, file: path, offset: dataStart + entry.offset,
                              "tensor \"\(name)\" has shape \(entry.shape), not a matrix", fix: "check the model's tensor shapes")
        }
        return try QuantizedMatrix(type: entry.type, rows: entry.ne[1], columns: entry.ne[0], bytes: bytes,
                                   byteOffset: dataStart + entry.offset)
    }
}
