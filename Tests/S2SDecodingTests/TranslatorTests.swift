@testable import S2SDecoding
import S2SIO
import S2SModel
import S2STensor
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The Translator with a toy network and a toy whitespace "subword" model: word w ↔ id.
final class TranslatorTests: XCTestCase {
    static let vocabularySize = 40

    /// Words → ids 4…39 by a fixed hash of their bytes; the same word always gets the same id.
    static func encode(_ line: String) -> [Int32] {
        line.split(separator: " ").map { word in
            Int32(4 + Int(word.utf8.reduce(UInt64(0x5EED)) { mix($0 ^ UInt64($1)) } % UInt64(vocabularySize - 4)))
        }
    }

    static func decode(_ tokens: [Int32]) -> String {
        tokens.map { "w\($0)" }.joined(separator: " ")
    }

    func makeTranslator(beam: Int = 1, nBest: Int = 1, batch: Int = 4, window: Int = 3, maxSource: Int = 128,
                        attention: Bool = false, seed: UInt64 = 11) -> (Translator, FunctionDecoder) {
        let decoder = FunctionDecoder(vocabularySize: Self.vocabularySize,
                                      distribution: pseudoRandomDistribution(vocabularySize: Self.vocabularySize,
                                                                             seed: seed, endBias: 0.6))
        let options = TranslatorOptions(search: SearchOptions(beamSize: beam, nBest: nBest, collectAttention: attention),
                                        batchSize: batch, sortWindowBatches: window, maxSourceLength: maxSource)
        return (Translator(decoder: decoder, options: options, encode: Self.encode, decode: Self.decode), decoder)
    }

    let lines: [String] = [
        "a small dog runs", "", "   ", "the cat", "two men are playing football on the beach", "a",
        "x y z", "", "people walk down a busy street at night", "red", "one two three four five six seven",
        "a girl in a pink dress", "boats", "   ", "an old man sits",
    ]

    /// One result per input line, in input order, whatever the line: empty, spaces only, a
    /// 5,000-token line, a last line without a newline (read through LineReader).
    func testOneOutputPerInputLineInOrder() throws {
        let long = (0..<5000).map { "tok\($0 % 97)" }.joined(separator: " ")
        var inputs = lines
        inputs.insert(long, at: 3)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("s2s-translator-\(getpid()).txt").path
        try inputs.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)  // no final newline
        defer { try? FileManager.default.removeItem(atPath: path) }
        let read = try LineReader(path: path).readAllLines()
        XCTAssertEqual(read, inputs)

