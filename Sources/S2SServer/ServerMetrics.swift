import Prometheus
import S2SService

/// What `GET /metrics` exposes, in Prometheus's text format: requests and sentences by route
/// and status, request latency by route, requests in flight, the decoding queue's depth, and
/// each decoding round's size and time.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let queueDepth: Gauge
    private let inFlight: Gauge
    private let roundSentences: ValueHistogram
    private let roundRequests: ValueHistogram
    private let roundSeconds: DurationHistogram

    /// Routes are labelled by their pattern; anything else is "other", so strangers' paths
    /// cannot grow the label set without bound.
    static let routes: Set<String> = ["/translate", "/languages", "/health", "/metrics", "/translator/translate",
                                      "/translator/models", "/translator/health"]

    static let latencyBuckets: [Duration] = [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30]
        .map { .nanoseconds(Int64($0 * 1e9)) }

    init() {
        queueDepth = registry.makeGauge(descriptor: .init(metricName: "s2s_queue", unitName: "sentences",
                                                          helpText: "Sentences waiting for a decoding round"), labels: [])
        inFlight = registry.makeGauge(descriptor: .init(metricName: "s2s_requests_in_flight",
                                                        helpText: "HTTP requests received and not yet answered"), labels: [])
        roundSentences = registry.makeValueHistogram(
            descriptor: .init(metricName: "s2s_round", unitName: "sentences", helpText: "Sentences per decoding round"),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
        roundRequests = registry.makeValueHistogram(
            descriptor: .init(metricName: "s2s_round", unitName: "requests", helpText: "Requests per decoding round"),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256])
        roundSeconds = registry.makeDurationHistogram(
            descriptor: .init(metricName: "s2s_round_duration", unitName: "seconds", helpText: "Wall time of a decoding round"),
            buckets: Self.latencyBuckets)
    }

    static func routeLabel(_ path: String) -> String { routes.contains(path) ? path : "other" }

    /// A request's head arrived (`recordRequest` ends it).
    func beginRequest() { inFlight.increment() }

    func recordRequest(route: String, status: Int, sentences: Int, duration: Duration) {
        inFlight.decrement()
        let labels = [("route", route), ("status", String(status))]
        registry.makeCounter(descriptor: .init(metricName: "s2s_requests", unitName: "total", helpText: "HTTP requests answered"),
                             labels: labels).increment()
        if sentences > 0 {
            registry.makeCounter(descriptor: .init(metricName: "s2s_sentences", unitName: "total",
                                                   helpText: "Sentences (lines) in answered requests"),
                                 labels: labels).increment(by: Int64(sentences))
        }
        registry.makeDurationHistogram(descriptor: .init(metricName: "s2s_request_duration", unitName: "seconds",
                                                         helpText: "Time from a request's head to its answer"),
                                       labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    func recordRound(_ round: ServiceRound) {
        roundSentences.record(Double(round.sentences))
        roundRequests.record(Double(round.requests))
        roundSeconds.record(.nanoseconds(Int64(round.seconds * 1e9)))
    }

    /// The exposition text, with the queue depth read now.
    func exposition(queuedSentences: Int) -> [UInt8] {
        queueDepth.set(Double(queuedSentences))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
