import Prometheus

/// The server's Prometheus metrics (`GET /metrics`): requests by endpoint and status, prompt and generated
/// tokens, queue depth, running sequences, reserved KV positions, batch sizes and request latency.
final class ServeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let promptTokens: Counter
    let generatedTokens: Counter
    let queueDepth: Gauge
    let running: Gauge
    let kvReserved: Gauge
    let batchSize: ValueHistogram
    let cancelled: Counter

    init(kvCacheTokens: Int) {
        promptTokens = registry.makeCounter(name: "lathe_prompt_tokens_total", help: "Prompt tokens run through the model")
        generatedTokens = registry.makeCounter(name: "lathe_generation_tokens_total", help: "Tokens generated")
        cancelled = registry.makeCounter(name: "lathe_cancelled_sequences_total",
                                         help: "Sequences dropped because their client went away or a stop string ended them")
        queueDepth = registry.makeGauge(name: "lathe_queue_depth", help: "Sequences waiting for admission")
        running = registry.makeGauge(name: "lathe_running_sequences", help: "Sequences in the running batch")
        kvReserved = registry.makeGauge(name: "lathe_kv_cache_reserved_tokens", help: "KV-cache positions reserved by running sequences")
        registry.makeGauge(name: "lathe_kv_cache_capacity_tokens", help: "KV-cache positions the server may reserve")
            .set(Double(kvCacheTokens))
        batchSize = registry.makeValueHistogram(name: "lathe_decode_batch_size", buckets: [1, 2, 4, 8, 16, 32, 64, 128],
                                                help: "Sequences decoded together per forward")
    }

    /// Counts one answered request and records its latency.
    func record(endpoint: String, status: Int, seconds: Double) {
        registry.makeCounter(name: "lathe_requests_total", labels: [("endpoint", endpoint), ("status", String(status))],
                             help: "HTTP requests answered").increment()
        registry.makeValueHistogram(name: "lathe_request_duration_seconds", labels: [("endpoint", endpoint)],
                                    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
                                    help: "Time from request to the last byte of the response").record(seconds)
    }

    /// The Prometheus text exposition.
    func text() -> [UInt8] { registry.emitToBuffer() }
}
