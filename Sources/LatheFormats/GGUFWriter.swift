/// Builds a GGUF v3 file: metadata of any type in insertion order, tensors stored as F32, F16, BF16 or Q8_0
/// (or raw blocks of any type), aligned, written to a temporary file and renamed into place.
public struct GGUFWriter: Sendable {
    private struct Tensor: Sendable {
        let name: String
        let ne: [Int]
        let type: GGMLType
        let byteCount: Int
        let values: [Float]?
        let raw: [UInt8]?
    }

    /// Metadata keys in insertion order.
    public private(set) var metadataKeys: [String] = []
    /// Metadata by key.
    public private(set) var metadata: [String: GGUFValue] = [:]
    private var emptyArrayTypes: [String: GGUFValueType] = [:]
    private var tensors: [Tensor] = []
    private var tensorNames = Set<String>()

    /// An empty writer.
    public init() {}

    /// Data alignment: `general.alignment` when set, else 32.
    public var alignment: Int {
        if case .uint32(let a) = metadata[GGUFFile.alignmentKey] { return Int(a) }
        return GGUFFile.defaultAlignment
    }

    /// Sets `key` (a new key goes last; an existing one keeps its place). Arrays must hold one non-array type;
    /// `emptyArrayType` is the element type recorded for an empty array, which `GGUFValue` cannot carry.
    public mutating func set(_ key: String, _ value: GGUFValue, emptyArrayType: GGUFValueType = .uint8) throws {
        if case .array(let items) = value {
            guard emptyArrayType != .array else { throw misuse(key, "arrays cannot nest") }
            if let first = items.first {
                let type = Self.type(of: first)
                guard type != .array else { throw misuse(key, "arrays cannot nest") }
                guard items.allSatisfy({ Self.type(of: $0) == type }) else { throw misuse(key, "array elements must share one type") }
            }
            emptyArrayTypes[key] = emptyArrayType
        }
        if key == GGUFFile.alignmentKey {
            guard case .uint32(let a) = value, a != 0, a & (a - 1) == 0 else {
                throw misuse(key, "general.alignment must be a uint32 power of two")
            }
        }
        if metadata[key] == nil { metadataKeys.append(key) }
        metadata[key] = value
    }

    /// Adds a tensor of fp32 `values` with row-major `shape` (outermost first), stored as `type`
    /// (.f32, .f16, .bf16 or .q8_0; Q8_0 needs the innermost dimension to be a multiple of 32).
    public mutating func addTensor(_ name: String, shape: [Int], values: [Float], as type: GGMLType = .f32) throws {
        guard [.f32, .f16, .bf16, .q8_0].contains(type) else {
            throw misuse(name, "the writer quantises only to F32, F16, BF16 and Q8_0, not \(type.name)")
        }
        let (count, bytes) = try size(name, shape.reversed(), type)
        guard count == values.count else { throw misuse(name, "shape \(shape) holds \(count) values, \(values.count) given") }
        try append(Tensor(name: name, ne: shape.reversed(), type: type, byteCount: bytes, values: values, raw: nil))
    }

    /// Adds a tensor from raw ggml blocks of any type; `ne` is ggml order (innermost first).
    public mutating func addRawTensor(_ name: String, ne: [Int], type: GGMLType, bytes: [UInt8]) throws {
        let (_, byteCount) = try size(name, ne, type)
        guard byteCount == bytes.count else { throw misuse(name, "ne \(ne) of \(type.name) needs \(byteCount) bytes, \(bytes.count) given") }
        try append(Tensor(name: name, ne: ne, type: type, byteCount: byteCount, values: nil, raw: bytes))
    }

    private mutating func append(_ tensor: Tensor) throws {
        guard tensor.name.utf8.count < GGUFFile.maxNameLength else { throw misuse(tensor.name, "tensor names must be under 64 bytes") }
        guard tensorNames.insert(tensor.name).inserted else { throw misuse(tensor.name, "a tensor of this name was already added") }
        tensors.append(tensor)
    }

