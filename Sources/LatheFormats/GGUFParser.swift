/// The header of a GGUF file, parsed and validated.
struct GGUFHeader {
    var version = 0
    var metadata: [String: GGUFValue] = [:]
    var metadataKeys: [String] = []
    var tensors: [GGUFTensorInfo] = []
    var alignment = GGUFFile.defaultAlignment
    var dataStart = 0
}

/// Reads a GGUF header (magic, version, counts, key/values, tensor infos) and rejects what ggml's `gguf.cpp`
/// rejects: counts or lengths larger than the bytes left, nested arrays, unknown types, more than 4 dimensions,
/// element counts that overflow, misaligned, out-of-bounds or overlapping tensor data, duplicate keys or names.
struct GGUFParser {
    static let magic: [UInt8] = Array("GGUF".utf8)
    /// Fewest bytes a key/value pair or a tensor info can occupy; counts above remaining/minimum are lies.
    static let minimumKVBytes = 8 + 4 + 1
    static let minimumTensorInfoBytes = 8 + 4 + 4 + 8

    var r: ByteReader
    var file: String { r.file }

    init(_ reader: ByteReader) { r = reader }

    func fail(_ kind: FormatError.Kind, at offset: Int? = nil, _ problem: String) -> FormatError {
        FormatError(kind, file: file, offset: offset ?? r.offset, problem)
    }

    mutating func parse() throws -> GGUFHeader {
        var header = GGUFHeader()
        let magic = try r.slice(4, "the GGUF magic")
        guard magic.elementsEqual(Self.magic) else {
            throw FormatError(.badHeader, file: file, offset: 0, "not a GGUF file (the first 4 bytes are not \"GGUF\")",
                              fix: "pass a .gguf model file")
        }
        let version = try r.u32("the GGUF version")
        if version == 1 {
            throw FormatError(.unsupported, file: file, offset: 4, "GGUF version 1 is no longer supported",
                              fix: "convert the model again with a current llama.cpp (convert_hf_to_gguf.py) to get GGUF v3")
        }
        if version & 0xFFFF == 0, version != 0 {
            throw FormatError(.unsupported, file: file, offset: 4, "this GGUF file is big-endian",
                              fix: "convert the model on a little-endian machine")
        }
        guard version == 2 || version == 3 else {
            throw FormatError(.unsupported, file: file, offset: 4, "GGUF version \(version) is not supported (only 2 and 3)",
                              fix: "convert the model with a llama.cpp release that writes GGUF v3")
        }
        header.version = Int(version)
        let tensorCount = try count(r.u64("the tensor count"), minimumBytes: Self.minimumTensorInfoBytes, "tensor count")
        let kvCount = try count(r.u64("the metadata count"), minimumBytes: Self.minimumKVBytes, "metadata key/value count")
        header.metadataKeys.reserveCapacity(kvCount)
        for _ in 0 ..< kvCount {
            let keyOffset = r.offset
            let key = try string("a metadata key")
            guard header.metadata[key] == nil else { throw fail(.duplicate, at: keyOffset, "duplicate metadata key \"\(key)\"") }
            let typeOffset = r.offset
            guard let type = GGUFValueType(rawValue: try r.u32("a metadata value type")) else {
                throw fail(.invalidValue, at: typeOffset, "metadata key \"\(key)\" has an unknown value type")
            }
            header.metadata[key] = try value(type, key: key)
            header.metadataKeys.append(key)
        }
        header.alignment = try alignment(header.metadata)
        header.tensors = try tensorInfos(tensorCount, alignment: header.alignment)
        let padding = (header.alignment - r.offset % header.alignment) % header.alignment
        header.dataStart = r.offset + padding
        try checkLayout(header.tensors, dataStart: header.dataStart)
        return header
    }

    /// A u64 count, refused when the bytes left cannot hold that many items of at least `minimumBytes` each.
    func count(_ raw: UInt64, minimumBytes: Int, _ what: String) throws -> Int {
        guard raw <= UInt64(r.remaining / minimumBytes) else {
            throw fail(.truncated, at: r.offset - 8, "\(what) \(raw) is larger than the \(r.remaining) bytes left can hold")
        }
        return Int(raw)
    }

    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let lengthOffset = r.offset
        let length = try r.u64("the length of \(what())")
        guard length <= UInt64(r.remaining) else {
            throw fail(.truncated, at: lengthOffset, "\(what()) claims \(length) bytes but only \(r.remaining) are left")
        }
        return String(decoding: try r.slice(Int(length), what()), as: UTF8.self)
    }

    mutating func value(_ type: GGUFValueType, key: String) throws -> GGUFValue {
        func what() -> String { "the value of \"\(key)\"" }
        switch type {
        case .uint8: return .uint8(try r.load(UInt8.self, what()))
        case .int8: return .int8(try r.load(Int8.self, what()))
        case .uint16: return .uint16(try r.load(UInt16.self, what()))
        case .int16: return .int16(try r.load(Int16.self, what()))
        case .uint32: return .uint32(try r.load(UInt32.self, what()))
        case .int32: return .int32(try r.load(Int32.self, what()))
        case .uint64: return .uint64(try r.load(UInt64.self, what()))
        case .int64: return .int64(try r.load(Int64.self, what()))
        case .float32: return .float32(Float(bitPattern: try r.load(UInt32.self, what())))
        case .float64: return .float64(Double(bitPattern: try r.load(UInt64.self, what())))
        case .bool: return .bool(try r.load(UInt8.self, what()) != 0)
        case .string: return .string(try string(what()))
        case .array: return .array(try array(key: key))
        }
    }

    mutating func array(key: String) throws -> [GGUFValue] {
        let typeOffset = r.offset
        let rawType = try r.u32("the element type of \"\(key)\"")
        guard let type = GGUFValueType(rawValue: rawType) else {
            throw fail(.invalidValue, at: typeOffset, "array \"\(key)\" has an unknown element type \(rawType)")
        }
        guard type != .array else { throw fail(.invalidValue, at: typeOffset, "array \"\(key)\" nests arrays, which GGUF forbids") }
        let n = try count(r.u64("the length of array \"\(key)\""), minimumBytes: type.minimumBytes, "length of array \"\(key)\"")
        var items: [GGUFValue] = []
        items.reserveCapacity(n)
        for _ in 0 ..< n { items.append(try value(type, key: key)) }
        return items
    }

    func alignment(_ metadata: [String: GGUFValue]) throws -> Int {
        guard let value = metadata[GGUFFile.alignmentKey] else { return GGUFFile.defaultAlignment }
        guard case .uint32(let raw) = value else {
            throw fail(.invalidValue, at: nil, "general.alignment is not a uint32")
        }
        guard raw != 0, raw & (raw - 1) == 0 else {
            throw fail(.invalidValue, at: nil, "general.alignment \(raw) is not a non-zero power of two")
        }
        return Int(raw)
    }
}