        for beam in [1, 3] {
            let (translator, _) = makeTranslator(beam: beam, maxSource: 64)
            let results = try translator.translate(read)
            XCTAssertEqual(results.count, inputs.count, "beam \(beam)")
            XCTAssertEqual(results.map(\.index), Array(inputs.indices), "beam \(beam)")
            XCTAssertEqual(results.map(\.source), inputs, "beam \(beam)")
            for result in results where result.source.trimmingCharacters(in: .whitespaces).isEmpty {
                XCTAssertEqual(result.hypotheses.map(\.text), [""], "beam \(beam): a blank line gives a blank line")
            }
            // The long line: 5,000 pieces in chunks of 64 → 79 chunks, each with a translation.
            let longResult = results[3]
            XCTAssertEqual(longResult.sourceTokens.count, 5000)
            XCTAssertGreaterThan(longResult.hypotheses[0].tokens.count, 79, "beam \(beam)")
            XCTAssertFalse(longResult.hypotheses[0].text.contains("\n"))
        }
    }

    /// Blank lines never reach the network.
    func testBlankLinesDoNotRunTheModel() throws {
        let (translator, decoder) = makeTranslator()
        let results = try translator.translate(["", "  ", ""])
        XCTAssertEqual(results.count, 3)
        XCTAssertEqual(decoder.beginCount, 0)
    }

    /// Batched and one-at-a-time translation give identical output (greedy and beam 5).
    func testBatchedEqualsUnbatched() throws {
        for beam in [1, 5] {
            let (single, _) = makeTranslator(beam: beam, nBest: beam, batch: 1, window: 1)
            let (batched, decoder) = makeTranslator(beam: beam, nBest: beam, batch: 6, window: 2)
            let one = try single.translate(lines)
            let many = try batched.translate(lines)
            XCTAssertEqual(one, many, "beam \(beam)")
            XCTAssertGreaterThan(decoder.rowsPerStep.max()!, beam, "beam \(beam): batches really held several sentences")
        }
    }

    /// Several workers (copies of one real network sharing its parameters) decoding batches
    /// side by side give the translations of one worker, and BLAS gets its threads back. Scores
    /// agree to float rounding: greedy search refills rows as sentences end, so which rows
    /// share a matrix product differs with the number of workers, and BLAS may round a row
    /// differently in another position of the product.
    func testParallelWorkersEqualOneWorker() throws {
        var config = ModelConfig(sourceVocabularySize: Self.vocabularySize, targetVocabularySize: Self.vocabularySize)
        config.embeddingSize = 8
        config.hiddenSize = 12
        config.attentionSize = 10
        let parameters = try Seq2SeqModel(config: config, seed: 3).parameters
        let inputs = (0..<40).map { lines[$0 % lines.count] + " extra words \($0 % 7)" }
        BLAS.setThreads(2)
        for beam in [1, 4] {
            let options = TranslatorOptions(search: SearchOptions(beamSize: beam, nBest: beam), batchSize: 3, sortWindowBatches: 4)
            func translator(workers: Int) throws -> Translator {
                Translator(decoders: try (0..<workers).map { _ in try Seq2SeqInference(config: config, parameters: parameters) },
                           options: options, encode: Self.encode, decode: Self.decode)
            }
            let alone = try translator(workers: 1).translate(inputs)
            let together = try translator(workers: 3).translate(inputs)
            XCTAssertEqual(alone.count, inputs.count)
            XCTAssertEqual(alone.map { $0.hypotheses.map(\.tokens) }, together.map { $0.hypotheses.map(\.tokens) },
                           "beam \(beam)")
            XCTAssertEqual(alone.map { $0.hypotheses.map(\.text) }, together.map { $0.hypotheses.map(\.text) })
            for (one, many) in zip(alone, together) {
                for (a, b) in zip(one.hypotheses, many.hypotheses) {
                    XCTAssertEqual(a.score, b.score, accuracy: 1e-5 * abs(a.score), "beam \(beam), line \(one.index)")
                }
            }
            XCTAssertEqual(BLAS.threads, 2)
        }
    }

    /// Streaming: nothing comes out before a window fills or `flush`; then every queued line
    /// comes out, in order.
    func testStreamingEmitsOnFlushInOrder() throws {
        let (translator, _) = makeTranslator(batch: 2, window: 2)  // window: 4 chunks
        var emitted: [Int] = []
        try translator.add("a b") { emitted.append($0.index) }
        try translator.add("") { emitted.append($0.index) }
        try translator.add("c d e") { emitted.append($0.index) }
        XCTAssertEqual(emitted, [])
        XCTAssertEqual(translator.pendingLineCount, 3)
        try translator.flush { emitted.append($0.index) }
        XCTAssertEqual(emitted, [0, 1, 2])
        for line in ["f", "g h", "i", "j k l"] { try translator.add(line) { emitted.append($0.index) } }
        XCTAssertEqual(emitted, [0, 1, 2, 3, 4, 5, 6], "a full window is translated without flush")
        try translator.flush { emitted.append($0.index) }
        XCTAssertEqual(emitted.count, 7)
    }

    /// Attention comes out per line as target pieces × source pieces, `</s>` left out, also
    /// across chunks (block-diagonal).
    func testLineAttentionShapes() throws {
        let (translator, _) = makeTranslator(beam: 2, maxSource: 3, attention: true)
        let results = try translator.translate(["a b", "a b c d e f g"])
        for result in results {
            let hypothesis = result.hypotheses[0]
            XCTAssertEqual(hypothesis.attention.count, hypothesis.tokens.count)
            for row in hypothesis.attention { XCTAssertEqual(row.count, result.sourceTokens.count) }
        }
        // Chunked line: a target piece of chunk 2 attends only to source pieces 3…5.
        let alignment = AlignmentPrinter.hardAlignment(results[1].hypotheses[0].attention)
        XCTAssertEqual(alignment.count, results[1].hypotheses[0].tokens.count)
        XCTAssertTrue(alignment.allSatisfy { $0.source < 7 })
    }
}

extension TranslatorTests {
    /// `batchFinished` runs once per translated batch with beam search, after that batch's
    /// ready lines are out; greedy search decodes the window's batches as one stream and runs
    /// it once, when every line is out.
    func testBatchFinishedRunsPerBatch() throws {
        for beam in [1, 2] {
            let (translator, decoder) = makeTranslator(beam: beam, batch: 3, window: 100)
            var batches = 0
            var emittedAtBatchEnd: [Int] = []
            var emitted = 0
            for line in lines { try translator.add(line, emit: { _ in emitted += 1 }) }
            try translator.flush(emit: { _ in emitted += 1 }, batchFinished: {
                batches += 1
                emittedAtBatchEnd.append(emitted)
            })
            let nonBlank = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.count
            XCTAssertEqual(batches, beam == 1 ? 1 : (nonBlank + 2) / 3, "beam \(beam)")
            XCTAssertEqual(emittedAtBatchEnd.last, lines.count)
            XCTAssertEqual(emittedAtBatchEnd, emittedAtBatchEnd.sorted())
            // Greedy keeps its 3 rows full while sentences wait, and never exceeds them.
            XCTAssertEqual(decoder.rowsPerStep.max(), 3 * beam, "beam \(beam)")
        }
    }
}