    private func size(_ name: String, _ ne: [Int], _ type: GGMLType) throws -> (Int, Int) {
        guard ne.count <= GGUFFile.maxDimensions, ne.allSatisfy({ $0 >= 0 }) else { throw misuse(name, "GGUF tensors have 0–4 dimensions ≥ 0") }
        guard (ne.first ?? 1) % type.blockSize == 0 else { throw misuse(name, "rows must be whole \(type.name) blocks of \(type.blockSize)") }
        var count = 1
        var (bytes, o2) = ((ne.first ?? 1) / type.blockSize).multipliedReportingOverflow(by: type.blockBytes)
        for (k, dim) in ne.enumerated() {
            let (c, o1) = count.multipliedReportingOverflow(by: dim)
            if k > 0 { (bytes, o2) = bytes.multipliedReportingOverflow(by: dim) }
            guard !o1, !o2 else { throw misuse(name, "shape overflows") }
            count = c
        }
        return (count, bytes)
    }

    private func misuse(_ what: String, _ problem: String) -> FormatError {
        FormatError(.invalidValue, file: what, problem, fix: "fix the arguments passed to GGUFWriter")
    }

    static func type(of value: GGUFValue) -> GGUFValueType {
        switch value {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// Header bytes (magic through tensor infos and padding) and each tensor's padded data offset.
    private func header() -> [UInt8] {
        var out = GGUFBytes()
        out.bytes += Array("GGUF".utf8)
        out.u32(3)
        out.u64(UInt64(tensors.count))
        out.u64(UInt64(metadataKeys.count))
        for key in metadataKeys {
            out.string(key)
            out.value(metadata[key]!, emptyArrayType: emptyArrayTypes[key] ?? .uint8)
        }
        var offset = 0
        for tensor in tensors {
            out.string(tensor.name)
            out.u32(UInt32(tensor.ne.count))
            for dim in tensor.ne { out.u64(UInt64(dim)) }
            out.u32(tensor.type.rawValue)
            out.u64(UInt64(offset))
            offset += padded(tensor.byteCount)
        }
        out.bytes += [UInt8](repeating: 0, count: padded(out.bytes.count) - out.bytes.count)
        return out.bytes
    }

    private func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    private func emit(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try header().withUnsafeBytes(sink)
        for tensor in tensors {
            if let raw = tensor.raw {
                try raw.withUnsafeBytes(sink)
            } else if let values = tensor.values {
                try Self.encode(values, tensor.type, tensor.byteCount, sink)
            }
            let zeros = [UInt8](repeating: 0, count: padded(tensor.byteCount) - tensor.byteCount)
            try zeros.withUnsafeBytes(sink)
        }
    }

    private static func encode(_ values: [Float], _ type: GGMLType, _ byteCount: Int,
                               _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch type {
        case .f16: try SafetensorsWriter.encode(values, as: .f16, sink)
        case .bf16: try SafetensorsWriter.encode(values, as: .bf16, sink)
        case .q8_0:
            var blocks = [UInt8](repeating: 0, count: byteCount)
            values.withUnsafeBufferPointer { x in blocks.withUnsafeMutableBytes { Quantize.q8_0(x, into: $0) } }
            try blocks.withUnsafeBytes(sink)
        default: try values.withUnsafeBytes(sink)
        }
    }

    /// The whole file as bytes.
    public func serialized() throws -> [UInt8] { try StreamedFile.bytes(emit) }

    /// Writes the file to `path` atomically (temporary file, fsync, rename).
    public func write(to path: String) throws { try StreamedFile.write(to: path, emit) }
}

/// Little-endian GGUF encoding of scalars, strings and metadata values.
struct GGUFBytes {
    var bytes: [UInt8] = []

    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) {
        u64(UInt64(s.utf8.count))
        bytes += s.utf8
    }

    mutating func value(_ value: GGUFValue, emptyArrayType: GGUFValueType, tagged: Bool = true) {
        if tagged { u32(GGUFWriter.type(of: value).rawValue) }
        switch value {
        case .uint8(let v): bytes.append(v)
        case .int8(let v): bytes.append(UInt8(bitPattern: v))
        case .uint16(let v): withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
        case .int16(let v): withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
        case .uint32(let v): u32(v)
        case .int32(let v): u32(UInt32(bitPattern: v))
        case .uint64(let v): u64(v)
        case .int64(let v): u64(UInt64(bitPattern: v))
        case .float32(let v): u32(v.bitPattern)
        case .float64(let v): u64(v.bitPattern)
        case .bool(let v): bytes.append(v ? 1 : 0)
        case .string(let s): string(s)
        case .array(let items):
            u32((items.first.map(GGUFWriter.type(of:)) ?? emptyArrayType).rawValue)
            u64(UInt64(items.count))
            for item in items { self.value(item, emptyArrayType: emptyArrayType, tagged: false) }
        }
    }
}
