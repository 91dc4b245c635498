/// Builds a safetensors file: tensors sorted by name, header JSON padded with spaces to a multiple of 8 bytes,
/// written to a temporary file and renamed into place.
public struct SafetensorsWriter: Sendable {
    /// Output element types the writer converts fp32 values to.
    public enum OutputType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16"

        var dtype: SafetensorsDType {
            switch self {
            case .f32: return .f32
            case .f16: return .f16
            case .bf16: return .bf16
            }
        }
    }

    private enum Payload: Sendable {
        case floats([Float], OutputType)
        case raw([UInt8])
    }

    private struct Entry: Sendable {
        let dtype: SafetensorsDType
        let shape: [Int]
        let byteCount: Int
        let payload: Payload
    }

    /// The `__metadata__` string map (omitted from the file when empty).
    public var metadata: [String: String]
    private var entries: [String: Entry] = [:]

    /// An empty writer.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Adds a tensor of fp32 `values` (row-major, `shape` outermost first), stored as `type`.
    public mutating func add(_ name: String, shape: [Int], values: [Float], as type: OutputType = .f32) throws {
        let count = try Self.elementCount(name, shape)
        guard count == values.count else {
            throw FormatError(.invalidValue, file: name, "shape \(shape) has \(count) elements but \(values.count) values were given",
                              fix: "pass as many values as the shape holds")
        }
        try insert(name, Entry(dtype: type.dtype, shape: shape, byteCount: count * type.dtype.bitSize / 8,
                               payload: .floats(values, type)))
    }

    /// Adds a tensor from raw little-endian bytes of any dtype (for integer tensors and test files).
    public mutating func addRaw(_ name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) throws {
        let count = try Self.elementCount(name, shape)
        let (bits, overflow) = count.multipliedReportingOverflow(by: dtype.bitSize)
        guard !overflow, bits % 8 == 0, bits / 8 == bytes.count else {
            throw FormatError(.invalidValue, file: name, "shape \(shape) of \(dtype.rawValue) does not match \(bytes.count) bytes",
                              fix: "pass exactly the bytes the shape needs")
        }
        try insert(name, Entry(dtype: dtype, shape: shape, byteCount: bytes.count, payload: .raw(bytes)))
    }

    private mutating func insert(_ name: String, _ entry: Entry) throws {
        guard name != "__metadata__", entries[name] == nil else {
            throw FormatError(.duplicate, file: name, "a tensor named \"\(name)\" was already added", fix: "use unique tensor names")
        }
        entries[name] = entry
    }

    private static func elementCount(_ name: String, _ shape: [Int]) throws -> Int {
        var count = 1
        for dim in shape {
            guard dim >= 0 else { throw FormatError(.invalidValue, file: name, "negative dimension in shape \(shape)", fix: "pass sizes ≥ 0") }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw FormatError(.overflow, file: name, "shape \(shape) overflows", fix: "pass a real shape") }
            count = product
        }
        return count
    }

    /// The header bytes: 8-byte length, then JSON padded with spaces to a multiple of 8.
    private func header() -> (bytes: [UInt8], order: [String]) {
        let order = entries.keys.sorted()
        var object = JSONObject()
        if !metadata.isEmpty {
            object["__metadata__"] = .object(JSONObject(metadata.keys.sorted().map { ($0, .string(metadata[$0]!)) }))
        }
        var offset = 0
        for name in order {
            let entry = entries[name]!
            object[name] = .object(JSONObject([
                ("dtype", .string(entry.dtype.rawValue)),
                ("shape", .array(entry.shape.map { .integer($0) })),
                ("data_offsets", .array([.integer(offset), .integer(offset + entry.byteCount)])),
            ]))
            offset += entry.byteCount
        }
        var json = Array(JSONValue.object(object).serialized().utf8)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        bytes += json
        return (bytes, order)
    }

    /// Streams the encoded file to `sink` in chunks (never the whole file in memory twice).
    private func emit(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let (head, order) = header()
        try head.withUnsafeBytes(sink)
        for name in order {
            switch entries[name]!.payload {
            case .raw(let bytes): try bytes.withUnsafeBytes(sink)
            case .floats(let values, let type): try Self.encode(values, as: type, sink)
            }
        }
    }

    static func encode(_ values: [Float], as type: OutputType, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        if type == .f32 {
            try values.withUnsafeBytes(sink)   // little-endian host
            return
        }
        let chunk = 1 << 16
        var halves = [UInt16](repeating: 0, count: chunk)
        var start = 0
        while start < values.count {
            let n = min(chunk, values.count - start)
            for i in 0 ..< n {
                halves[i] = type == .bf16 ? HalfFloat.bf16(from: values[start + i]) : HalfFloat.f16(from: values[start + i])
            }
            try halves.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0 ..< 2 * n])) }
            start += n
        }
    }

    /// The whole file as bytes (for in-memory use such as compressed checkpoints).
    public func serialized() throws -> [UInt8] { try StreamedFile.bytes(emit) }

    /// Writes the file to `path` atomically (temporary file, fsync, rename).
    public func write(to path: String) throws { try StreamedFile.write(to: path, emit) }
}
