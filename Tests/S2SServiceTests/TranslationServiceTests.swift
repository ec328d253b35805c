import Foundation
import S2SCore
import S2SDecoding
import S2SService
import XCTest

/// A toy network whose every row's next-token distribution is a fixed hash of its source and
/// prefix, so a translation depends on the sentence alone — never on which other sentences
/// share its batch. `gate`, when given, holds every `begin` until it is signalled once for
/// it (and `entered` is signalled as each `begin` reaches it), so a test can keep a round
/// running while it queues more requests.
final class HashDecoder: StepDecoder {
    let targetVocabularySize = 24
    let gate: DispatchSemaphore?
    let entered = DispatchSemaphore(value: 0)
    private var sources: [[Int32]] = []
    private var rows: [(source: [Int32], prefix: [Int32])] = []
    private(set) var begins = 0

    init(gate: DispatchSemaphore? = nil) { self.gate = gate }

    func begin(sources: [[Int32]]) throws {
        entered.signal()
        gate?.wait()
        begins += 1
        self.sources = sources
        rows = sources.map { ($0, []) }
    }

    func step(previousTokens: [Int32], logProbabilities: UnsafeMutableBufferPointer<Float>) {
        for row in rows.indices {
            if previousTokens[row] != SpecialTokens.bos || !rows[row].prefix.isEmpty {
                rows[row].prefix.append(previousTokens[row])
            }
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for token in rows[row].source + [-1] + rows[row].prefix {
                hash = (hash ^ UInt64(UInt32(bitPattern: token))) &* 0x100_0000_01B3
            }
            var logits = (0..<targetVocabularySize).map { v -> Float in
                Float((hash &+ UInt64(v) &* 0x9E37_79B9_7F4A_7C15) >> 40 % 1000) / 1000 * 3
            }
            // Sentences end after about as many tokens as their source has.
            logits[Int(SpecialTokens.eos)] += 2 * Float(rows[row].prefix.count) - 2 * Float(rows[row].source.count)
            logits[Int(SpecialTokens.pad)] = -.infinity
            logits[Int(SpecialTokens.bos)] = -.infinity
            let top = logits.max()!
            let logSum = log(logits.reduce(Float(0)) { $0 + exp($1 - top) }) + top
            for v in 0..<targetVocabularySize { logProbabilities[row * targetVocabularySize + v] = logits[v] - logSum }
        }
    }

    func select(parents: [Int32]) { rows = parents.map { rows[Int($0)] } }

    func start(sentences: [Int32]) { rows += sentences.map { (sources[Int($0)], []) } }

    func attention(row: Int) -> [Float] {
        let count = rows[row].source.count
        return Array(repeating: 1 / Float(count), count: count)
    }
}

func encodeWords(_ line: String) -> [Int32] {
    line.split(separator: " ").map { Int32(4 + $0.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) % 20 }) }
}

func decodeTokens(_ tokens: [Int32]) -> String { tokens.map { "t\($0)" }.joined(separator: " ") }

final class TranslationServiceTests: XCTestCase {
    let sentences = [
        "a dog runs on the beach", "two men", "", "a girl in a red dress is eating", "x",
        "people walk down a busy street at night", "one two three four five six seven eight", "boats",
    ]

    func makeService(workers: Int = 2, options: ServiceOptions = ServiceOptions(),
                     gate: DispatchSemaphore? = nil) -> (TranslationService, [HashDecoder]) {
        let decoders = (0..<workers).map { _ in HashDecoder(gate: gate) }
        return (TranslationService(decoders: decoders, options: options, encode: encodeWords, decode: decodeTokens),
                decoders)
    }

    /// What `s2s translate` gives for `lines`, all in one file.
    func translateAlone(_ lines: [String], search: RequestSearch) throws -> [LineTranslation] {
        let options = TranslatorOptions(search: SearchOptions(beamSize: search.beamSize, nBest: search.nBest,
                                                              lengthPenalty: LengthPenalty(alpha: search.lengthNormalization)))
        return try Translator(decoder: HashDecoder(), options: options, encode: encodeWords, decode: decodeTokens)
            .translate(lines)
    }

    /// Many concurrent callers, greedy and beam search with n-best: each gets exactly its own
    /// lines' translations, numbered from 0, equal to translating them in one file; and the
    /// rounds took several requests at once.
    func testConcurrentRequestsGetTheirOwnTranslations() async throws {
        for search in [RequestSearch(beamSize: 1), RequestSearch(beamSize: 4, nBest: 3)] {
            let (service, _) = makeService()
            let rounds = RoundLog()
            service.onRound = { rounds.add($0) }
            let expected = try translateAlone(sentences, search: search)
            let requests = (0..<40).map { i in Array(sentences[(i % sentences.count)...].prefix(1 + i % 3)) }
            let answers = try await withThrowingTaskGroup(of: (Int, [LineTranslation]).self) { group in
                for (i, lines) in requests.enumerated() {
                    group.addTask { (i, try await service.translate(lines, search: search)) }
                }
                return try await group.reduce(into: [Int: [LineTranslation]]()) { $0[$1.0] = $1.1 }
            }
            for (i, lines) in requests.enumerated() {
                let first = i % sentences.count
                let want = expected[first..<(first + lines.count)].enumerated().map { offset, line in
                    var line = line
                    line.index = offset
                    return line
                }
                XCTAssertEqual(answers[i], want, "request \(i), beam \(search.beamSize)")
            }
            service.stop()
            XCTAssertEqual(rounds.sentences, requests.reduce(0) { $0 + $1.count })
            XCTAssertLessThan(rounds.count, requests.count, "requests arriving together share rounds")
            XCTAssertEqual(service.queuedSentences, 0)
        }
    }

