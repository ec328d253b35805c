import Dispatch
import Foundation
import S2SCore
import S2SDecoding

/// What one request may choose of the search; requests that choose the same are decoded in
/// the same rounds.
public struct RequestSearch: Hashable, Sendable {
    /// Hypotheses kept open per sentence; 1 is greedy search.
    public var beamSize: Int
    /// Translations returned per sentence (≤ beamSize).
    public var nBest: Int
    /// Length normalization α (0: off).
    public var lengthNormalization: Float

    public init(beamSize: Int = SearchOptions().beamSize, nBest: Int = 1,
                lengthNormalization: Float = LengthPenalty.standard.alpha) {
        self.beamSize = max(1, beamSize)
        self.nBest = min(max(1, nBest), self.beamSize)
        self.lengthNormalization = lengthNormalization
    }
}

/// How a `TranslationService` batches and what it refuses.
public struct ServiceOptions: Sendable, Equatable {
    /// Sentences decoded together in one batch (a round with more is cut into batches of this).
    public var batchSize: Int
    /// The most sentences one decoding round takes from the queue.
    public var maxSentencesPerRound: Int
    /// Sentences that may wait for a round (`--max-queue`); a request that would pass it is
    /// refused with `ServiceError.queueFull`, so memory stays bounded under any load.
    public var maxQueuedSentences: Int
    /// Lines longer than this many source pieces are cut into chunks (as in `translate`).
    public var maxSourceLength: Int

    public init(batchSize: Int = TranslatorOptions().batchSize, maxSentencesPerRound: Int = 1024,
                maxQueuedSentences: Int = 4096, maxSourceLength: Int = TranslatorOptions().maxSourceLength) {
        self.batchSize = max(1, batchSize)
        self.maxSentencesPerRound = max(1, maxSentencesPerRound)
        self.maxQueuedSentences = max(1, maxQueuedSentences)
        self.maxSourceLength = max(1, maxSourceLength)
    }
}

/// Why a request got no translation.
public enum ServiceError: Error, Equatable, CustomStringConvertible {
    /// The queue holds `queued` sentences; this request's `requested` would pass `limit`.
    case queueFull(queued: Int, requested: Int, limit: Int)
    /// The request waited longer than its timeout.
    case timedOut(seconds: Double)
    /// The service was stopped before the request was decoded.
    case stopped
    /// Decoding failed (a bug or a broken model): the message of the error thrown.
    case decodingFailed(String)

    public var description: String {
        switch self {
        case let .queueFull(queued, requested, limit):
            return "the queue is full (\(queued) sentences waiting, \(requested) more would pass the limit of \(limit))"
        case let .timedOut(seconds): return "timed out after \(formatSeconds(seconds))"
        case .stopped: return "the service is shutting down"
        case let .decodingFailed(message): return "translation failed: \(message)"
        }
    }
}

private func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
}

/// One decoding round: how many sentences of how many requests, and its wall time.
public struct ServiceRound: Sendable {
    public var requests: Int
    public var sentences: Int
    public var seconds: Double
}

/// Translation for many concurrent callers on one model (`s2s serve`).
///
/// Callers `translate` a few lines each and wait. One decoding thread takes every waiting
/// request that asks for the same search into one round: their sentences are sorted by
/// length, batched and decoded together — greedy search as one continuous stream per worker,
/// as `s2s translate` decodes a file — and each caller gets its own lines back. While a
/// round runs, new requests queue and join the next one, so rounds grow with the load and a
/// lone request is decoded at once, alone. Results do not depend on which requests shared
/// a round (the products' sums do not depend on their rows; `Translator`).
///
/// The queue is bounded (`ServiceOptions.maxQueuedSentences`); a request over it, past its
/// timeout, or cancelled by its caller is answered with an error and never decoded.
public final class TranslationService: @unchecked Sendable {
    public let options: ServiceOptions
    private let decoders: [StepDecoder]
    private let encode: (String) -> [Int32]
    private let decode: ([Int32]) -> String
    private var roundObserver: (@Sendable (ServiceRound) -> Void)?

    /// Guards `queue`, `queuedSentences` and `stopping`; the decoding thread waits on it.
    private let condition = NSCondition()
    private var queue: [PendingRequest] = []
    private var queuedSentenceCount = 0
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    /// A service over `decoders` (one per worker, copies of one network, as `Translator`
    /// takes them).
    public init(decoders: [StepDecoder], options: ServiceOptions = ServiceOptions(),
                encode: @escaping (String) -> [Int32], decode: @escaping ([Int32]) -> String) {
        precondition(!decoders.isEmpty, "TranslationService needs a decoder")
        self.decoders = decoders
        self.options = options
        self.encode = encode
        self.decode = decode
        // The thread keeps the service alive until `stop` ends it.
        let thread = Thread { self.decodeRounds() }
        thread.name = "s2s-decoding"
        thread.start()
    }

    /// Told of every round when it ends (for metrics), on the decoding thread.
    public var onRound: (@Sendable (ServiceRound) -> Void)? {
        get { condition.lock(); defer { condition.unlock() }; return roundObserver }
        set { condition.lock(); roundObserver = newValue; condition.unlock() }
    }

    /// Sentences waiting for a round now.
    public var queuedSentences: Int {
        condition.lock()
        defer { condition.unlock() }
        return queuedSentenceCount
    }

