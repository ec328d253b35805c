import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `s2s serve` as its clients use it: the server binary on an ephemeral loopback port, a
/// real HTTP client on raw sockets, every route, every error status, concurrent requests
/// against `s2s translate`'s output, limits, API keys, stalled and vanishing clients, and a
/// graceful SIGTERM.
final class ServeCommandTests: XCTestCase {
    /// A tiny model trained once for the whole class (its file names give it en → fr).
    nonisolated(unsafe) private static var work = ""
    private var model: String { Self.work + "/m.s2s" }

    override class func setUp() {
        super.setUp()
        work = NSTemporaryDirectory() + "s2s-serve-cli-\(getpid())"
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let english = (0..<120).map { "a man number \($0 % 9) rides a red bike near the house \($0 % 5)" }
        let french = (0..<120).map { "un homme numéro \($0 % 9) fait du vélo rouge près de la maison \($0 % 5)" }
        try? english.joined(separator: "\n").write(toFile: work + "/train.en", atomically: true, encoding: .utf8)
        try? french.joined(separator: "\n").write(toFile: work + "/train.fr", atomically: true, encoding: .utf8)
        try? french.joined(separator: "\n").write(toFile: work + "/train.tgt", atomically: true, encoding: .utf8)
        _ = try? runS2S(["train", work + "/train.en", work + "/train.fr", "-o", work + "/m.s2s", "--max-updates", "40",
                         "--emb", "16", "--hidden", "16", "--attention", "16", "--vocab-size", "300",
                         "--batch-tokens", "600", "--quiet"])
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: work)
        super.tearDown()
    }

    override func setUpWithError() throws {
        XCTAssertTrue(FileManager.default.fileExists(atPath: model), "the class's model was not trained")
    }

    private let sentences = [
        "a man number 3 rides a red bike", "the house 2", "a red bike near the house", "a man",
        "number 7 rides near the house 4", "a man number 1 rides a red bike near the house 0", "bike", "red red red",
    ]

    /// What `s2s translate` prints for `lines` with these options, one line each.
    private func translated(_ lines: [String], _ options: [String] = []) throws -> [String] {
        let run = try runS2S(["translate", "-m", model] + options, input: lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(run.status, 0, run.stderr)
        return run.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    private func libreRequest(_ q: Any, extra: [String: Any] = [:]) -> [String: Any] {
        ["q": q, "source": "en", "target": "fr"].merging(extra) { $1 }
    }

    // MARK: Routes

    func testEveryRouteAnswersInItsAPIsShape() throws {
        let server = try ServerProcess(["-m", model])
        let port = server.port
        XCTAssertTrue(server.standardError.contains("serving en→fr on http://127.0.0.1:\(port)"), server.standardError)
        let expected = try translated(sentences)

        for path in ["/health", "/translator/health"] {
            let answer = try http(port, "GET", path)
            XCTAssertEqual(answer.status, 200, path)
            XCTAssertEqual(try answer.json() as? [String: String], ["status": "ok"], path)
            XCTAssertEqual(answer.headers["content-type"], "application/json; charset=utf-8")
        }
        let languages = try XCTUnwrap(try http(port, "GET", "/languages").json() as? [[String: Any]])
        XCTAssertEqual(languages.count, 1)
        XCTAssertEqual(languages[0]["code"] as? String, "en")
        XCTAssertEqual(languages[0]["name"] as? String, "English")
        XCTAssertEqual(languages[0]["targets"] as? [String], ["fr"])

        // LibreTranslate: a string answers a string, a list a list, a multi-line text keeps its lines.
        let one = try http(port, "POST", "/translate", json: libreRequest(sentences[0]))
        XCTAssertEqual(one.status, 200, one.text)
        XCTAssertEqual(try one.json() as? [String: String], ["translatedText": expected[0]])
        let list = try http(port, "POST", "/translate", json: libreRequest(Array(sentences[1...3])))
        XCTAssertEqual((try list.json() as? [String: Any])?["translatedText"] as? [String], Array(expected[1...3]))
        let lines = try http(port, "POST", "/translate", json: libreRequest(sentences[4] + "\n" + sentences[5]))
        XCTAssertEqual((try lines.json() as? [String: Any])?["translatedText"] as? String, expected[4] + "\n" + expected[5])
        // A CRLF after a stray carriage return still ends the line ("\r\n" is one Swift Character,
        // so a split by Characters missed it).
        let carriageReturns = try http(port, "POST", "/translate", json: libreRequest(sentences[4] + "\r\r\n" + sentences[5]))
        let returned = try XCTUnwrap((try carriageReturns.json() as? [String: Any])?["translatedText"] as? String)
        XCTAssertEqual(returned.split(separator: "\n", omittingEmptySubsequences: false).count, 2, returned)
        XCTAssertEqual(returned.split(separator: "\n").last.map(String.init), expected[5])

        // A form, as LibreTranslate's web page posts it; the query string counts too.
        let form = "q=\(sentences[0].addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&target=fr"
        let posted = try http(port, "POST", "/translate?source=en", body: Array(form.utf8),
                              contentType: "application/x-www-form-urlencoded")
        XCTAssertEqual(posted.status, 200, posted.text)
        XCTAssertEqual((try posted.json() as? [String: Any])?["translatedText"] as? String, expected[0])

        // Alternatives: the beam's next best, without the translation itself or duplicates.
        let nBest = try translated([sentences[0]], ["--beam", "4", "--n-best"])
        let alternatives = try http(port, "POST", "/translate", json: libreRequest(sentences[0], extra: ["alternatives": 3]))
        let answer = try XCTUnwrap(try alternatives.json() as? [String: Any])
        let best = try XCTUnwrap(answer["translatedText"] as? String)
        let others = try XCTUnwrap(answer["alternatives"] as? [String])
        let beam = nBest.map { $0.components(separatedBy: " ||| ")[1] }
        XCTAssertEqual(best, beam[0])
        XCTAssertEqual(others, Array(NSOrderedSet(array: Array(beam.dropFirst())).array as! [String]).filter { $0 != best && !$0.isEmpty })
        XCTAssertLessThanOrEqual(others.count, 3)

        // "auto": the one model into the target, with confidence 0.
        let auto = try XCTUnwrap(try http(port, "POST", "/translate",
                                          json: ["q": sentences[0], "source": "auto", "target": "fr"]).json() as? [String: Any])
        XCTAssertEqual(auto["translatedText"] as? String, expected[0])
        XCTAssertEqual((auto["detectedLanguage"] as? [String: Any])?["language"] as? String, "en")

        // OpenNMT-py: one list per n-best rank, one item per input.
        let onmt = try http(port, "POST", "/translator/translate", json: [["src": sentences[0], "id": 0], ["src": sentences[1], "id": 0]])
        XCTAssertEqual(onmt.status, 200, onmt.text)
        let ranks = try XCTUnwrap(try onmt.json() as? [[[String: Any]]])
        XCTAssertEqual(ranks.count, 1)
        XCTAssertEqual(ranks[0].map { $0["tgt"] as? String }, [expected[0], expected[1]])
        XCTAssertEqual(ranks[0].map { $0["src"] as? String }, [sentences[0], sentences[1]])
        XCTAssertEqual(ranks[0][0]["n_best"] as? Int, 1)
        XCTAssertLessThan(try XCTUnwrap(ranks[0][0]["pred_score"] as? Double), 0)
        let models = try XCTUnwrap(try http(port, "GET", "/translator/models").json() as? [[String: Any]])
        XCTAssertEqual(models.map { $0["model_id"] as? Int }, [0])
        XCTAssertEqual(models[0]["loaded"] as? Bool, true)

        // Prometheus: the requests above, counted by route and status.
        let metrics = try http(port, "GET", "/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.headers["content-type"]?.hasPrefix("text/plain") ?? false)
        for line in [#"s2s_requests_total{route="/translate",status="200"} 7"#,
                     #"s2s_requests_total{route="/translator/translate",status="200"} 1"#,
                     #"s2s_sentences_total{route="/translator/translate",status="200"} 2"#,
                     "s2s_queue_sentences 0", "s2s_requests_in_flight 1.0", "# TYPE s2s_request_duration_seconds histogram",
                     "# TYPE s2s_round_sentences histogram"] {
            XCTAssertTrue(metrics.text.contains(line), "metrics lack \(line):\n\(metrics.text)")
        }

        XCTAssertEqual(server.terminate(), 0)
        let log = server.standardError
        XCTAssertTrue(log.contains("s2s: POST /translate 200 2 sentences "), log)
        XCTAssertTrue(log.contains("s2s: POST /translator/translate 200 2 sentences "), log)
        XCTAssertTrue(log.contains("s2s: GET /health 200 0 sentences "), log)
        XCTAssertTrue(log.hasSuffix("s2s: stopped\n"), log)
    }

    /// Sentences of concurrent requests share decoding rounds, and every client gets exactly
    /// what `s2s translate` gives for its lines: greedy with two workers, and beam 3.
    func testConcurrentRequestsEqualTranslate() throws {
        let many = (0..<48).map { sentences[$0 % sentences.count] + ($0 % 3 == 0 ? "" : " \($0 % 9)") }
        for beam in ["1", "3"] {
            let expected = try translated(many, ["--beam", beam])
            let server = try ServerProcess(["-m", model, "--beam", beam, "--threads", "2", "--quiet"])
            let answers = Answers(count: many.count)
            concurrently(many.count) { i in
                let reply = try? http(server.port, "POST", "/translate", json: ["q": many[i], "source": "en", "target": "fr"])
                answers.set(i, (try? reply?.json() as? [String: Any])?["translatedText"] as? String)
            }
            XCTAssertEqual(answers.values, expected.map { Optional($0) }, "beam \(beam)")
            let metrics = try http(server.port, "GET", "/metrics").text
            XCTAssertTrue(metrics.contains("s2s_round_sentences_sum \(many.count).0"), metrics)
            XCTAssertEqual(server.terminate(), 0)
            XCTAssertEqual(server.standardError, "", "--quiet")
        }
    }

    // MARK: Errors

    /// Every bad request gets its status and a JSON error, and the server goes on serving.
    func testBadRequestsGetJSONErrorsAndTheServerGoesOn() throws {
        let server = try ServerProcess(["-m", model, "--max-request-bytes", "4000", "--max-sentences-per-request", "3",
                                        "--max-alternatives", "2"])
        let port = server.port
        let cases: [(String, HTTPAnswer, Int, String)] = [
            ("malformed JSON", try http(port, "POST", "/translate", body: Array(#"{"q": "a", "#.utf8)), 400, "Invalid JSON"),
            ("a list body", try http(port, "POST", "/translate", body: Array("[1, 2]".utf8)), 400, "Invalid JSON"),
            ("q of a wrong type", try http(port, "POST", "/translate", json: libreRequest(7)), 400, "q must be"),
            ("missing q", try http(port, "POST", "/translate", json: ["source": "en", "target": "fr"]), 400, "missing q"),
            ("empty q", try http(port, "POST", "/translate", json: libreRequest("")), 400, "missing q"),
            ("missing target", try http(port, "POST", "/translate", json: ["q": "a", "source": "en"]), 400, "missing target"),
            ("source of a wrong type", try http(port, "POST", "/translate", json: ["q": "a", "source": 1, "target": "fr"]),
             400, "source must be a string"),
            ("an unknown source", try http(port, "POST", "/translate", json: ["q": "a", "source": "de", "target": "fr"]),
             400, "de is not supported"),
            ("an unknown target", try http(port, "POST", "/translate", json: ["q": "a", "source": "en", "target": "it"]),
             400, "it is not supported"),
            ("alternatives not a number", try http(port, "POST", "/translate", json: libreRequest("a", extra: ["alternatives": "x"])),
             400, "alternatives"),
            ("too many alternatives", try http(port, "POST", "/translate", json: libreRequest("a", extra: ["alternatives": 3])),
             400, "<= 2"),
            ("html", try http(port, "POST", "/translate", json: libreRequest("a", extra: ["format": "html"])), 400, "html format"),
            ("invalid UTF-8 in JSON", try http(port, "POST", "/translate",
                                               body: Array(#"{"q": ""#.utf8) + [0xC3, 0x28, 0xFF] + Array(#"", "source": "en", "target": "fr"}"#.utf8)),
             400, "not valid UTF-8"),
            ("invalid UTF-8 in a form", try http(port, "POST", "/translate", body: Array("q=".utf8) + [0xFF, 0xFE],
                                                 contentType: "application/x-www-form-urlencoded"), 400, "not valid UTF-8"),
            ("OpenNMT: invalid UTF-8", try http(port, "POST", "/translator/translate",
                                                body: Array(#"[{"src": ""#.utf8) + [0xFF] + Array(#""}]"#.utf8)), 400, "not valid UTF-8"),
            ("a bad percent-escape", try http(port, "POST", "/translate", body: Array("q=%ZZ&source=en&target=fr".utf8),
                                              contentType: "application/x-www-form-urlencoded"), 400, "form"),
            ("an unknown content type", try http(port, "POST", "/translate", body: Array("q".utf8), contentType: "text/plain"),
             415, "content type"),
            ("a body over the limit", try http(port, "POST", "/translate", json: libreRequest(String(repeating: "a ", count: 3000))),
             413, "over the limit of 4000 bytes"),
            ("too many lines", try http(port, "POST", "/translate", json: libreRequest(["a", "b\nc", "d"])), 413, "limit of 3"),
            ("an unknown route", try http(port, "GET", "/translate/now"), 404, "no such route"),
            ("a wrong method", try http(port, "DELETE", "/languages"), 405, "answers GET only"),
            ("GET of a POST route", try http(port, "GET", "/translate"), 405, "answers POST only"),
            ("OpenNMT: not a list", try http(port, "POST", "/translator/translate", json: ["src": "a"]), 400, "expected a JSON list"),
            ("OpenNMT: no src", try http(port, "POST", "/translator/translate", json: [["id": 0]]), 400, "expected a JSON list"),
            ("OpenNMT: empty list", try http(port, "POST", "/translator/translate", json: [[String: Any]]()), 400, "no sentence"),
            ("OpenNMT: unknown model", try http(port, "POST", "/translator/translate", json: [["src": "a", "id": 5]]),
             404, "no model with id 5"),
        ]
        for (name, answer, status, message) in cases {
            XCTAssertEqual(answer.status, status, "\(name): \(answer.text)")
            XCTAssertEqual(answer.headers["content-type"], "application/json; charset=utf-8", name)
            XCTAssertTrue(answer.error?.contains(message) ?? false, "\(name): \(answer.text)")
        }
        XCTAssertEqual(try http(port, "DELETE", "/languages").headers["allow"], "GET")
        XCTAssertEqual(try http(port, "POST", "/translate", json: libreRequest(sentences[0])).status, 200, "still serving")
        XCTAssertEqual(server.terminate(), 0)
        XCTAssertTrue(server.standardError.contains("s2s: POST /translate 413 4 sentences"), server.standardError)
    }

    /// With `--api-keys`, a request needs a listed key (403 otherwise, on both APIs) and a key
    /// with a rate gets 429 with Retry-After past it.
    func testAPIKeysAndRates() throws {
        let keys = Self.work + "/keys.txt"
        try "# operators\nopen-key\nslow-key 2\n".write(toFile: keys, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["-m", model, "--api-keys", keys, "--quiet"])
        let port = server.port
        XCTAssertEqual(try http(port, "POST", "/translate", json: libreRequest("a man")).status, 403)
        let wrong = try http(port, "POST", "/translate", json: libreRequest("a man", extra: ["api_key": "nope"]))
        XCTAssertEqual(wrong.status, 403)
        XCTAssertEqual(wrong.error, "Invalid API key")
        XCTAssertEqual(try http(port, "POST", "/translator/translate", json: [["src": "a"]]).status, 403)
        XCTAssertEqual(try http(port, "POST", "/translator/translate?api_key=open-key", json: [["src": "a"]]).status, 200)
        for _ in 0..<5 {
            XCTAssertEqual(try http(port, "POST", "/translate", json: libreRequest("a man", extra: ["api_key": "open-key"])).status, 200)
        }
        for _ in 0..<2 {
            XCTAssertEqual(try http(port, "POST", "/translate", json: libreRequest("a man", extra: ["api_key": "slow-key"])).status, 200)
        }
        let limited = try http(port, "POST", "/translate", json: libreRequest("a man", extra: ["api_key": "slow-key"]))
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(limited.error, "Slowdown: 2 per 1 minute")
        XCTAssertGreaterThanOrEqual(Int(limited.headers["retry-after"] ?? "") ?? 0, 1)
        XCTAssertEqual(try http(port, "GET", "/health").status, 200, "health needs no key")
        XCTAssertEqual(server.terminate(), 0)
    }

    /// A full queue answers 503 with Retry-After at once; the requests it took are answered.
    func testAFullQueueAnswers503WithRetryAfter() throws {
        let server = try ServerProcess(["-m", model, "--max-queue", "1", "--beam", "4", "--threads", "1", "--quiet"])
        let big = (0..<256).map { sentences[$0 % sentences.count] + " \($0)" }
        var statuses: [Int?] = []
        var retryAfter: [String?] = []
        for _ in 0..<3 where !statuses.contains(503) {
            let answers = Statuses(count: 24)
            concurrently(24) { i in
                let reply = try? http(server.port, "POST", "/translate", json: ["q": big, "source": "en", "target": "fr"])
                answers.set(i, reply?.status, reply?.headers["retry-after"])
            }
            statuses = answers.statuses
            retryAfter = answers.retryAfter
        }
        XCTAssertTrue(statuses.contains(503), "\(statuses)")
        XCTAssertTrue(statuses.contains(200), "\(statuses)")
        XCTAssertTrue(statuses.allSatisfy { $0 == 200 || $0 == 503 }, "\(statuses)")
        for (status, retry) in zip(statuses, retryAfter) where status == 503 { XCTAssertEqual(retry, "1") }
        XCTAssertEqual(server.terminate(), 0)
    }

    /// A request still waiting at `--timeout` gets 503, and the server goes on.
    func testTimeoutAnswers503() throws {
        let server = try ServerProcess(["-m", model, "--timeout", "0.05s", "--beam", "8", "--threads", "1", "--quiet"])
        let big = (0..<256).map { sentences[$0 % sentences.count] + " \($0) \($0 % 7) number" }
        let answer = try http(server.port, "POST", "/translate", json: ["q": big, "source": "en", "target": "fr"])
        XCTAssertEqual(answer.status, 503, answer.text)
        XCTAssertTrue(answer.error?.contains("timed out") ?? false, answer.text)
        XCTAssertEqual(try http(server.port, "GET", "/health").status, 200)
        XCTAssertEqual(server.terminate(), 0)
    }

    /// A client that sends half a request and stalls holds nothing up and is cut off after the
    /// timeout; a client that vanishes before its answer costs nothing either.
    func testStalledAndVanishingClients() throws {
        let server = try ServerProcess(["-m", model, "--timeout", "2s", "--quiet"])
        let port = server.port
        let stalled = try HTTPConnection(port: port, receiveTimeoutSeconds: 20)
        try stalled.send(Array("POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"q\": ".utf8))
        let headOnly = try HTTPConnection(port: port, receiveTimeoutSeconds: 20)
        try headOnly.send(Array("GET /heal".utf8))
        let start = Date()
        for _ in 0..<5 {
            XCTAssertEqual(try http(port, "POST", "/translate", json: libreRequest(sentences[0])).status, 200)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "others are served while two clients stall")
        let cutOff = try stalled.receive()
        XCTAssertTrue(cutOff == nil || cutOff!.status == 408, "the stalled body: \(cutOff.map(\.text) ?? "closed")")
        XCTAssertTrue(headOnly.waitForClose(), "the stalled head is closed")
        XCTAssertLessThan(Date().timeIntervalSince(start), 15)

        for _ in 0..<10 {
            let vanishing = try HTTPConnection(port: port)
            try vanishing.send(Array(#"POST /translate HTTP/1.1\#r\#nHost: x\#r\#nContent-Type: application/json\#r\#nContent-Length: 200\#r\#n\#r\#n"#.utf8)
                               + Array(try JSONSerialization.data(withJSONObject: libreRequest(Array(repeating: sentences[5], count: 100))))
                                   .prefix(200))
        }  // each closed at once, before its answer
        XCTAssertEqual(try http(port, "POST", "/translate", json: libreRequest(sentences[1])).status, 200)
        XCTAssertEqual(server.terminate(), 0)
    }

    /// SIGTERM while requests are in flight: they are answered, then the server exits 0.
    func testSIGTERMAnswersRequestsInFlightAndExitsZero() throws {
        let server = try ServerProcess(["-m", model, "--beam", "6", "--threads", "1"])
        let big = (0..<200).map { sentences[$0 % sentences.count] + " \($0)" }
        let answers = Statuses(count: 4)
        let group = DispatchGroup()
        for i in 0..<4 {
            group.enter()
            Thread {
                let reply = try? http(server.port, "POST", "/translate", json: ["q": big, "source": "en", "target": "fr"])
                answers.set(i, reply?.status, nil)
                group.leave()
            }.start()
        }
        // Until the server holds all four (the fifth in flight is the metrics request), then SIGTERM.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !((try? http(server.port, "GET", "/metrics").text) ?? "").contains("s2s_requests_in_flight 5.0") {
            usleep(2_000)
        }
        kill(server.process.processIdentifier, SIGTERM)
        group.wait()
        XCTAssertEqual(server.terminate(), 0)
        let statuses = answers.statuses
        XCTAssertEqual(statuses, Array(repeating: 200, count: 4), "every request in flight is translated")
        XCTAssertTrue(server.standardError.hasSuffix("s2s: stopped\n"), server.standardError)
        XCTAssertThrowsError(try HTTPConnection(port: server.port), "no longer listening")
    }

    // MARK: Start-up

    func testStartupErrorsAreOneLine() throws {
        let keys = Self.work + "/bad-keys.txt"
        try "good\nbad 0\n".write(toFile: keys, atomically: true, encoding: .utf8)
        let unnamed = Self.work + "/unnamed.s2s"
        let trained = try runS2S(["train", Self.work + "/train.en", Self.work + "/train.tgt", "-o", unnamed, "--max-updates", "1",
                                  "--emb", "8", "--hidden", "8", "--attention", "8", "--vocab-size", "300", "--quiet"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let cases: [([String], String)] = [
            (["-m", Self.work + "/missing.s2s"], "missing.s2s"),
            (["-m", model, "--api-keys", keys], "bad-keys.txt:2: the rate \"0\""),
            (["-m", model, "--api-keys", Self.work + "/no-keys.txt"], "no-keys.txt"),
            (["-m", unnamed], "records no languages: give them with --languages"),
            (["-m", model, "-m", model], "two models translate en→fr"),
        ]
        for (arguments, message) in cases {
            let run = try runS2S(["serve", "--port", "0"] + arguments)
            XCTAssertEqual(run.status, 1, "\(arguments)")
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
            XCTAssertTrue(run.stderr.contains(message), run.stderr)
            XCTAssertFalse(run.stderr.contains("USAGE"), run.stderr)
        }
        for arguments in [["--port", "0"], ["-m", model, "--languages", "english"], ["-m", model, "--port", "70000"],
                          ["-m", model, "--timeout", "soon"], ["-m", model, "--beam", "0"]] {
            let run = try runS2S(["serve"] + arguments)
            XCTAssertEqual(run.status, 64, "\(arguments): \(run.stderr)")
        }
    }

    /// `--languages` names a model's pair (and overrides the recorded one); several models
    /// serve several pairs, chosen by source and target, and by `id` on OpenNMT-py's route.
    func testLanguagesAndSeveralModels() throws {
        let unnamed = Self.work + "/unnamed2.s2s"
        let trained = try runS2S(["train", Self.work + "/train.en", Self.work + "/train.tgt", "-o", unnamed, "--max-updates", "2",
                                  "--emb", "8", "--hidden", "8", "--attention", "8", "--vocab-size", "300", "--quiet",
                                  "--languages", "en:de"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let info = try runS2S(["info", unnamed])
        XCTAssertTrue(info.stdout.contains("languages    en → de"), info.stdout)

        let server = try ServerProcess(["-m", model, "-m", unnamed, "-m", model, "--languages", "en:fr", "--languages", "en:de",
                                        "--languages", "fr:en"])
        XCTAssertTrue(server.standardError.contains("serving en→fr, en→de, fr→en on"), server.standardError)
        let languages = try XCTUnwrap(try http(server.port, "GET", "/languages").json() as? [[String: Any]])
        XCTAssertEqual(languages.map { $0["code"] as? String }, ["en", "fr"])
        XCTAssertEqual(languages[0]["targets"] as? [String], ["de", "fr"])
        XCTAssertEqual(languages[1]["targets"] as? [String], ["en"])
        let french = try translated([sentences[0]]).first
        let toGerman = try http(server.port, "POST", "/translate", json: ["q": sentences[0], "source": "en", "target": "de"])
        let unnamedOutput = try runS2S(["translate", "-m", unnamed], input: sentences[0] + "\n").stdout
        XCTAssertEqual((try toGerman.json() as? [String: Any])?["translatedText"] as? String,
                       String(unnamedOutput.dropLast()))
        let byID = try XCTUnwrap(try http(server.port, "POST", "/translator/translate", json: [["src": sentences[0], "id": 1]])
            .json() as? [[[String: Any]]])
        XCTAssertEqual(byID[0][0]["tgt"] as? String, String(unnamedOutput.dropLast()))
        let first = try XCTUnwrap(try http(server.port, "POST", "/translator/translate", json: [["src": sentences[0]]])
            .json() as? [[[String: Any]]])
        XCTAssertEqual(first[0][0]["tgt"] as? String, french, "no id: the first model")
        let auto = try http(server.port, "POST", "/translate", json: ["q": "a", "source": "auto", "target": "fr"])
        XCTAssertEqual(auto.status, 200, "one model translates into fr")
        let noPair = try http(server.port, "POST", "/translate", json: ["q": "a", "source": "fr", "target": "de"])
        XCTAssertEqual(noPair.status, 400)
        XCTAssertTrue(noPair.error?.contains("not available as a target language from French (fr)") ?? false, noPair.text)
        XCTAssertEqual(server.terminate(), 0)
    }
}

/// Answers collected from concurrent clients.
private final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String?]
    init(count: Int) { stored = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: String?) { lock.lock(); stored[index] = value; lock.unlock() }
    var values: [String?] { lock.lock(); defer { lock.unlock() }; return stored }
}

private final class Statuses: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(Int?, String?)]
    init(count: Int) { stored = Array(repeating: (nil, nil), count: count) }
    func set(_ index: Int, _ status: Int?, _ retryAfter: String?) { lock.lock(); stored[index] = (status, retryAfter); lock.unlock() }
    var statuses: [Int?] { lock.lock(); defer { lock.unlock() }; return stored.map(\.0) }
    var retryAfter: [String?] { lock.lock(); defer { lock.unlock() }; return stored.map(\.1) }
}
