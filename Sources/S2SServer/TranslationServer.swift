import Foundation
import Hummingbird
import Logging
import S2SService

/// `s2s serve`: the models' translation services behind LibreTranslate's and OpenNMT-py's
/// HTTP APIs, with Prometheus metrics, on Hummingbird.
///
/// Every answer is JSON (metrics aside); every failure is `{"error": "…"}` with its status,
/// and the server goes on serving. SIGTERM and SIGINT stop it gracefully: it stops
/// accepting, answers the requests in flight, stops the decoding services and returns.
public final class TranslationServer: Sendable {
    public let models: [ServedModel]
    public let options: ServerOptions
    private let keys: APIKeys?
    private let metrics = ServerMetrics()
    private let log: (@Sendable (RequestLogLine) -> Void)?

    /// `log` gets one line per answered request (nil: none).
    public init(models: [ServedModel], options: ServerOptions = ServerOptions(), apiKeys: APIKeys? = nil,
                log: (@Sendable (RequestLogLine) -> Void)? = nil) throws {
        precondition(!models.isEmpty, "TranslationServer needs a model")
        var pairs: Set<String> = []
        for model in models where !pairs.insert("\(model.source)→\(model.target)").inserted {
            throw ServerConfigurationError.duplicatePair(source: model.source, target: model.target)
        }
        self.models = models
        self.options = options
        self.keys = apiKeys
        self.log = log
        for model in models { model.service.onRound = { [metrics] in metrics.recordRound($0) } }
    }

    /// Serves until SIGTERM or SIGINT; `onRunning` gets the bound port once connections are accepted.
    public func run(onRunning: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let port = options.port
        let timeoutSeconds = max(1, Int64(options.timeout.components.seconds))
        let app = Application(
            router: makeRouter(),
            server: .http1(configuration: .init(idleTimeout: .seconds(timeoutSeconds))),
            configuration: .init(address: .hostname(options.host, port: port), serverName: "s2s"),
            onServerRunning: { channel in onRunning(channel.localAddress?.port ?? port) },
            logger: Logger(label: "s2s.serve", factory: { _ in SwiftLogNoOpLogHandler() }))
        defer { for model in models { model.service.stop() } }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    private func makeRouter() -> Router<ServeContext> {
        let router = Router(context: ServeContext.self)
        router.add(middleware: AnswerMiddleware(metrics: metrics, log: log, maxRequestBytes: options.maxRequestBytes))
        let libre = LibreTranslateAPI(models: models, options: options, keys: keys)
        let onmt = OpenNMTAPI(models: models, options: options, keys: keys)
        let limit = options.maxRequestBytes, timeout = options.timeout
        router.post("/translate") { request, context in
            let body = try await Self.body(of: request, limit: limit, timeout: timeout)
            return try await libre.translate(body: body, contentType: request.headers[.contentType],
                                             query: request.uri.query, record: context.record)
        }
        router.get("/languages") { _, _ in try libre.languages() }
        router.get("/health") { _, _ in try JSONBody.response(["status": "ok"]) }
        router.post("/translator/translate") { request, context in
            let body = try await Self.body(of: request, limit: limit, timeout: timeout)
            let key = request.uri.queryParameters["api_key"].map(String.init) ?? request.headers[.init("X-API-Key")!]
            return try await onmt.translate(body: body, apiKey: key, record: context.record)
        }
        router.get("/translator/models") { _, _ in try onmt.modelList() }
        router.get("/translator/health") { _, _ in try JSONBody.response(["status": "ok"]) }
        let metrics = self.metrics, services = models.map(\.service)
        router.get("/metrics") { _, _ in
            let text = metrics.exposition(queuedSentences: services.reduce(0) { $0 + $1.queuedSentences })
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        return router
    }

    /// The request's body, refused with 413 past `limit` bytes (at once when Content-Length
    /// says so) and with 408 when it has not all arrived within `timeout`.
    private static func body(of request: Request, limit: Int, timeout: Duration) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.tooLarge("the request body (\(length) bytes) is over the limit of \(limit) bytes")
        }
        return try await withThrowingTaskGroup(of: [UInt8].self) { group in
            group.addTask { Array(try await request.body.collect(upTo: limit).readableBytesView) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw APIError(status: .requestTimeout, message: "the request body did not arrive within the timeout")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}

/// One answered request, for the log: method, path, status, lines, milliseconds
/// (`POST /translate 200 3 sentences <elapsed> ms`).
public struct RequestLogLine: Sendable, CustomStringConvertible {
    public var method: String
    public var path: String
    public var status: Int
    public var sentences: Int
    public var milliseconds: Double

    public var description: String {
        "\(method) \(path) \(status) \(sentences) sentence\(sentences == 1 ? "" : "s") "
            + String(format: "%.1f ms", milliseconds)
    }
}

/// What a handler tells the middleware about its request.
final class RequestRecord: @unchecked Sendable {
    /// Lines the request asked to translate (0 for other routes).
    var sentences = 0
}

/// The request context: Hummingbird's core storage and this request's record.
struct ServeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let record = RequestRecord()

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// Around every route (and the not-found answer): turns every error into its JSON answer,
/// then logs the request and counts it.
struct AnswerMiddleware: RouterMiddleware {
    typealias Context = ServeContext
    let metrics: ServerMetrics
    let log: (@Sendable (RequestLogLine) -> Void)?
    let maxRequestBytes: Int

    /// Methods each route answers, for 405's `Allow`.
    static let methods: [String: String] = [
        "/translate": "POST", "/languages": "GET", "/health": "GET", "/metrics": "GET",
        "/translator/translate": "POST", "/translator/models": "GET", "/translator/health": "GET",
    ]

    func handle(_ request: Request, context: ServeContext,
                next: (Request, ServeContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.beginRequest()
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = error.response()
        } catch let error as any HTTPResponseError {
            response = answer(error.status, path: request.uri.path).response()
        } catch {
            response = APIError(status: .internalServerError, message: "internal error: \(error)").response()
        }
        let elapsed = ContinuousClock.now - start
        let route = ServerMetrics.routeLabel(request.uri.path)
        metrics.recordRequest(route: route, status: response.status.code, sentences: context.record.sentences,
                              duration: elapsed)
        log?(RequestLogLine(method: request.method.rawValue, path: request.uri.path, status: response.status.code,
                            sentences: context.record.sentences,
                            milliseconds: Double(elapsed.components.attoseconds) / 1e15
                                + Double(elapsed.components.seconds) * 1e3))
        return response
    }

    /// Hummingbird's own errors as JSON: an unknown route is 404, a known one with another
    /// method 405, a body over the limit 413.
    private func answer(_ status: HTTPResponse.Status, path: String) -> APIError {
        switch status {
        case .notFound:
            if let allowed = Self.methods[path] {
                return APIError(status: .methodNotAllowed, message: "\(path) answers \(allowed) only", allowed: [allowed])
            }
            return APIError(status: .notFound, message: "no such route: \(path)")
        case .contentTooLarge:
            return .tooLarge("the request body is over the limit of \(maxRequestBytes) bytes")
        default:
            return APIError(status: status, message: status.reasonPhrase)
        }
    }
}
