// libFuzzer entry for the one JSON reader, `JSONParser` (Fuzz/Package.swift, built by
// Fuzz/run.sh). Every untrusted JSON input Lathe reads goes through this parser, so this target covers all of them:
//   - tokenizer.json (vocabulary, merges, added tokens, normalizers, pre-tokenizers, post-processor, decoder)
//   - tokenizer_config.json (special tokens, chat templates) and chat-template JSON literals (LatheJinja `fromjson`)
//   - config.json of HF model directories (ModelConfig, via JSONNode.decode)
//   - adapter_config.json of PEFT adapter directories
//   - model.safetensors.index.json (shard index) and safetensors headers
//   - JSONL data records (the cleaner's reader) and lm-eval task data (JSONL documents)
//   - run files: lineage.json, stage report.json, clean_report.json, train.log lines, checkpoint manifest.json
//   - `lathe tokenize --jsonl` / `--chat` input
// Any input must give a JSONValue or a JSONError (never a crash, a hang or unbounded memory); a value must survive
// serialise → parse unchanged (numbers keep their source text, so the round trip is exact), and the typed
// accessors and Decodable path must not trap on whatever the document holds.
import LatheFormats

/// Parses `data` as JSON and checks the serialisation round trip and the typed readers.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let again = try? JSONValue.parse(value.serialized())
    if again != value { fatalError("JSON round trip changed the value") }
    let escaped = try? JSONValue.parse(value.serialized(.init(asciiOnly: true, escapeLineSeparators: true)))
    if escaped != value { fatalError("JSON round trip with ASCII escapes changed the value") }
    walk(JSONNode(value, file: "fuzz.json"), depth: 0)
    _ = try? JSONNode(value, file: "fuzz.json").decode(Probe.self)
    return 0
}

/// Reads every node with every typed accessor (the readers of tokenizer.json and configs use these).
private func walk(_ node: JSONNode, depth: Int) {
    _ = try? node.int()
    _ = try? node.double()
    _ = try? node.bool()
    _ = try? node.string()
    _ = try? node.strings()
    for item in (try? node.array()) ?? [] { walk(item, depth: depth + 1) }
    for member in (try? node.members()) ?? [] {
        _ = try? node.optional(member.key)
        walk(member.node, depth: depth + 1)
    }
}

/// A Decodable shape like config.json's: integers, optional numbers, lists and nested objects.
private struct Probe: Decodable {
    var a: Int?
    var b: Double?
    var c: [String]?
    var d: [String: Int]?
    var e: [Probe]?
    var f: UInt8?
    var g: Bool?
}
