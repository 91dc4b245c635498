// libFuzzer entry for the strict JSON parser (Fuzz/Package.swift, built by Fuzz/run.sh).
// Any input must give a JSONValue or a JSONError; a value must survive serialise → parse unchanged.
import LatheFormats

/// Parses `data` as JSON and checks the serialisation round trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let value = try? JSONParser.parse(UnsafeRawBufferPointer(start: data, count: size)) else { return 0 }
    let again = try? JSONValue.parse(value.serialized())
    if !containsNonFinite(value), again != value { fatalError("JSON round trip changed the value") }
    return 0
}

/// Numbers like 1e999 parse to infinity, which serialises as null; such values are exempt from the round-trip check.
private func containsNonFinite(_ value: JSONValue) -> Bool {
    switch value {
    case .number(let d): return !d.isFinite
    case .array(let items): return items.contains(where: containsNonFinite)
    case .object(let object): return object.values.contains(where: containsNonFinite)
    default: return false
    }
}
