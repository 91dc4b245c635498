import ArgumentParser
import Dispatch
import Foundation
import LatheSupport
import LatheTensors
import LatheTokenizers

/// `lathe bench tokenize`: encode speed on a generated English + code corpus, beside HF `tokenizers` in the same run.
struct BenchTokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode MB/s, single-thread and on all cores, beside Hugging Face tokenizers (single-thread).",
        discussion: "The peer runs with the interpreter in $PYTHON (default python3) and RAYON_NUM_THREADS=1."
    )

    @OptionGroup var options: BenchOptions

    @Option(name: .long, help: "tokenizer.json, a directory containing it, or a GGUF file.")
    var tokenizer: String

    @Option(help: "Corpus size in megabytes.")
    var megabytes: Int = 20

    func run() throws {
        try options.configure()
        let tok = try Tokenizer.forModel(at: tokenizer)
        let records = BenchCorpus.generate(bytes: megabytes << 20)
        let total = records.reduce(0) { $0 + $1.utf8.count }
        print("corpus: \(records.count) records, \(format(Double(total) / 1e6)) MB of generated English + code")

        var checksum = (count: 0, sum: 0)
        let start = DispatchTime.now().uptimeNanoseconds
        for r in records {
            let ids = tok.encode(r)
            checksum.count += ids.count
            checksum.sum &+= ids.reduce(0) { $0 &+ Int($1) }
        }
        let single = Double(total) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) / 1e6
        print("lathe   1 thread    \(format(single)) MB/s   (\(checksum.count) tokens)")

        let threads = Parallel.threads
        let parallelStart = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var i = t
            while i < records.count { _ = tok.encode(records[i]); i += threads }
        }
        let multi = Double(total) / (Double(DispatchTime.now().uptimeNanoseconds - parallelStart) / 1e9) / 1e6
        print("lathe   \(threads) threads   \(format(multi)) MB/s")

        guard let peer = try runPeer(records: records, tokenizer: tok) else { return }
        print("HF tokenizers 1 thread  \(format(peer.mbps)) MB/s   (\(peer.count) tokens)")
        print("ratio lathe / HF (1 thread): \(format(single / peer.mbps, decimals: 2))x   ids identical: "
              + (peer.count == checksum.count && peer.sum == checksum.sum ? "yes" : "NO"))
    }

    /// Runs HF `tokenizers` over the same records, one at a time on one thread; nil when it is not installed.
    /// A GGUF tokenizer is handed to the peer as the `tokenizer.json` Lathe writes for it.
    private func runPeer(records: [String], tokenizer tok: Tokenizer) throws -> (mbps: Double, count: Int, sum: Int)? {
        let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "python3"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("corpus.json")
        try JSONSerialization.data(withJSONObject: records).write(to: corpus)
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: tokenizer, isDirectory: &isDirectory)
        var file = isDirectory.boolValue ? (tokenizer as NSString).appendingPathComponent("tokenizer.json") : tokenizer
        if tokenizer.lowercased().hasSuffix(".gguf") {
            file = dir.appendingPathComponent("tokenizer.json").path
            try tok.huggingFaceJSON().write(to: URL(fileURLWithPath: file))
        }
        let script = """
            import json, sys, time
            try:
                from tokenizers import Tokenizer
            except ImportError:
                print("MISSING"); sys.exit(0)
            tok = Tokenizer.from_file(sys.argv[1])
            records = json.load(open(sys.argv[2], encoding="utf-8"))
            total = sum(len(r.encode("utf-8")) for r in records)
            tok.encode(records[0], add_special_tokens=False)
            start = time.perf_counter(); count = 0; s = 0
            for r in records:
                ids = tok.encode(r, add_special_tokens=False).ids
                count += len(ids); s += sum(ids)
            print(json.dumps({"mbps": total / (time.perf_counter() - start) / 1e6, "count": count, "sum": s}))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script, file, corpus.path]
        var env = ProcessInfo.processInfo.environment
        env["RAYON_NUM_THREADS"] = "1"
        env["TOKENIZERS_PARALLELISM"] = "false"
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            print("HF tokenizers: peer not measured (cannot run \(python): \(error.localizedDescription))")
            return nil
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, text != "MISSING",
              let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let mbps = json["mbps"] as? Double, let count = json["count"] as? Int, let sum = json["sum"] as? Int else {
            let reason = errors.split(separator: "\n").last.map { ": \($0)" } ?? ""
            print("HF tokenizers: peer not measured (\(python) lacks the `tokenizers` package or failed\(reason); set PYTHON)")
            return nil
        }
        return (mbps, count, sum)
    }
}

/// A deterministic mixed corpus: English prose with numbers and contractions, Python / Swift / C code, a little
/// non-Latin text. Same bytes on every run (SplitMix64 with a fixed seed).
enum BenchCorpus {
    static func generate(bytes target: Int) -> [String] {
        var rng = SplitMix64(seed: 0x1a7e)
        var records = [String](), total = 0
        while total < target {
            var record = ""
            let kind = rng.next() % 10
            while record.utf8.count < 2000 + Int(rng.next() % 4000) {
                if kind < 6 { record += sentence(&rng) } else if kind < 9 { record += code(&rng) } else { record += other(&rng) }
            }
            total += record.utf8.count
            records.append(record)
        }
        return records
    }

    private static let words = """
        the of and to in is that for it as was with be by on not he this are or his from at which but have an they \
        you were her she there been one all we their has would when if so no will what can more other into time \
        data model record patient account contract hospital bank court training evaluation adapter weights export \
        compliance private machine learning tokenizer sequence gradient batch layer attention memory process system \
        report review policy customer payment invoice claim diagnosis treatment agreement clause liability audit
        """.split(separator: " ").map(String.init)
    private static let contractions = ["don't", "it's", "we'll", "they're", "I've", "can't", "she'd", "wouldn't"]
    private static let others = ["Привет, как дела? ", "Καλημέρα κόσμε. ", "你好，世界！", "こんにちは世界。", "안녕하세요 ",
                                 "مرحبا بالعالم ", "naïve café résumé ", "emoji 👍🏽 👨‍👩‍👧 ", "Zürich São Paulo "]

    private static func sentence(_ rng: inout SplitMix64) -> String {
        var s = ""
        for n in 0..<(5 + Int(rng.next() % 15)) {
            let r = rng.next() % 20
            var w = r == 0 ? contractions[Int(rng.next() % UInt64(contractions.count))]
                : r == 1 ? String(rng.next() % 100_000) : words[Int(rng.next() % UInt64(words.count))]
            if n == 0 { w = w.prefix(1).uppercased() + w.dropFirst() }
            s += (n == 0 ? "" : " ") + w
            if rng.next() % 12 == 0 { s += "," }
        }
        return s + [". ", "? ", "! ", ".\n", ".\n\n"][Int(rng.next() % 5)]
    }

    private static func code(_ rng: inout SplitMix64) -> String {
        let a = words[Int(rng.next() % UInt64(words.count))], b = words[Int(rng.next() % UInt64(words.count))]
        let n = rng.next() % 1000
        switch rng.next() % 3 {
        case 0: return "def \(a)_\(b)(x, y=\(n)):\n    if x > y:\n        return x * \(n) + y  # \(a)\n    return [\(a) for \(a) in range(y)]\n\n"
        case 1: return "func \(a)\(b.capitalized)(_ value: Int) -> [String: Int] {\n\tlet \(b) = value &* \(n)\n\treturn [\"\(a)\": \(b)]\n}\n"
        default: return "for (int i = 0; i < \(n); ++i) { \(a)[i] = \(b)->data[i] << 2; } // \(a)\r\n"
        }
    }

    private static func other(_ rng: inout SplitMix64) -> String {
        others[Int(rng.next() % UInt64(others.count))] + sentence(&rng)
    }
}

