import Foundation
import LatheFormats
import LatheSupport
@testable import LatheData

/// A fresh temporary folder for one test.
func temporaryFolder(_ name: String = #function) -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("lathe-data-tests-\(ProcessInfo.processInfo.processIdentifier)")
        .appendingPathComponent(name.filter { $0.isLetter || $0.isNumber } + "-" + String(UInt64.random(in: 0..<UInt64.max), radix: 36))
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Lines of a JSONL file, parsed.
func readJSONL(_ url: URL) -> [JSONValue] {
    guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
    return data.split(separator: 0x0A).compactMap { try? JSONValue.parse(Array($0)) }
}

/// The fixture folder.
func fixture(_ name: String) -> URL {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
}

/// A filter document for `text`.
func doc(_ text: String) -> FilterDocument { FilterDocument(text: text) }

/// The drop code of a verdict, or nil when kept.
func code(_ verdict: FilterVerdict) -> String? {
    if case .drop(let r) = verdict { return r.code }
    return nil
}

/// The generator behind the synthetic corpora: Lathe's SplitMix64 from one step past `seed`, the stream these
/// tests have always drawn (so their corpora are unchanged).
func seededGenerator(_ seed: UInt64) -> SplitMix64 { SplitMix64(seed: seed &+ SplitMix64.increment) }

/// A synthetic word: 2–4 syllables from a fixed table, so a vocabulary of thousands exists without lists.
func syntheticWord(_ n: Int) -> String {
    let syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "da", "gor", "lin", "mar", "nes", "tal", "ben"]
    var x = n, out = ""
    repeat { out += syllables[x % 16]; x /= 16 } while x > 0
    return out.count < 4 ? out + "ra" : out
}

/// English-like prose of `words` words that passes the Gopher rules: varied synthetic vocabulary, stop words
/// every few words, sentences of about twelve words.
func prose(_ words: Int, seed: UInt64) -> String {
    var rng = seededGenerator(seed)
    let stop = ["the", "of", "and", "to", "with", "that"]
    var out: [String] = []
    while out.count < words {
        for k in 0..<12 {
            out.append(k % 3 == 1 ? stop.randomElement(using: &rng)! : syntheticWord(Int(rng.next() % 4000) + 300))
        }
        out[out.count - 1] += "."
    }
    return out.prefix(words).joined(separator: " ")
}