    /// Translates `lines` (each as `s2s translate` would), waiting for a round. Throws
    /// `ServiceError.queueFull` at once when the queue cannot take them, `.timedOut` when no
    /// round has finished them `timeout` after the call, and `CancellationError` when the
    /// calling task is cancelled first.
    public func translate(_ lines: [String], search: RequestSearch = RequestSearch(),
                          timeout: Duration? = nil) async throws -> [LineTranslation] {
        guard !lines.isEmpty else { return [] }
        let request = PendingRequest(lines: lines, search: search)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                request.attach(continuation)
                do {
                    try enqueue(request)
                } catch {
                    request.finish(.failure(error))
                    return
                }
                if let timeout {
                    let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
                    DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                        request.finish(.failure(ServiceError.timedOut(seconds: seconds)))
                    }
                }
            }
        } onCancel: {
            request.finish(.failure(CancellationError()))
        }
    }

    /// Refuses new requests, fails those still queued with `.stopped`, lets a running round
    /// finish, and returns when the decoding thread has ended. Idempotent.
    public func stop() {
        condition.lock()
        let alreadyStopping = stopping
        stopping = true
        let abandoned = queue
        queue.removeAll()
        queuedSentenceCount = 0
        condition.broadcast()
        condition.unlock()
        for request in abandoned { request.finish(.failure(ServiceError.stopped)) }
        if !alreadyStopping { finished.wait() }
    }

    private func enqueue(_ request: PendingRequest) throws {
        condition.lock()
        defer { condition.unlock() }
        if stopping { throw ServiceError.stopped }
        let count = request.lines.count
        // One request larger than the whole queue still gets in when the queue is empty:
        // the per-request limit, not this one, bounds its size.
        guard queuedSentenceCount == 0 || queuedSentenceCount + count <= options.maxQueuedSentences else {
            throw ServiceError.queueFull(queued: queuedSentenceCount, requested: count, limit: options.maxQueuedSentences)
        }
        queue.append(request)
        queuedSentenceCount += count
        condition.signal()
    }

    /// The decoding thread: waits for requests, takes one round's worth, decodes it, repeats.
    private func decodeRounds() {
        while let round = nextRound() {
            let start = DispatchTime.now().uptimeNanoseconds
            let lines = round.flatMap(\.lines)
            let outcome = Result { try translator(for: round[0].search, sentences: lines.count).translate(lines) }
            var offset = 0
            for request in round {
                let count = request.lines.count
                switch outcome {
                case let .success(results):
                    // Each caller numbers its own lines from 0.
                    let own = results[offset..<(offset + count)].map { line in
                        var line = line
                        line.index -= offset
                        return line
                    }
                    request.finish(.success(own))
                case let .failure(error): request.finish(.failure(ServiceError.decodingFailed("\(error)")))
                }
                offset += count
            }
            onRound?(ServiceRound(requests: round.count, sentences: lines.count,
                                      seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        }
        finished.signal()
    }

    /// Blocks until requests wait (nil once stopped): the oldest live request and every later
    /// one with the same search, in arrival order, up to `maxSentencesPerRound` sentences.
    /// Requests already answered (timed out, cancelled) are dropped from the queue here.
    private func nextRound() -> [PendingRequest]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            while queue.isEmpty && !stopping { condition.wait() }
            if stopping { return nil }
            var round: [PendingRequest] = [], kept: [PendingRequest] = [], sentences = 0
            for request in queue {
                if request.isFinished {
                    queuedSentenceCount -= request.lines.count
                } else if round.isEmpty || (request.search == round[0].search
                                            && sentences + request.lines.count <= options.maxSentencesPerRound) {
                    round.append(request)
                    sentences += request.lines.count
                    queuedSentenceCount -= request.lines.count
                } else {
                    kept.append(request)
                }
            }
            queue = kept
            if !round.isEmpty { return round }
        }
    }

    /// A translator for one round. Its batches are small enough that every worker gets one
    /// (a round of 64 greedy sentences on two workers decodes as two streams of 32, one per
    /// core, as `translate` decodes a file); a lone sentence gets all the BLAS threads.
    private func translator(for search: RequestSearch, sentences: Int) -> Translator {
        let perWorker = (sentences + decoders.count - 1) / decoders.count
        let searchOptions = SearchOptions(beamSize: search.beamSize, nBest: search.nBest,
                                          lengthPenalty: LengthPenalty(alpha: search.lengthNormalization))
        let translatorOptions = TranslatorOptions(search: searchOptions, batchSize: max(1, min(options.batchSize, perWorker)),
                                                  sortWindowBatches: options.maxSentencesPerRound,
                                                  maxSourceLength: options.maxSourceLength)
        return Translator(decoders: decoders, options: translatorOptions, encode: encode, decode: decode)
    }
}

/// A request waiting for its round, answered exactly once: by its round, its timeout, its
/// caller's cancellation or the service's stop, whichever comes first.
private final class PendingRequest: @unchecked Sendable {
    let lines: [String]
    let search: RequestSearch
    private let lock = NSLock()
    private var continuation: CheckedContinuation<[LineTranslation], Error>?
    private var answered = false

    init(lines: [String], search: RequestSearch) {
        self.lines = lines
        self.search = search
    }

    func attach(_ continuation: CheckedContinuation<[LineTranslation], Error>) {
        lock.lock()
        defer { lock.unlock() }
        if answered {
            // Cancelled before the continuation existed.
            continuation.resume(throwing: CancellationError())
        } else {
            self.continuation = continuation
        }
    }

    var isFinished: Bool {
        lock.lock()
        defer { lock.unlock() }
        return answered
    }

    func finish(_ result: Result<[LineTranslation], Error>) {
        lock.lock()
        guard !answered else { lock.unlock(); return }
        answered = true
        let continuation = self.continuation
        self.continuation = nil
        lock.unlock()
        continuation?.resume(with: result)
    }
}
