import ArgumentParser
import Foundation
import LatheModels
import LatheServe

/// `lathe serve`: an OpenAI-compatible HTTP server for a base model and its LoRA adapters.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model and its LoRA adapters over OpenAI-compatible HTTP (completions with echo log-probabilities, chat, streaming).",
        discussion: """
        Endpoints: POST /v1/completions, POST /v1/chat/completions, GET /v1/models, POST /tokenize, POST /detokenize, \
        GET /tokenizer_info, GET /health, GET /metrics. A request's "model" names the base (--served-model-name) or an \
        adapter given with --adapter NAME=PATH; adapters are applied per request, never merged into the base. The \
        server listens on 127.0.0.1 unless --host says otherwise, and any other address needs --api-key (or \
        LATHE_API_KEY). SIGTERM or Ctrl-C finishes the requests in flight, then exits.
        """
    )

    @Option(help: "Base model: a GGUF file or an HF directory.") var model: String
    @Option(name: .customLong("adapter"), help: ArgumentHelp("An adapter to serve as NAME=PATH; PATH is a PEFT adapter directory or a run directory (its newest trained adapter, from lineage.json). Repeatable.", valueName: "name=path"))
    var adapters: [String] = []
    @Option(help: "Address to listen on; anything but loopback needs --api-key.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed at start).") var port = 8000
    @Option(help: "Bearer token every request but /health must carry (default: $LATHE_API_KEY, else none).")
    var apiKey: String?
    @Option(help: "The name requests use for the base model (default: the model file's name).") var servedModelName: String?
    @Option(help: "Longest prompt + completion in tokens (default: the model's context, at most --kv-cache-tokens).")
    var maxModelLen: Int?
    @Option(help: "Sequences decoded together at most.") var maxBatch = 64
    @Option(help: "KV-cache positions all running sequences may reserve together (the memory bound); a sequence reserves prompt + max_tokens.")
    var kvCacheTokens = 32768
    @Option(help: "Sequences waiting for admission at most; beyond it requests get 429.") var maxQueue = 1024
    @Option(help: "Largest request body in bytes (larger: 413).") var maxBodyBytes = 8 << 20
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var base: BaseFormatOption
    @OptionGroup var decode: DecodeActivationsOption

    /// The `--adapter` values as (name, path), in order.
    func adapterSpecs() throws -> [(name: String, path: String)] {
        var seen = Set<String>()
        return try adapters.map { spec in
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !parts[0].contains(where: \.isWhitespace) else {
                throw ValidationError("--adapter takes NAME=PATH (got \"\(spec)\")")
            }
            guard seen.insert(parts[0]).inserted else { throw ValidationError("--adapter name \"\(parts[0])\" is given twice") }
            return (parts[0], parts[1])
        }
    }

    var effectiveAPIKey: String? { apiKey ?? ProcessInfo.processInfo.environment["LATHE_API_KEY"].flatMap { $0.isEmpty ? nil : $0 } }

    func validate() throws {
        _ = try adapterSpecs()
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1") }
        guard maxQueue >= 1 else { throw ValidationError("--max-queue must be at least 1") }
        guard kvCacheTokens >= 2 else { throw ValidationError("--kv-cache-tokens must be at least 2") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        if let maxModelLen, !(2...kvCacheTokens).contains(maxModelLen) {
            throw ValidationError("--max-model-len must be between 2 and --kv-cache-tokens (\(kvCacheTokens))")
        }
        if !Self.isLoopback(host) && effectiveAPIKey == nil {
            throw ValidationError("--host \(host) is not a loopback address: pass --api-key KEY (or set LATHE_API_KEY) so only clients with the key are served")
        }
    }

    /// 127.0.0.0/8, ::1 and localhost.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    func run() throws {
        threads.configure()
        let loaded = try ModelLoader.load(model, format: base.format)
        var served: [String: LoRAAdapter] = [:]
        for (name, path) in try adapterSpecs() {
            served[name] = try PEFTAdapter.read(try Export.adapterDirectory(path), model: loaded.config)
        }
        var context = min(loaded.config.maxPositionEmbeddings, kvCacheTokens)
        if let longRope = loaded.config.longRope { context = min(context, longRope.originalMaxPositionEmbeddings) }
        let name = servedModelName ?? ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        let options = ServeOptions(baseName: name, maxModelLength: maxModelLen ?? context,
                                   limits: SchedulerLimits(maxBatch: maxBatch, kvCacheTokens: kvCacheTokens, maxQueue: maxQueue),
                                   maxBodyBytes: maxBodyBytes, apiKey: effectiveAPIKey)
        var weights = loaded.weights
        weights.decodeActivations = decode.activations
        let servedModel = try ServedModel(model: DecoderModel(weights: weights, rope: loaded.rope),
                                          tokenizer: try loaded.tokenizer(), adapters: served, options: options)
        let host = self.host
        let app = LatheServer.application(servedModel, host: host, port: port) { port in
            let models = servedModel.modelNames.joined(separator: ", ")
            FileHandle.standardError.write(Data("lathe serve: http://\(host):\(port) — models: \(models)\n".utf8))
        }
        let done = DispatchSemaphore(value: 0)
        let failure = ServeFailure()
        Task {
            do { try await app.runService() } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        servedModel.drain()
        if let error = failure.error { throw error }
        FileHandle.standardError.write(Data("lathe serve: stopped\n".utf8))
    }
}

/// The server task's error, handed back to the waiting command.
private final class ServeFailure: @unchecked Sendable {
    var error: Error?
}
