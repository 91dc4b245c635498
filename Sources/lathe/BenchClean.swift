import ArgumentParser
import Dispatch
import Foundation
import LatheFormats
import LatheCheckpoints
import LatheData
import LatheSupport

/// `lathe bench clean`: throughput of the shipped cleaning pipeline on a generated JSONL corpus — with every step
/// on (as `lathe clean` runs by default) and with MinHash near-dedup as its only step — beside datatrove's MinHash
/// (stages 1–3, same n-grams, bands and rows) run on the same files in the same run. The full pipeline runs
/// under `--memory-budget` (peak RSS printed) and once more without a budget; their outputs must hash the same.
struct BenchClean: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "MB/s of `lathe clean` and of its MinHash dedup alone, beside datatrove's MinHash on the same corpus.",
        discussion: "The peer (Scripts/bench/clean_peer.py) runs with the interpreter in $PYTHON (default python3)."
    )

    @OptionGroup var threads: ThreadOptions

    @Option(help: "Corpus size in MB (generated deterministically into a temporary folder).")
    var megabytes: Int = 200

    @Option(help: "Memory budget of the cleaning runs (as lathe clean --memory-budget: 512M, 2G; a bare number is MiB).")
    var memoryBudget: String?

    @Flag(name: [.customLong("no-peer"), .customLong("skip-peer")], help: "Skip the datatrove peer.")
    var noPeer = false

    @Option(help: ArgumentHelp(
        "Give datatrove only the first N MB of the corpus (whole lines of each shard); Lathe's MinHash step is timed "
            + "again on those same files for the ratio.",
        discussion: "datatrove runs at well under 1 MB/s on this machine kind, so a 2,000 MB corpus would take it hours."))
    var peerMegabytes: Int?

    @Flag(help: "Keep the temporary folder (corpus and outputs).")
    var keep = false

    func validate() throws {
        guard megabytes >= 1 else { throw ValidationError("--megabytes must be at least 1") }
        if let peerMegabytes, peerMegabytes < 1 || peerMegabytes > megabytes {
            throw ValidationError("--peer-megabytes must be between 1 and --megabytes (\(megabytes))")
        }
        _ = try budgetBytes()
    }

    private func budgetBytes() throws -> Int {
        guard let memoryBudget else { return MemoryBudget.defaultBytes }
        do { return try MemoryBudget.parse(memoryBudget, key: "--memory-budget") } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        threads.configure()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-bench-clean-\(ProcessInfo.processInfo.processIdentifier)")
        let shardDir = dir.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: shardDir, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(at: dir) } }

        var start = DispatchTime.now()
        let corpus = try CleanBenchCorpus.generate(megabytes: megabytes, shards: 2, into: shardDir)
        let inputs = corpus.shards.map(\.path)
        let mb = Double(corpus.bytes) / 1e6
        print("corpus: \(format(mb)) MB in \(corpus.shards.count) shards, \(corpus.records) records "
              + "(\(corpus.nearCopies) near copies, \(corpus.exactCopies) exact copies), generated in \(format(seconds(since: start))) s")
        let minHash = MinHash.Config()
        print("threads \(Parallel.threads)   MinHash: \(minHash.ngram)-grams, \(minHash.bands) bands × \(minHash.rows) rows, 64-bit, "
              + (minHash.jaccardThreshold.map { "pairs confirmed at Jaccard ≥ \($0) (datatrove confirms none)" } ?? "no confirmation"))

        let budget = try budgetBytes()
        var config = CleaningConfig()
        config.memoryBudget = budget
        resetPeakResident()
        start = DispatchTime.now()
        let report = try CleaningPipeline(config: config).run(inputs: inputs, outputDirectory: dir.appendingPathComponent("out").path)
        let pipelineSeconds = seconds(since: start)
        let peak = peakResidentBytes().map { "\(format(Double($0) / 1e6)) MB" } ?? "unknown"
        print("lathe clean, every step:        \(format(mb / pipelineSeconds)) MB/s  (\(format(pipelineSeconds, decimals: 2)) s; "
              + "kept \(report.recordsOut) of \(report.recordsIn), \(report.nearDuplicates.recordsDropped) near duplicates)")
        let spills = report.spilledRuns == 0 ? "every key fit in memory, no sorted run spilled" : "\(report.spilledRuns) sorted runs spilled"
        print("  memory budget \(format(Double(budget) / 1e6)) MB: \(spills), peak RSS \(peak) (VmHWM)")

        config.memoryBudget = .max
        start = DispatchTime.now()
        _ = try CleaningPipeline(config: config).run(inputs: inputs, outputDirectory: dir.appendingPathComponent("out-unbounded").path)
        let unboundedSeconds = seconds(since: start)
        var identical = true
        for name in ["cleaned.jsonl", "rejected.jsonl", "clean_report.json"] {
            let a = try SHA256.hex(fileAt: dir.appendingPathComponent("out/\(name)").path)
            let b = try SHA256.hex(fileAt: dir.appendingPathComponent("out-unbounded/\(name)").path)
            identical = identical && a == b
            print("  \(name) sha256 \(a)" + (a == b ? " (same without a budget)" : " ≠ \(b) without a budget"))
        }
        print("  without a budget: \(format(mb / unboundedSeconds)) MB/s (\(format(unboundedSeconds, decimals: 2)) s); outputs "
              + (identical ? "identical" : "DIFFER"))

        start = DispatchTime.now()
        var minHashConfig = Self.minHashOnly(minHash)
        minHashConfig.memoryBudget = budget
        let alone = try CleaningPipeline(config: minHashConfig).run(
            inputs: inputs, outputDirectory: dir.appendingPathComponent("out-minhash").path)
        let minHashSeconds = seconds(since: start)
        print("lathe clean, MinHash step only: \(format(mb / minHashSeconds)) MB/s  (\(format(minHashSeconds, decimals: 2)) s; "
              + "removes \(alone.nearDuplicates.recordsDropped))")

        if noPeer { return }
        var peerInputs = inputs, peerMB = mb, lathePeerSeconds = minHashSeconds
        if let peerMegabytes, peerMegabytes < megabytes {
            let prefixDir = dir.appendingPathComponent("peer-corpus")
            try FileManager.default.createDirectory(at: prefixDir, withIntermediateDirectories: true)
            let perShard = peerMegabytes * 1_000_000 / corpus.shards.count
            peerInputs = try corpus.shards.map { try Self.copyLines(of: $0, upTo: perShard, into: prefixDir).path }
            peerMB = Double(try peerInputs.reduce(0) { $0 + (try Self.size(of: $1)) }) / 1e6
            start = DispatchTime.now()
            _ = try CleaningPipeline(config: minHashConfig).run(
                inputs: peerInputs, outputDirectory: dir.appendingPathComponent("out-minhash-prefix").path)
            lathePeerSeconds = seconds(since: start)
            print("datatrove's share: the first \(format(peerMB)) MB (whole lines of each shard, in \(prefixDir.lastPathComponent)/)")
            print("lathe clean, MinHash step only: \(format(peerMB / lathePeerSeconds)) MB/s  (\(format(lathePeerSeconds, decimals: 2)) s) on that share")
        }
        let peer = Peer.run(script: "clean_peer.py", arguments: [
            "--workdir", dir.appendingPathComponent("peer").path, "--ngram", "\(minHash.ngram)", "--bands", "\(minHash.bands)",
            "--rows", "\(minHash.rows)", "--workers", "\(Parallel.threads)"] + peerInputs)
        guard let result = peer.result, let peerSeconds = result["seconds"]?.doubleValue else {
            print("datatrove MinHash:              not run — \(peer.failure ?? "unexpected output")")
            return
        }
        print("datatrove MinHash (3 stages):   \(format(peerMB / peerSeconds)) MB/s  (\(format(peerSeconds, decimals: 2)) s; "
              + "removes \(result["to_remove"]?.intValue ?? -1); \(Parallel.threads) workers; datatrove \(result["datatrove"]?.scalarText ?? "?"))")
        print("MinHash speed-up vs datatrove:  \(format(peerSeconds / lathePeerSeconds))× (same files)")
    }

    /// Copies whole lines of `file`, up to `limit` bytes (at least one line), to a file of the same name in `dir`.
    static func copyLines(of file: URL, upTo limit: Int, into dir: URL) throws -> URL {
        let target = dir.appendingPathComponent(file.lastPathComponent)
        guard let input = FileHandle(forReadingAtPath: file.path) else { throw ValidationError("cannot read \(file.path)") }
        defer { try? input.close() }
        guard FileManager.default.createFile(atPath: target.path, contents: nil),
              let output = FileHandle(forWritingAtPath: target.path) else { throw ValidationError("cannot write \(target.path)") }
        defer { try? output.close() }
        var written = 0, lineEnded = false
        while !lineEnded, let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            let bytes = [UInt8](chunk)
            var end = bytes.count
            if written + bytes.count >= limit, // stop at the first line end at or after the limit
               let newline = bytes[max(0, limit - written - 1)...].firstIndex(of: UInt8(ascii: "\n")) {
                end = newline + 1
                lineEnded = true
            }
            output.write(Data(bytes[..<end]))
            written += end
        }
        return target
    }

    static func size(of path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
    }

    /// The pipeline with MinHash near-dedup (its default settings) as its only step: no PII redaction, filters or
    /// exact dedup. Reading, decoding, normalising, confirming candidate pairs and writing the outputs stay, so this
    /// times more than datatrove's three stages do.
    static func minHashOnly(_ minHash: MinHash.Config) -> CleaningConfig {
        var config = CleaningConfig()
        config.pii = nil
        config.updateFilters { $0.removeAll() }
        config.exactDedup = false
        config.minHash = minHash
        return config
    }

    private func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}

