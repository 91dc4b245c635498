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
        promptTokens = registry.makeCounter(descriptor: metric("lathe_prompt_tokens_total", "Prompt tokens run through the model"))
        generatedTokens = registry.makeCounter(descriptor: metric("lathe_generation_tokens_total", "Tokens generated"))
        cancelled = registry.makeCounter(descriptor: metric(
            "lathe_cancelled_sequences_total", "Sequences dropped because their client went away or a stop string ended them"))
        queueDepth = registry.makeGauge(descriptor: metric("lathe_queue_depth", "Sequences waiting for admission"))
        running = registry.makeGauge(descriptor: metric("lathe_running_sequences", "Sequences in the running batch"))
        kvReserved = registry.makeGauge(descriptor: metric("lathe_kv_cache_reserved_tokens",
                                                           "KV-cache positions reserved by running sequences"))
        registry.makeGauge(descriptor: metric("lathe_kv_cache_capacity_tokens", "KV-cache positions the server may reserve"))
            .set(Double(kvCacheTokens))
        batchSize = registry.makeValueHistogram(descriptor: metric("lathe_decode_batch_size",
                                                                   "Sequences decoded together per forward"),
                                                buckets: [1, 2, 4, 8, 16, 32, 64, 128])
    }

    /// Counts one answered request and records its latency.
    func record(endpoint: String, status: Int, seconds: Double) {
        registry.makeCounter(descriptor: metric("lathe_requests_total", "HTTP requests answered"),
                             labels: [("endpoint", endpoint), ("status", String(status))]).increment()
        registry.makeValueHistogram(descriptor: metric("lathe_request_duration_seconds",
                                                       "Time from request to the last byte of the response"),
                                    labels: [("endpoint", endpoint)],
                                    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]).record(seconds)
    }

    /// The Prometheus text exposition.
    func text() -> [UInt8] { registry.emitToBuffer() }
}

/// A metric named `name` in full: the registry joins namespace, subsystem, base name and unit with underscores and
/// skips empty parts, and Lathe's names carry their unit already (`…_total`, `…_seconds`).
private func metric(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}
