import Foundation
import S2SService

/// How `s2s serve` listens, what it refuses, and the search it runs by default. Every default
/// of the server is here.
public struct ServerOptions: Sendable {
    /// The address to bind: loopback unless told otherwise, so a model is not exposed by accident.
    public var host: String
    /// The TCP port; 0 picks a free one (its number is reported once the server runs).
    public var port: Int
    /// Largest request body accepted (`--max-request-bytes`); larger ones get 413.
    public var maxRequestBytes: Int
    /// Most sentences (lines of text) in one request (`--max-sentences-per-request`); more get 413.
    public var maxSentencesPerRequest: Int
    /// Longest a request may wait for its translation (`--timeout`); then it gets 503. Also
    /// how long a connection may sit idle, or send half a request, before it is closed.
    public var timeout: Duration
    /// Most `alternatives` a LibreTranslate request may ask for (each widens its beam).
    public var maxAlternatives: Int
    /// The search of a request that asks for nothing else.
    public var search: RequestSearch

    public init(host: String = "127.0.0.1", port: Int = 5000, maxRequestBytes: Int = 1 << 20,
                maxSentencesPerRequest: Int = 256, timeout: Duration = .seconds(30), maxAlternatives: Int = 8,
                search: RequestSearch = RequestSearch()) {
        self.host = host
        self.port = port
        self.maxRequestBytes = maxRequestBytes
        self.maxSentencesPerRequest = maxSentencesPerRequest
        self.timeout = timeout
        self.maxAlternatives = maxAlternatives
        self.search = search
    }
}

/// One model the server translates with: its language pair and its decoding service.
public struct ServedModel: Sendable {
    /// The model's number in `/translator/models` and OpenNMT-py requests' `id` (the order of `-m`).
    public var id: Int
    /// The model file, as given.
    public var path: String
    /// ISO 639-1 codes ("en", "fr").
    public var source: String
    public var target: String
    public var service: TranslationService

    public init(id: Int, path: String, source: String, target: String, service: TranslationService) {
        self.id = id
        self.path = path
        self.source = source
        self.target = target
        self.service = service
    }
}

/// Problems with the server's own configuration, found before it starts.
public enum ServerConfigurationError: Error, Equatable, CustomStringConvertible {
    /// A line of the API-keys file that is not `KEY` or `KEY REQUESTS_PER_MINUTE`.
    case invalidAPIKeyLine(path: String, line: Int, problem: String)
    /// The API-keys file could not be read.
    case unreadableAPIKeys(path: String, reason: String)
    /// Two models translate the same language pair.
    case duplicatePair(source: String, target: String)

    public var description: String {
        switch self {
        case let .invalidAPIKeyLine(path, line, problem): return "\(path):\(line): \(problem)"
        case let .unreadableAPIKeys(path, reason): return "\(path): \(reason)"
        case let .duplicatePair(source, target):
            return "two models translate \(source)→\(target); give each language pair one model"
        }
    }
}
