import Foundation
import LatheFormats
import LatheSupport
import LatheModels
import LatheServe

/// One `lathe serve` for SmolLM2-135M-Instruct on an ephemeral loopback port, shared by the suites: the base and
/// two adapters ("alpha", "beta": seeded random LoRA weights written as PEFT directories), API key "sk-test".
final class ServerFixture: @unchecked Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelPath = root.appendingPathComponent("Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf").path
    static var modelPresent: Bool { FileManager.default.fileExists(atPath: modelPath) }
    static let apiKey = "sk-test"
    static let auth = ["Authorization": "Bearer \(apiKey)"]

    /// The shared server, started on first use.
    static let shared = Task<ServerFixture, Error> { try await ServerFixture() }

    let loaded: LoadedModel
    let adapters: [String: LoRAAdapter]
    let served: ServedModel
    let port: Int
    private let task: Task<Void, Error>

    private init() async throws {
        loaded = try ModelLoader.load(Self.modelPath)
        var adapters = [String: LoRAAdapter]()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-serve-tests-\(getpid())")
        for (name, seed) in [("alpha", UInt64(1)), ("beta", UInt64(2))] {
            var adapter = try LoRAAdapter(config: LoRAConfig(rank: 4, alpha: 8, targets: [.q, .v, .down]), model: loaded.config, seed: seed)
            // B starts at zero (a no-op adapter); give it values so each adapter changes the model's answers.
            var random = SplitMix64(seed: seed)
            for entry in adapter.layout.entries {
                for i in 0..<(entry.outFeatures * adapter.config.rank) { adapter.parameters[entry.b + i] = Float(random.nextUnit() * 2 - 1) * 0.05 }
            }
            let path = directory.appendingPathComponent(name).path
            try PEFTAdapter.write(adapter, baseModel: Self.modelPath, to: path)
            adapters[name] = try PEFTAdapter.read(path, model: loaded.config)
        }
        self.adapters = adapters
        served = try ServedModel(model: DecoderModel(weights: loaded.weights, rope: loaded.rope), tokenizer: try loaded.tokenizer(),
                                 adapters: adapters,
                                 options: ServeOptions(baseName: "smollm2", maxModelLength: 512,
                                                       limits: SchedulerLimits(maxBatch: 8, kvCacheTokens: 4096, maxQueue: 64),
                                                       maxBodyBytes: 64 << 10, apiKey: Self.apiKey))
        (port, task) = try await LatheServer.start(served)
    }

    /// Sends one request on a new connection and reads the response (on a thread of its own: the blocking
    /// socket must not hold one of the concurrency pool's threads, which the server needs).
    func request(_ method: String, _ path: String, json: String? = nil, headers: [String: String] = auth) async throws -> LoopbackConnection.Response {
        let port = self.port
        return try await offPool {
            let connection = try LoopbackConnection(port: port)
            defer { connection.close() }
            return try connection.request(method, path, body: Array((json ?? "").utf8), headers: headers)
        }
    }

    /// The response body parsed with the project's JSON parser.
    func object(_ response: LoopbackConnection.Response) throws -> JSONNode {
        try JSONNode.parse(response.body, file: "response")
    }

    /// The model with `adapter` merged in, for reference scores computed in-process.
    func reference(adapter: String?) -> DecoderModel {
        var weights = loaded.weights
        if let adapter { weights = weights.merged(with: adapters[adapter]!) }
        return DecoderModel(weights: weights, rope: loaded.rope)
    }
}

/// Runs blocking work (sockets, waits) on a new thread and awaits its result.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
