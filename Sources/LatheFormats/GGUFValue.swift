/// One GGUF metadata value, typed as in the file (ggml `gguf_type`). Arrays hold values of one type and never nest.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
    case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    /// The value as an integer when it is any integer type that fits in `Int`.
    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        case .bool(let v): return v ? 1 : 0
        default: return nil
        }
    }

    /// The value as a floating-point number when it is numeric.
    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }

    /// The value when it is a string.
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value when it is a boolean.
    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements when the value is an array.
    public var array: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}
