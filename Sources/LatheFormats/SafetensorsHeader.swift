/// A safetensors element type, spelled as in the header (`"F32"`, `"BF16"`, ...), with its size in bits.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL", f4 = "F4", f6e2m3 = "F6_E2M3", f6e3m2 = "F6_E3M2"
    case u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", f8e8m0 = "F8_E8M0"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32", c64 = "C64", f64 = "F64", i64 = "I64", u64 = "U64"

    /// Bits per element, as the Rust `safetensors` crate's `Dtype::bitsize`.
    public var bitSize: Int {
        switch self {
        case .f4: return 4
        case .f6e2m3, .f6e3m2: return 6
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0: return 8
        case .i16, .u16, .f16, .bf16: return 16
        case .i32, .u32, .f32: return 32
        case .c64, .f64, .i64, .u64: return 64
        }
    }

    /// True for the types `floats(_:)` converts: F32, F16, BF16.
    public var isConvertibleToFloat: Bool { self == .f32 || self == .f16 || self == .bf16 }
}

/// One tensor entry of a safetensors header.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// Name as stored (Hugging Face parameter name).
    public let name: String
    /// Element type.
    public let dtype: SafetensorsDType
    /// Row-major shape, outermost first.
    public let shape: [Int]
    /// Byte range relative to the start of the data section (`data_offsets`).
    public let dataOffsets: Range<Int>
    /// Number of elements (product of `shape`).
    public let elementCount: Int
}

extension SafetensorsTensorInfo: StoredTensorInfo {
    var dataRange: Range<Int> { dataOffsets }
}

/// The parsed and validated header of a safetensors file.
struct SafetensorsHeader {
    /// Crate limit on the JSON header length.
    static let maxHeaderLength = 100_000_000

    var tensors: [SafetensorsTensorInfo]   // sorted by data offset
    var metadata: [String: String]?
    var dataStart: Int

    /// Validates framing, JSON and layout exactly as the Rust `safetensors` crate (`SafeTensors::read_metadata`,
    /// `Metadata::validate`), plus duplicate-name detection.
    init(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        guard bytes.count >= 8 else {
            throw FormatError(.truncated, file: file, offset: 0,
                              "file is \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        let length = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard length <= UInt64(Self.maxHeaderLength) else {
            throw FormatError(.badHeader, file: file, offset: 0,
                              "header length \(length) exceeds the 100 MB limit of the safetensors format",
                              fix: "this is not a safetensors file, or its first 8 bytes are corrupt")
        }
        let n = Int(length)
        guard 8 + n <= bytes.count else {
            throw FormatError(.truncated, file: file, offset: 0,
                              "header length \(n) runs past the end of the \(bytes.count)-byte file")
        }
        let text = UnsafeRawBufferPointer(rebasing: bytes[8 ..< 8 + n])
        if let bad = UTF8Validation.firstInvalidByte(text) {
            throw FormatError(.badHeader, file: file, offset: 8 + bad, "header is not valid UTF-8")
        }
        guard n > 0, text[0] == UInt8(ascii: "{") else {
            throw FormatError(.badHeader, file: file, offset: 8, "header does not start with '{'")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(text)
        } catch {
            throw FormatError(error.duplicateKey == nil ? .badHeader : .duplicate, file: file, offset: 8 + error.offset,
                              "header JSON: \(error.message)")
        }
        guard let object = json.objectValue else {
            throw FormatError(.badHeader, file: file, offset: 8, "header is not a JSON object")
        }
        dataStart = 8 + n
        metadata = nil
        tensors = []
        tensors.reserveCapacity(object.count)
        for (key, value) in zip(object.keys, object.values) {
            if key == "__metadata__" {
                metadata = try Self.metadata(value, file: file)
            } else {
                tensors.append(try Self.tensor(key, value, file: file))
            }
        }
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        try checkLayout(fileSize: bytes.count, file: file)
    }

    private static func metadata(_ value: JSONValue, file: String) throws -> [String: String] {
        guard let object = value.objectValue else {
            throw FormatError(.badHeader, file: file, offset: 8, "__metadata__ is not a JSON object")
        }
        var map: [String: String] = [:]
        for (key, item) in zip(object.keys, object.values) {
            guard let text = item.stringValue else {
                throw FormatError(.badHeader, file: file, offset: 8, "__metadata__ value for \"\(key)\" is not a string")
            }
            map[key] = text
        }
        return map
    }

    private static func tensor(_ name: String, _ value: JSONValue, file: String) throws -> SafetensorsTensorInfo {
        func bad(_ problem: String) -> FormatError {
            FormatError(.badHeader, file: file, offset: 8, "tensor \"\(name)\": \(problem)")
        }
        guard let entry = value.objectValue else { throw bad("entry is not a JSON object") }
        guard let dtypeName = entry["dtype"]?.stringValue else { throw bad("missing string field dtype") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else { throw bad("unknown dtype \"\(dtypeName)\"") }
        guard let shapeItems = entry["shape"]?.arrayValue else { throw bad("missing array field shape") }
        var shape: [Int] = []
        for item in shapeItems {
            guard let dim = item.intValue, dim >= 0 else { throw bad("shape holds a value that is not a size") }
            shape.append(dim)
        }
        guard let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, end >= 0 else {
            throw bad("data_offsets must be two non-negative integers")
        }
        guard end >= begin else { throw bad("data_offsets end \(end) is before begin \(begin)") }
        var elements = 1
        for dim in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw FormatError(.overflow, file: file, offset: 8, "tensor \"\(name)\": element count overflows") }
            elements = product
        }
        let (bits, overflow) = elements.multipliedReportingOverflow(by: dtype.bitSize)
        guard !overflow else { throw FormatError(.overflow, file: file, offset: 8, "tensor \"\(name)\": byte size overflows") }
        guard bits % 8 == 0 else { throw bad("\(elements) elements of \(dtypeName) do not fill whole bytes") }
        guard end - begin == bits / 8 else {
            throw FormatError(.badLayout, file: file, offset: 8,
                              "tensor \"\(name)\": shape \(shape) of \(dtypeName) needs \(bits / 8) bytes but data_offsets span \(end - begin)")
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin ..< end, elementCount: elements)
    }

    /// Tensors sorted by offset must tile the data section: no gap, no overlap, nothing past its end.
    private func checkLayout(fileSize: Int, file: String) throws {
        let dataSize = fileSize - dataStart
        func place(_ relative: Int) -> Int { relative > dataSize ? fileSize : dataStart + relative }
        var position = 0
        for info in tensors {
            let begin = info.dataOffsets.lowerBound
            guard begin == position else {
                let what = begin < position ? "overlaps the previous tensor" : "leaves a gap before it"
                throw FormatError(.badLayout, file: file, offset: place(begin),
                                  "tensor \"\(info.name)\" starts at data offset \(begin), which \(what) (expected \(position))")
            }
            position = info.dataOffsets.upperBound
        }
        if position > dataSize {
            throw FormatError(.truncated, file: file, offset: fileSize,
                              "tensor data needs \(position) bytes but the file holds only \(dataSize) after the header")
        }
        if position < dataSize {
            throw FormatError(.badLayout, file: file, offset: place(position),
                              "file has \(dataSize - position) bytes after the last tensor")
        }
    }
}
