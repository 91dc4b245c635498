/// The little-endian layout of the messages ranks exchange beyond gradients (cleaning outcomes, evaluation
/// responses): fixed-width integers, `Double` bit patterns, and byte strings prefixed by a u64 length. Every
/// rank runs the same build, so the layout needs no version; a message that does not parse is a
/// `CommunicatorError.malformed` naming the operation and the rank that sent it.
public struct WireWriter {
    /// The message so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty message.
    public init() {}

    /// Appends one byte.
    public mutating func u8(_ value: UInt8) { bytes.append(value) }

    /// Appends a little-endian u64.
    public mutating func u64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends an `Int` as a little-endian i64.
    public mutating func int(_ value: Int) { u64(UInt64(bitPattern: Int64(value))) }

    /// Appends a `Double` by its bit pattern, so the value arrives bit for bit.
    public mutating func double(_ value: Double) { u64(value.bitPattern) }

    /// Appends a flag.
    public mutating func bool(_ value: Bool) { u8(value ? 1 : 0) }

    /// Appends a length-prefixed byte string.
    public mutating func data<Bytes: Collection<UInt8>>(_ value: Bytes) {
        u64(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Appends a string as its UTF-8 bytes (a Swift string round-trips through them unchanged).
    public mutating func string(_ value: String) { data(value.utf8) }

    /// Appends an optional: a presence flag, then the value through `write`.
    public mutating func optional<T>(_ value: T?, _ write: (inout WireWriter, T) -> Void) {
        bool(value != nil)
        if let value { write(&self, value) }
    }
}

/// Reads a message written by `WireWriter`; every read checks the length left.
public struct WireReader {
    private let bytes: [UInt8]
    private var offset = 0
    private let operation: String
    private let sender: Int

    /// A reader of `bytes`, which rank `sender` sent during `operation` (both for error messages).
    public init(_ bytes: [UInt8], operation: String, sender: Int) {
        self.bytes = bytes; self.operation = operation; self.sender = sender
    }

    /// True when every byte was read.
    public var isAtEnd: Bool { offset == bytes.count }

    /// The error for a message that does not have the expected layout.
    public func malformed(_ detail: String) -> CommunicatorError {
        .malformed(operation: operation, rank: sender, detail: "message from rank \(sender) at byte \(offset): \(detail)")
    }

    private mutating func take(_ count: Int, _ what: String) throws(CommunicatorError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else {
            throw malformed("\(what) needs \(count) bytes, \(bytes.count - offset) left")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// Reads one byte.
    public mutating func u8() throws(CommunicatorError) -> UInt8 { try take(1, "a byte").first! }

    /// Reads a little-endian u64.
    public mutating func u64() throws(CommunicatorError) -> UInt64 {
        let slice = try take(8, "an integer")
        var value: UInt64 = 0
        for (shift, byte) in slice.enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        return value
    }

    /// Reads an i64 as `Int`.
    public mutating func int() throws(CommunicatorError) -> Int { Int(Int64(bitPattern: try u64())) }

    /// Reads a `Double` from its bit pattern.
    public mutating func double() throws(CommunicatorError) -> Double { Double(bitPattern: try u64()) }

    /// Reads a flag.
    public mutating func bool() throws(CommunicatorError) -> Bool {
        let value = try u8()
        guard value <= 1 else { throw malformed("flag byte \(value)") }
        return value == 1
    }

    /// Reads a length-prefixed byte string.
    public mutating func data() throws(CommunicatorError) -> [UInt8] {
        let count = try u64()
        guard count <= UInt64(bytes.count - offset) else { throw malformed("a byte string of \(count) bytes, \(bytes.count - offset) left") }
        return Array(try take(Int(count), "a byte string"))
    }

    /// Reads a string.
    public mutating func string() throws(CommunicatorError) -> String { String(decoding: try data(), as: UTF8.self) }

    /// Reads an optional written by `WireWriter.optional`.
    public mutating func optional<T>(_ read: (inout WireReader) throws(CommunicatorError) -> T) throws(CommunicatorError) -> T? {
        try bool() ? try read(&self) : nil
    }
}
