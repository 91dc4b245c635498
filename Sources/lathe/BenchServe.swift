import ArgumentParser
import Dispatch
import Foundation
import LatheFormats
import LatheModels
import LatheServe
import LatheSupport

/// `lathe bench serve`: a bounded load on `lathe serve` from a client in the project — throughput with continuous
/// batching against one request at a time, latency percentiles, and single-stream decode beside llama.cpp.
struct BenchServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Load lathe serve with concurrent chat requests; batching vs one at a time, p50/p99, decode beside llama.cpp (via $PYTHON)."
    )

    @OptionGroup var threads: ThreadOptions
    @OptionGroup var base: BaseFormatOption
    @Option(help: "Model file or directory.") var model = "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "Concurrent chat requests.") var requests = 64
    @Option(help: "New tokens per request (ignore_eos, so every request makes exactly this many).") var maxTokens = 64
    @Option(help: "Requests timed one at a time, for the unbatched rate.") var sequential = 8
    @Option(help: "Tokens of the single-stream decode measurement.") var decodeTokens = 128
    @Option(help: "Single-stream decode measurements, each Lathe's then llama.cpp's (alternated pairs).") var pairs = 2
    @Flag(help: "Skip the llama.cpp peer.") var noPeer = false
    @OptionGroup var decode: DecodeActivationsOption

    func validate() throws {
        guard requests >= 1, maxTokens >= 2, sequential >= 1, decodeTokens >= 2, pairs >= 1 else {
            throw ValidationError("--requests, --sequential and --pairs must be at least 1, --max-tokens and --decode-tokens at least 2")
        }
    }

    func run() throws {
        threads.configure()
        let loaded = try ModelLoader.load(model, format: base.format)
        let kv = requests * (maxTokens + 64) + decodeTokens + 64
        var weights = loaded.weights
        weights.decodeActivations = decode.activations
        let served = try ServedModel(model: DecoderModel(weights: weights, rope: loaded.rope), tokenizer: try loaded.tokenizer(),
                                     adapters: [:], options: ServeOptions(baseName: "bench", maxModelLength: min(2048, kv),
                                                                          limits: SchedulerLimits(maxBatch: requests, kvCacheTokens: kv)))
        let (port, task) = try LatheServer.startInBackground(served)
        defer { task.cancel() }
        _ = try chat(port: port, index: 0)   // warm-up
        print("model \(model)  threads \(Parallel.threads) (OpenBLAS the same, never nested)  decode activations \(decode.activations)")
        print("single-stream greedy decode of \(decodeTokens) tokens, prefill excluded; Lathe through the server, then llama.cpp in its own process:")
        // The ids the server encodes the completion prompt to, handed to llama.cpp so both decode after the same tokens.
        let promptIds = try loaded.tokenizer().encode(Self.prompt, addSpecialTokens: true)
        var ratios = [Double]()
        for pair in 1...pairs {
            let ours = try singleStreamDecode(port: port)
            var line = "pair \(pair)           Lathe \(format(ours)) tokens/s"
            if noPeer {
                print(line)
                continue
            }
            let peer = Peer.llamaCppDecode(model: model, promptIds: promptIds, tokens: decodeTokens, threads: Parallel.threads)
            if let peer = peer.decode {
                ratios.append(ours / peer.tokensPerSecond)
                line += "   llama.cpp \(format(peer.tokensPerSecond)) tokens/s (llama-cpp-python \(peer.version), same GGUF)"
                line += "   \(format(ours / peer.tokensPerSecond, decimals: 2))×"
            } else {
                line += "   llama.cpp not measured: \(peer.failure ?? "unknown")"
            }
            print(line)
        }
        if !ratios.isEmpty {
            print("decode vs llama.cpp  median \(format(median(ratios), decimals: 2))× over \(ratios.count) pairs")
        }
        var sequentialTokens = 0
        let sequentialStart = DispatchTime.now().uptimeNanoseconds
        for i in 0..<sequential { sequentialTokens += try chat(port: port, index: i).tokens }
        let sequentialRate = Double(sequentialTokens) / seconds(since: sequentialStart)
        let outcomes = Outcomes(count: requests)
        let batchStart = DispatchTime.now().uptimeNanoseconds
        // One thread per client (concurrentPerform would run only as many as there are cores).
        let group = DispatchGroup()
        for i in 0..<requests {
            group.enter()
            let thread = Thread {
                outcomes.set(i, Result { try chat(port: port, index: i) })
                group.leave()
            }
            thread.start()
        }
        group.wait()
        let wall = seconds(since: batchStart)
        let results = outcomes.all()
        let succeeded = results.compactMap { try? $0.get() }.filter { $0.tokens == maxTokens }
        let latencies = succeeded.map(\.seconds).sorted()
        let batchRate = Double(succeeded.reduce(0) { $0 + $1.tokens }) / wall
        print("\(requests) concurrent chat requests × \(maxTokens) new tokens (ignore_eos, greedy):")
        print("succeeded        \(succeeded.count)/\(requests)" + (succeeded.count == requests ? "" : "  FIRST FAILURE: \(firstFailure(results))"))
        print("batched          \(format(batchRate)) generated tokens/s  (wall \(format(wall)) s)")
        print("one at a time    \(format(sequentialRate)) generated tokens/s  (\(sequential) requests in turn)")
        print("batching gain    \(format(batchRate / sequentialRate, decimals: 2))×")
        if !latencies.isEmpty {
            print("latency          p50 \(format(percentile(latencies, 0.5))) s  p99 \(format(percentile(latencies, 0.99))) s")
        }
    }

    /// One chat request: generated tokens and seconds to the whole answer.
    private func chat(port: Int, index: Int) throws -> (tokens: Int, seconds: Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let body = #"{"messages": [{"role": "user", "content": "Tell me a short story about a lighthouse keeper, number \#(index)."}], "#
            + #""max_tokens": \#(maxTokens), "temperature": 0, "ignore_eos": true}"#
        let connection = try LoopbackConnection(port: port)
        defer { connection.close() }
        let response = try connection.request("POST", "/v1/chat/completions", body: Array(body.utf8))
        guard response.status == 200 else { throw LoopbackConnection.Failure(description: "status \(response.status): \(response.text)") }
        let usage = try JSONNode.parse(response.body, file: "response").required("usage")
        return (try usage.required("completion_tokens").int(), seconds(since: start))
    }

    /// The completion prompt of the single-stream measurement (plain text: no JSON escaping needed).
    static let prompt = "The history of the lighthouse"

    /// Decode tokens/s of one streamed request: tokens after the first over the time after the first.
    private func singleStreamDecode(port: Int) throws -> Double {
        let connection = try LoopbackConnection(port: port)
        defer { connection.close() }
        let body = #"{"prompt": "\#(Self.prompt)", "max_tokens": \#(decodeTokens), "temperature": 0, "ignore_eos": true, "stream": true}"#
        try connection.sendRequest("POST", "/v1/completions", body: Array(body.utf8))
        guard try connection.readHead().status == 200 else { throw LoopbackConnection.Failure(description: "stream refused") }
        var first: UInt64?, last: UInt64 = 0, chunks = 0
        while let chunk = try connection.readChunk() {
            let text = String(decoding: chunk, as: UTF8.self)
            guard text.hasPrefix("data: {") else { continue }
            let now = DispatchTime.now().uptimeNanoseconds
            if first == nil { first = now } else { chunks += 1 }
            last = now
        }
        guard let first, last > first, chunks > 0 else { throw LoopbackConnection.Failure(description: "no stream chunks") }
        // Chunks after the first are the decode steps (a chunk may hold a held-back piece, so count tokens).
        return Double(decodeTokens - 1) / (Double(last - first) / 1e9)
    }

    private func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    private func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    private func firstFailure(_ results: [Result<(tokens: Int, seconds: Double), Error>]) -> String {
        for result in results {
            switch result {
            case .failure(let error): return "\(error)"
            case .success(let value) where value.tokens != maxTokens: return "\(value.tokens) tokens instead of \(maxTokens)"
            default: continue
            }
        }
        return "none"
    }
}

/// Per-request results written by the concurrent client threads.
private final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<(tokens: Int, seconds: Double), Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ result: Result<(tokens: Int, seconds: Double), Error>) { lock.withLock { results[i] = result } }
    func all() -> [Result<(tokens: Int, seconds: Double), Error>] { lock.withLock { results.map { $0! } } }
}