    /// Requests that ask for different searches never share a round, and each gets its own.
    func testDifferentSearchesAreDecodedApart() async throws {
        let (service, _) = makeService(workers: 1)
        defer { service.stop() }
        let sentences = self.sentences
        async let greedy = service.translate(sentences, search: RequestSearch(beamSize: 1))
        async let beam = service.translate(sentences, search: RequestSearch(beamSize: 3, nBest: 2))
        let (g, b) = try await (greedy, beam)
        XCTAssertEqual(g, try translateAlone(sentences, search: RequestSearch(beamSize: 1)))
        XCTAssertEqual(b, try translateAlone(sentences, search: RequestSearch(beamSize: 3, nBest: 2)))
        XCTAssertEqual(b[0].hypotheses.count, 2)
    }

    /// While a round is held, the queue fills to its limit; the request that would pass it is
    /// refused at once with the figures, the queued ones are answered once the round ends.
    func testAFullQueueRefusesAtOnce() async throws {
        let gate = DispatchSemaphore(value: 0)
        let (service, decoders) = makeService(workers: 1, options: ServiceOptions(maxQueuedSentences: 5), gate: gate)
        let running = try await holdARound(service, decoder: decoders[0])
        let queued = Task { try await service.translate(["a b", "c", "d e f"]) }
        try await waitUntil { service.queuedSentences == 3 }
        do {
            _ = try await service.translate(["one", "two", "three"])
            XCTFail("a request past the queue limit was accepted")
        } catch let error as ServiceError {
            XCTAssertEqual(error, .queueFull(queued: 3, requested: 3, limit: 5))
        }
        gate.signal()
        gate.signal()
        let held = try await running.value, rest = try await queued.value
        XCTAssertEqual(held.count, 1)
        XCTAssertEqual(rest.map(\.source), ["a b", "c", "d e f"])
        service.stop()
    }

    /// A request still queued at its deadline is answered `.timedOut` and is never decoded.
    func testTimeoutAnswersAndSkipsTheRequest() async throws {
        let gate = DispatchSemaphore(value: 0)
        let (service, decoders) = makeService(workers: 1, gate: gate)
        let running = try await holdARound(service, decoder: decoders[0])
        let start = ContinuousClock.now
        do {
            _ = try await service.translate(["late"], timeout: .milliseconds(200))
            XCTFail("a request past its timeout was answered")
        } catch let error as ServiceError {
            XCTAssertEqual(error, .timedOut(seconds: 0.2))
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
        gate.signal()
        _ = try await running.value
        gate.signal()
        let after = try await service.translate(["after"])
        XCTAssertEqual(after.count, 1)
        service.stop()
        XCTAssertEqual(decoders[0].begins, 2, "the timed-out request was not decoded")
    }

    /// `stop` answers queued requests with `.stopped`, lets the running round finish, and
    /// refuses new requests.
    func testStopFinishesTheRunningRoundAndRefusesTheRest() async throws {
        let gate = DispatchSemaphore(value: 0)
        let (service, decoders) = makeService(workers: 1, gate: gate)
        let running = try await holdARound(service, decoder: decoders[0])
        let queued = Task { try await service.translate(["queued"]) }
        try await waitUntil { service.queuedSentences == 1 }
        let stopped = Task.detached { service.stop() }
        do {
            _ = try await queued.value
            XCTFail("a queued request was decoded after stop")
        } catch let error as ServiceError {
            XCTAssertEqual(error, .stopped)
        }
        gate.signal()
        let finished = try await running.value
        XCTAssertEqual(finished.count, 1, "the running round finishes")
        await stopped.value
        do {
            _ = try await service.translate(["new"])
            XCTFail("a request after stop was accepted")
        } catch let error as ServiceError {
            XCTAssertEqual(error, .stopped)
        }
    }

    /// A caller that goes away is answered with CancellationError, and the service goes on.
    func testCancelledCallerIsAnswered() async throws {
        let gate = DispatchSemaphore(value: 0)
        let (service, decoders) = makeService(workers: 1, gate: gate)
        let running = try await holdARound(service, decoder: decoders[0])
        let cancelled = Task { try await service.translate(["gone"]) }
        try await waitUntil { service.queuedSentences == 1 }
        cancelled.cancel()
        do {
            _ = try await cancelled.value
            XCTFail("a cancelled request was answered with a translation")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        gate.signal()
        _ = try await running.value
        gate.signal()
        let next = try await service.translate(["next"])
        XCTAssertEqual(next.map(\.source), ["next"])
        service.stop()
    }

    /// Starts a one-line request and returns once its round has begun (and is held at the gate).
    private func holdARound(_ service: TranslationService, decoder: HashDecoder) async throws
        -> Task<[LineTranslation], Error> {
        let running = Task { try await service.translate(["held"]) }
        let entered = decoder.entered
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                entered.wait()
                continuation.resume()
            }
        }
        return running
    }

    private func waitUntil(_ condition: @escaping () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { return XCTFail("condition never held") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// The rounds a service reported.
final class RoundLog: @unchecked Sendable {
    private let lock = NSLock()
    private var rounds: [ServiceRound] = []

    func add(_ round: ServiceRound) { lock.lock(); rounds.append(round); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return rounds.count }
    var sentences: Int { lock.lock(); defer { lock.unlock() }; return rounds.reduce(0) { $0 + $1.sentences } }
}