/// The deterministic synthetic corpus of `lathe bench clean`: web-like documents (300–1,200 words of prose
/// over a Zipf-skewed 30,000-word vocabulary with English stop words), about 8% near copies of recent
/// documents (1–5% of words changed), 2% exact copies and 1% with an e-mail address and a phone number.
enum CleanBenchCorpus {
    struct Result { var shards: [URL]; var bytes: Int; var records: Int; var nearCopies: Int; var exactCopies: Int }

    static func generate(megabytes: Int, shards shardCount: Int, into dir: URL) throws -> Result {
        var rng = UInt64(0x1A7E)
        func next() -> UInt64 { rng &+= 0x9E37_79B9_7F4A_7C15; return Hash64.mix(rng) }
        func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
        let syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "da", "gor", "lin", "mar", "nes", "tal", "ben",
                         "cor", "dri", "fen", "hal", "jor", "kel", "mun", "pra", "sil", "tor", "ul", "ver", "wy", "zen"]
        let vocabulary: [[UInt8]] = (0..<30_000).map { n in
            var x = n + 31, word = ""
            repeat { word += syllables[x % syllables.count]; x /= syllables.count } while x > 0
            return Array(word.utf8)
        }
        let stop = ["the", "of", "and", "to", "in", "that", "with", "is", "for", "be", "have"].map { Array($0.utf8) }
        func word() -> Int { Int(Double(vocabulary.count) * pow(unit(), 2.5)) }
        func document() -> [Int] { (0..<(300 + Int(next() % 900))).map { _ in next() % 4 == 0 ? -1 - Int(next() % 11) : word() } }

