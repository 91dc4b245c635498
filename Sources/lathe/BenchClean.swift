import ArgumentParser
import Dispatch
import Foundation
import LatheData
import LatheSupport

/// `lathe bench clean`: throughput of the cleaning stage and of MinHash dedup alone on a generated JSONL corpus,
/// beside datatrove's MinHash (stages 1–3, same n-gram/bands/rows) run on the same files in the same run.
struct BenchClean: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "MB/s of `lathe clean` and of MinHash dedup, beside datatrove's MinHash on the same corpus."
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Corpus size in MB (generated deterministically into a temporary folder).")
    var megabytes: Int = 200

    @Flag(help: "Skip the datatrove peer.")
    var skipPeer = false

    @Flag(help: "Keep the temporary folder (corpus and outputs).")
    var keep = false

    func run() throws {
        try options.configure()
        guard megabytes >= 1 else { throw ValidationError("--megabytes must be at least 1") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-bench-clean-\(ProcessInfo.processInfo.processIdentifier)")
        let shardDir = dir.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: shardDir, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(at: dir) } }

        var start = DispatchTime.now()
        let corpus = try CleanBenchCorpus.generate(megabytes: megabytes, shards: 2, into: shardDir)
        let mb = Double(corpus.bytes) / 1e6
        print("corpus: \(format(mb)) MB in \(corpus.shards.count) shards, \(corpus.records) records "
              + "(\(corpus.nearCopies) near copies, \(corpus.exactCopies) exact copies), generated in \(format(seconds(since: start))) s")
        print("threads \(Parallel.threads)   MinHash: 5-grams, 14 bands × 8 rows, 64-bit")

        start = DispatchTime.now()
        let report = try CleaningPipeline(config: CleaningConfig()).run(
            inputs: corpus.shards.map(\.path), outputDirectory: dir.appendingPathComponent("out").path)
        let pipelineSeconds = seconds(since: start)
        print("lathe clean, whole pipeline:    \(format(mb / pipelineSeconds)) MB/s  (\(format(pipelineSeconds, decimals: 2)) s; "
              + "kept \(report.recordsOut) of \(report.recordsIn), \(report.nearDuplicates.recordsDropped) near duplicates)")

        start = DispatchTime.now()
        let removed = try minHashOnly(corpus.shards.map(\.path))
        let minHashSeconds = seconds(since: start)
        print("lathe MinHash dedup alone:      \(format(mb / minHashSeconds)) MB/s  (\(format(minHashSeconds, decimals: 2)) s; removes \(removed))")

        if skipPeer { return }
        switch runPeer(shards: corpus.shards, workdir: dir.appendingPathComponent("peer")) {
        case .failure(let why):
            print("datatrove MinHash:              not run — \(why)")
        case .success(let peer):
            print("datatrove MinHash (3 stages):   \(format(mb / peer.seconds)) MB/s  (\(format(peer.seconds, decimals: 2)) s; "
                  + "removes \(peer.removed); \(peer.workers) workers)")
            print("MinHash speed-up vs datatrove:  \(format(peer.seconds / minHashSeconds))×")
        }
    }

    /// Read + decode + shingle + sign in parallel, then LSH clustering: what datatrove's three stages do.
    private func minHashOnly(_ shards: [String]) throws -> Int {
        let minHash = MinHash()
        let shingler = Shingler(n: minHash.config.ngram)
        var keys: [UInt64] = []
        var signed: [Bool] = []
        for path in shards {
            let source = try JSONLReader(path: path, maxRecordBytes: 16 << 20)
            while true {
                let items = try source.nextBatch(maxItems: 4096, maxBytes: 16 << 20)
                if items.isEmpty { break }
                var batchKeys = [UInt64](repeating: 0, count: items.count * minHash.config.bands)
                var batchSigned = [Bool](repeating: false, count: items.count)
                batchKeys.withUnsafeMutableBufferPointer { kp in
                    batchSigned.withUnsafeMutableBufferPointer { sp in
                        let shared = UncheckedSendable((kp, sp))
                        Parallel.forEachChunk(items.count, minimumChunk: 8) { range in
                            var words: [UInt64] = [], shingles: [UInt64] = []
                            var signature = [UInt64](repeating: 0, count: minHash.permutations)
                            for i in range {
                                guard case .line(let line) = items[i],
                                      case .record(let record) = JSONLDecoding.decode(line, file: path, decoder: RecordDecoder(), maxRecordBytes: 16 << 20)
                                else { continue }
                                shingler.shingles(record.content.joinedText, words: &words, into: &shingles)
                                guard signature.withUnsafeMutableBufferPointer({ minHash.signature(shingles, into: $0) }) else { continue }
                                let (kp, sp) = shared.value
                                let out = UnsafeMutableBufferPointer(rebasing: kp[i * minHash.config.bands ..< (i + 1) * minHash.config.bands])
                                signature.withUnsafeBufferPointer { minHash.bandKeys($0, into: out) }
                                sp[i] = true
                            }
                        }
                    }
                }
                keys += batchKeys
                signed += batchSigned
            }
        }
        let result = NearDuplicates.cluster(count: signed.count, bands: minHash.config.bands, keys: keys, hasSignature: signed)
        return result.survivor.enumerated().filter { $0.element != $0.offset }.count
    }

    private struct Peer { var seconds: Double; var removed: Int; var workers: Int }

    private func runPeer(shards: [URL], workdir: URL) -> Result<Peer, PeerError> {
        let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "python3"
        let script = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Scripts/bench/clean_peer.py")
        guard FileManager.default.fileExists(atPath: script.path) else {
            return .failure(PeerError("\(script.path) not found; run from the repository root"))
        }
        let workers = Parallel.threads
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path, "--workdir", workdir.path, "--ngram", "5", "--bands", "14", "--rows", "8",
                             "--workers", "\(workers)"] + shards.map(\.path)
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return .failure(PeerError("cannot start \(python): \(error.localizedDescription)")) }
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return .failure(PeerError("\(python) \(script.lastPathComponent) exited with status \(process.terminationStatus) and printed no result"))
        }
        if let error = object["error"] as? String { return .failure(PeerError(error + " (set PYTHON to a venv with datatrove)")) }
        guard let seconds = object["seconds"] as? Double else { return .failure(PeerError("unexpected peer output: \(line)")) }
        return .success(Peer(seconds: seconds, removed: object["to_remove"] as? Int ?? -1, workers: workers))
    }

    private struct PeerError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
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
