@testable import S2SDecoding
import Foundation
import S2SIO
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class TranslationStreamTests: XCTestCase {
    func makeTranslator() -> Translator {
        let v = TranslatorTests.vocabularySize
        let decoder = FunctionDecoder(vocabularySize: v,
                                      distribution: pseudoRandomDistribution(vocabularySize: v, seed: 2, endBias: 0.6))
        return Translator(decoder: decoder, options: TranslatorOptions(batchSize: 16),
                          encode: TranslatorTests.encode, decode: TranslatorTests.decode)
    }

    /// An interactive user: the first line is answered before the second is typed, although
    /// the batch (16) is far from full.
    func testInteractiveLineIsAnsweredBeforeTheNextIsTyped() throws {
        var descriptors: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&descriptors), 0)
        let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
        defer { close(readEnd) }
        let firstAnswered = DispatchSemaphore(value: 0)
        let typist = Thread {
            _ = "a man rides a horse\n".withCString { write(writeEnd, $0, strlen($0)) }
            // Waits (bounded) for the answer before typing the next line.
            _ = firstAnswered.wait(timeout: .now() + 10)
            _ = "two dogs\n".withCString { write(writeEnd, $0, strlen($0)) }
            close(writeEnd)
        }
        typist.start()
        let translator = makeTranslator()
        let reader = LineReader(fileDescriptor: readEnd, name: "<pipe>")
        var answeredBeforeSecondLine = false
        var emitted: [LineTranslation] = []
        try TranslationStream.run(reader: reader, translator: translator, invalidUTF8: { _, _ in },
                                  emit: { line in
                                      emitted.append(line)
                                      if line.index == 0 {
                                          answeredBeforeSecondLine = reader.lineNumber == 1
                                          firstAnswered.signal()
                                      }
                                  }, didEmit: {})
        try translator.flush { emitted.append($0) }
        XCTAssertTrue(answeredBeforeSecondLine, "line 1 must be translated before line 2 is read")
        XCTAssertEqual(emitted.map(\.index), [0, 1])
    }

    /// Invalid UTF-8 is replaced and reported with its line number; no line is lost or shifted.
    func testInvalidUTF8IsReplacedAndReported() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("s2s-stream-\(getpid()).txt").path
        var bytes = Array("good line\n".utf8) + [0x61, 0xFF, 0x62, 0x0A] + Array("\nlast without newline".utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        bytes.removeAll()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let translator = makeTranslator()
        var warnings: [String] = []
        var emitted: [LineTranslation] = []
        try TranslationStream.run(reader: try LineReader(path: path), translator: translator,
                                  invalidUTF8: { warnings.append("\($0):\($1)") },
                                  emit: { emitted.append($0) }, didEmit: {})
        try translator.flush { emitted.append($0) }
        XCTAssertEqual(warnings, ["\(path):2"])
        XCTAssertEqual(emitted.map(\.source), ["good line", "a\u{FFFD}b", "", "last without newline"])
        XCTAssertEqual(emitted.map(\.index), [0, 1, 2, 3])
    }
}
