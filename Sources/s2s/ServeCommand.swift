import ArgumentParser
import Dispatch
import Foundation
import S2SCheckpoint
import S2SDecoding
import S2SServer
import S2SService
import S2STensor
import S2STraining
#if canImport(Glibc)
import Glibc
#endif

/// `s2s serve`: models behind LibreTranslate's and OpenNMT-py's HTTP APIs.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve models over HTTP with LibreTranslate's and OpenNMT-py's APIs.",
        discussion: """
        Routes: POST /translate, GET /languages, GET /health (LibreTranslate); \
        POST /translator/translate, GET /translator/models, GET /translator/health (OpenNMT-py's \
        onmt_server); GET /metrics (Prometheus). Each -m model serves one language pair, read \
        from the model (recorded at training from the files' names) or given with --languages \
        in the same order. Sentences of concurrent requests are decoded together. One line per \
        request goes to stderr. SIGTERM or SIGINT stops accepting, answers the requests in \
        flight, and exits 0. See README, "Serving".
        """)

    @Option(name: [.short, .customLong("model")], help: "Model file; repeat for more language pairs.")
    var models: [String] = []

    @Option(name: .customLong("languages"),
            help: ArgumentHelp("Language pair of the model in the same position (en:fr), when its file records none or another.",
                               valueName: "SRC:TGT"))
    var languages: [String] = []

    @Option(help: "Address to listen on (loopback by default; 0.0.0.0 for every interface).")
    var host = ServerOptions().host

    @Option(help: "TCP port (0: any free one, reported on stderr).")
    var port = ServerOptions().port

    @Option(name: .customLong("beam"), help: "Beam size of every request (LibreTranslate's alternatives widen it); 1 is greedy.")
    var beamSize = RequestSearch().beamSize

    @Option(name: .customLong("normalize"), help: "Length normalization α (see `translate --normalize`).")
    var lengthNormalization = RequestSearch().lengthNormalization

    @Option(name: [.customLong("batch-size"), .customLong("batch")], help: "Sentences decoded together in one batch.")
    var batchSize = ServiceOptions().batchSize

    @Option(name: .customLong("max-queue"), help: "Sentences that may wait for decoding; requests beyond get 503 with Retry-After.")
    var maxQueue = ServiceOptions().maxQueuedSentences

    @Option(name: .customLong("max-request-bytes"), help: "Largest request body; larger ones get 413.")
    var maxRequestBytes = ServerOptions().maxRequestBytes

    @Option(name: .customLong("max-sentences-per-request"), help: "Most lines of text in one request; more get 413.")
    var maxSentencesPerRequest = ServerOptions().maxSentencesPerRequest

    @Option(name: .customLong("max-alternatives"), help: "Most `alternatives` a LibreTranslate request may ask for.")
    var maxAlternatives = ServerOptions().maxAlternatives

    @Option(help: "Longest a request may wait for its answer (30s, 2m), and a connection may stay idle; then 503.")
    var timeout = "30s"

    @Option(name: .customLong("api-keys"),
            help: ArgumentHelp("Require a key from this file (one per line: KEY or KEY REQUESTS_PER_MINUTE); others get 403, keys over their rate 429.",
                               valueName: "FILE"))
    var apiKeysPath: String?

    @Option(help: "Decoding threads per model (default: one per core).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .customLong("int8"), help: "Decode with 8-bit matrices (see `translate --int8`).")
    var int8 = false

    @Flag(name: .customLong("shortlist"), help: "Restrict the output layer to the model's lexical shortlist (see `translate --shortlist`).")
    var shortlist = false

    @Flag(name: .customLong("quiet"), help: "No request log or start-up line on stderr.")
    var quiet = false

    func validate() throws {
        if models.isEmpty { throw ValidationError("give a model with -m/--model") }
        if languages.count > models.count { throw ValidationError("more --languages than models") }
        for pair in languages where LanguagePair(pair) == nil {
            throw ValidationError("--languages '\(pair)' is not SRC:TGT, such as en:fr")
        }
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if beamSize < 1 { throw ValidationError("--beam must be at least 1") }
        if !(lengthNormalization >= 0) { throw ValidationError("--normalize must be ≥ 0") }
        for (name, value) in [("--batch", batchSize), ("--max-queue", maxQueue), ("--max-request-bytes", maxRequestBytes),
                              ("--max-sentences-per-request", maxSentencesPerRequest), ("--threads", threads)] where value < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
        if maxAlternatives < 0 { throw ValidationError("--max-alternatives must be ≥ 0") }
        guard let seconds = parseDuration(timeout), seconds > 0 else {
            throw ValidationError("--timeout '\(timeout)' is not a duration such as 30s or 2m")
        }
        _ = seconds
    }

    func run() {
        runReportingErrors { try serve() }
    }

    private func serve() throws {
        signal(SIGPIPE, SIG_IGN)
        // glibc gives every thread that allocates its own malloc arena, up to 8 per core; the
        // server's many short-lived request tasks then spread their garbage over a dozen arenas
        // that each keep their freed pages, and RSS creeps up for as long as it serves
        // (BENCHMARKS.md, "Soak"). One arena per decoding thread keeps it level.
        limitMallocArenas(to: max(2, threads))
        BLAS.setThreads(threads)
        let keys = try apiKeysPath.map { try APIKeys(contentsOfFile: $0) }
        let served = try models.enumerated().map { index, path in try load(path, index: index) }
        var options = ServerOptions(host: host, port: port, maxRequestBytes: maxRequestBytes,
                                    maxSentencesPerRequest: maxSentencesPerRequest, maxAlternatives: maxAlternatives,
                                    search: RequestSearch(beamSize: beamSize, lengthNormalization: lengthNormalization))
        options.timeout = .milliseconds(Int64((parseDuration(timeout) ?? 30) * 1000))
        var log: (@Sendable (RequestLogLine) -> Void)?
        if !quiet {
            log = { (line: RequestLogLine) in printToStandardError("s2s: " + line.description) }
        }
        let server = try TranslationServer(models: served, options: options, apiKeys: keys, log: log)
        let pairs = served.map { "\($0.source)→\($0.target)" }.joined(separator: ", ")
        let announce: @Sendable (Int) -> Void = { [quiet, host] port in
            if !quiet { printToStandardError("s2s: serving \(pairs) on http://\(host):\(port)") }
        }
        try runUntilDone { try await server.run(onRunning: announce) }
        if !quiet { printToStandardError("s2s: stopped") }
    }

    /// One model and its decoding service, with its language pair.
    private func load(_ path: String, index: Int) throws -> ServedModel {
        let model = try TranslationModel(paths: [path], int8: int8, shortlist: shortlist)
        let given = index < languages.count ? LanguagePair(languages[index]) : nil
        guard let pair = given ?? model.languages else {
            throw CommandError("\(path) records no languages: give them with --languages SRC:TGT (one per -m, in order)")
        }
        let service = TranslationService(decoders: try (0..<threads).map { _ in try model.makeDecoder() },
                                         options: ServiceOptions(batchSize: batchSize, maxQueuedSentences: maxQueue),
                                         encode: model.encode, decode: model.decode)
        return ServedModel(id: index, path: path, source: pair.source, target: pair.target, service: service)
    }
}

/// glibc's `mallopt(M_ARENA_MAX, count)`, which the Glibc module does not export: looked up
/// by name, and skipped where there is none (another C library).
private func limitMallocArenas(to count: Int) {
    #if canImport(Glibc)
    let arenaMaximum: Int32 = -8  // M_ARENA_MAX in <malloc.h>
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
    typealias MallocOption = @convention(c) (Int32, Int32) -> Int32
    _ = unsafeBitCast(symbol, to: MallocOption.self)(arenaMaximum, Int32(count))
    #endif
}

/// Runs async `body` to its end from synchronous code (the command's thread waits; the work
/// runs on Swift's concurrency threads), rethrowing its error.
private func runUntilDone(_ body: @escaping @Sendable () async throws -> Void) throws {
    let done = DispatchSemaphore(value: 0)
    let outcome = ResultBox()
    Task {
        do { try await body() } catch { outcome.error = error }
        done.signal()
    }
    done.wait()
    if let error = outcome.error { throw error }
}

private final class ResultBox: @unchecked Sendable {
    var error: (any Error)?
}