        let target = megabytes * 1_000_000
        var urls: [URL] = []
        var handles: [FileHandle] = []
        for s in 0..<shardCount {
            let url = dir.appendingPathComponent("corpus-\(s).jsonl")
            guard FileManager.default.createFile(atPath: url.path, contents: nil),
                  let h = FileHandle(forWritingAtPath: url.path) else { throw ValidationError("cannot write \(url.path)") }
            urls.append(url); handles.append(h)
        }
        var recent: [[Int]] = []
        var bytes = 0, records = 0, near = 0, exact = 0
        var buffers = [[UInt8]](repeating: [], count: shardCount)
        while bytes < target {
            var doc: [Int]
            let roll = next() % 100
            if roll < 8, !recent.isEmpty {
                doc = recent[Int(next() % UInt64(recent.count))]
                let edits = max(1, doc.count * (1 + Int(next() % 5)) / 100)
                for _ in 0..<edits { doc[Int(next() % UInt64(doc.count))] = word() }
                near += 1
            } else if roll < 10, !recent.isEmpty {
                doc = recent[Int(next() % UInt64(recent.count))]
                exact += 1
            } else {
                doc = document()
                if recent.count < 256 { recent.append(doc) } else { recent[Int(next() % 256)] = doc }
            }
            var line = Array(#"{"id":"#.utf8) + Array(String(records).utf8) + Array(#","text":""#.utf8)
            var sentence = 0
            for (k, w) in doc.enumerated() {
                let bytesOfWord = w < 0 ? stop[-1 - w] : vocabulary[w]
                if sentence == 0, let first = bytesOfWord.first {
                    line.append(first >= 97 && first <= 122 ? first - 32 : first); line += bytesOfWord.dropFirst()
                } else {
                    line += bytesOfWord
                }
                sentence += 1
                if sentence >= 8 + (k % 13) || k == doc.count - 1 {
                    line.append(UInt8(ascii: ".")); sentence = 0
                    if k != doc.count - 1 { line += (k % 7 == 0 ? Array("\\n\\n".utf8) : [32]) }
                } else {
                    line.append((w &* 31 &+ k) % 17 == 0 ? UInt8(ascii: ",") : 32)
                    if line.last == UInt8(ascii: ",") { line.append(32) }
                }
            }
            if roll == 99 { line += Array(" Contact jane.doe\(records)@example.com or +1 415-555-2671.".utf8) }
            line += Array("\"}\n".utf8)
            let shard = records % shardCount
            buffers[shard] += line
            if buffers[shard].count > 1 << 20 { handles[shard].write(Data(buffers[shard])); buffers[shard].removeAll(keepingCapacity: true) }
            bytes += line.count
            records += 1
        }
        for s in 0..<shardCount { handles[s].write(Data(buffers[s])); try handles[s].close() }
        return Result(shards: urls, bytes: bytes, records: records, nearCopies: near, exactCopies: exact)
    }
}
