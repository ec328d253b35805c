// libFuzzer entry point for every reader of outside input, one binary, the target chosen by
// $S2S_FUZZ_TARGET (scripts/fuzz/fuzz.sh runs each with its own corpus):
//   container   the model / state container (S2SContainer), with the header repaired
//   vocabulary  a vocabulary file (.s2sv), then encoding and decoding with it
//   prepared    a prepared corpus (.s2sd), every pair's arrays touched
//   lines       the line reader on a file, plain or gzip (the seeds hold both)
//   translate   translate's input path: lines read lossily, normalized, cut into pieces
//   eval        eval's inputs: hypotheses and references through every BLEU tokenizer and chrF++
//   server      `s2s serve`'s request parsing: LibreTranslate's JSON and form bodies with a query
//               string, OpenNMT-py's JSON list, and the split of texts into lines
// Every input must be accepted or rejected with a thrown error — never a trap, an
// out-of-bounds access (AddressSanitizer watches) or a huge allocation (libFuzzer's
// -rss_limit_mb / -malloc_limit_mb watch). Built by fuzz.sh as the package's S2SFuzz target.
import Foundation
@testable import S2SContainer
import S2SCorpus
import S2SIO
import S2SMetrics
@testable import S2SServer
import S2SSubword

private let target = ProcessInfo.processInfo.environment["S2S_FUZZ_TARGET"] ?? "container"
/// Readers that take a path read the input from this file (in /dev/shm where there is one).
private let scratchPath: String = {
    let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return folder + "/s2s-fuzz-\(getpid())-" + target
}()
/// The vocabulary the translate target encodes with (made once from the committed sample).
nonisolated(unsafe) private var sampleVocabulary: SubwordVocabulary?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    switch target {
    case "container":
        checkContainer(bytes)
        if let repaired = repairedContainer(bytes) { repaired.withUnsafeBytes { checkContainer($0) } }
    case "vocabulary": fuzzVocabulary(bytes)
    case "prepared":
        fuzzPrepared(Array(bytes))
        if let repaired = repairedContainer(bytes) { fuzzPrepared(repaired) }
    case "lines": fuzzLines(bytes)
    case "translate": fuzzTranslateInput(bytes)
    case "eval": fuzzEval(bytes)
    case "server": fuzzServerRequest(bytes)
    default: fatalError("unknown S2S_FUZZ_TARGET '\(target)'")
    }
    return 0
}

private func writeScratch(_ bytes: some Collection<UInt8>) {
    _ = FileManager.default.createFile(atPath: scratchPath, contents: Data(bytes))
}

/// Random mutations almost never keep a container's header checksum and size field right,
/// which would leave its JSON and table checks unexplored: a copy with both repaired.
private func repairedContainer(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
    let size = bytes.count
    guard size >= Container.prefixSize else { return nil }
    var repaired = Array(bytes)
    withUnsafeBytes(of: UInt64(size).littleEndian) { repaired.replaceSubrange(16..<24, with: $0) }
    let headerLength = Int(UInt32(repaired[12]) | UInt32(repaired[13]) << 8 | UInt32(repaired[14]) << 16 | UInt32(repaired[15]) << 24)
    guard headerLength <= size - Container.prefixSize else { return nil }
    var crc = CRC32C.checksum(Array(repaired[0..<24]))
    crc = CRC32C.checksum(Array(repaired[Container.prefixSize..<(Container.prefixSize + headerLength)]), continuing: crc)
    withUnsafeBytes(of: crc.littleEndian) { repaired.replaceSubrange(24..<28, with: $0) }
    return repaired
}

private func checkContainer(_ bytes: UnsafeRawBufferPointer) {
    let size = bytes.count
    for magic in ["S2SMODEL", "S2SSTATE"] {
        guard let parsed = try? ContainerReader.check(bytes, path: "fuzz", magic: magic, supportedVersion: 1) else {
            continue
        }
        // An accepted file: its metadata must decode as generic JSON, and every array must lie
        // inside the input (touch the first and last byte so ASan checks the bounds).
        struct Header: Decodable { var metadata: JSONValue }
        _ = try? Container.makeJSONDecoder().decode(Header.self, from: parsed.header)
        for entry in parsed.arrays where entry.bytes > 0 {
            precondition(entry.offset >= 0 && entry.offset + entry.bytes <= size, "array outside the file")
            _ = bytes[entry.offset] &+ bytes[entry.offset + entry.bytes - 1]
        }
    }
}

private func fuzzVocabulary(_ bytes: UnsafeRawBufferPointer) {
    writeScratch(bytes)
    guard let vocabulary = try? SubwordVocabulary(contentsOfFile: scratchPath) else { return }
    // An accepted vocabulary must encode any text into ids it can decode.
    let ids = vocabulary.encode("A man, 2 dogs and a café ① 😀 \u{0}.")
    for id in ids { precondition(id >= 0 && Int(id) < vocabulary.size, "id \(id) outside the vocabulary") }
    _ = vocabulary.decode(ids)
    _ = vocabulary.pieces("the quick brown fox")
}

private func fuzzPrepared(_ bytes: [UInt8]) {
    writeScratch(bytes)
    guard let corpus = try? PreparedCorpus.open(scratchPath) else { return }
    var total: Int32 = 0
    for pair in 0..<corpus.count {
        for token in corpus.source(pair) { total &+= token }
        for token in corpus.target(pair) { total &+= token }
    }
    _ = total
}

private func fuzzLines(_ bytes: UnsafeRawBufferPointer) {
    writeScratch(bytes)
    for policy in [InvalidUTF8Policy.fail, .replace] {
        guard let reader = try? LineReader(path: scratchPath) else { return }
        var lines = 0
        while let line = try? reader.nextLine(invalidUTF8: policy) {
            lines += 1
            precondition(!line.contains("\n"), "a line holds a newline")
        }
        precondition(lines <= bytes.count + 1, "more lines than bytes")
    }
}

private func fuzzTranslateInput(_ bytes: UnsafeRawBufferPointer) {
    if sampleVocabulary == nil {
        let folder = ProcessInfo.processInfo.environment["S2S_FUZZ_SEEDS"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
        sampleVocabulary = try! SubwordVocabulary(contentsOfFile: folder + "/seeds-vocabulary/sample.s2sv")
    }
    let vocabulary = sampleVocabulary!
    writeScratch(bytes)
    guard let reader = try? LineReader(path: scratchPath) else { return }
    while let line = try? reader.nextLine(invalidUTF8: .replace) {
        let ids = vocabulary.encode(line)
        for id in ids { precondition(id >= 0 && Int(id) < vocabulary.size, "id \(id) outside the vocabulary") }
        _ = vocabulary.decode(ids)
    }
}

private func fuzzEval(_ bytes: UnsafeRawBufferPointer) {
    // Hypotheses before the first 0xFF byte, references after it, one per line (lossy UTF-8,
    // as eval reads them with --lossy; its strict path is the line reader's).
    let split = bytes.firstIndex(of: 0xFF) ?? bytes.count / 2
    func lines(_ part: UnsafeRawBufferPointer.SubSequence) -> [String] {
        String(decoding: part, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
    var hypotheses = lines(bytes[..<split]), references = lines(bytes[min(split + 1, bytes.count)...])
    let count = min(hypotheses.count, references.count)
    hypotheses = Array(hypotheses.prefix(count))
    references = Array(references.prefix(count))
    for tokenizer in TokenizerKind.allCases {
        for lowercase in [false, true] {
            let options = BLEUOptions(tokenizer: tokenizer, lowercase: lowercase, threads: 1)
            if let score = try? BLEU.corpusScore(hypotheses: hypotheses, references: [references], options: options) {
                // sacreBLEU's arithmetic, which s2s follows exactly, gives 100.00000000000004 for
                // a perfect match (exp(log 100)).
                precondition(score.score >= 0 && score.score <= 100 + 1e-9, "BLEU \(score.score) outside [0, 100]")
            }
        }
    }
    _ = try? CHRF.corpusScore(hypotheses: hypotheses, references: [references], options: CHRFOptions(wordOrder: 2, threads: 1))
}

private func fuzzServerRequest(_ bytes: UnsafeRawBufferPointer) {
    // The first byte picks the content type; the query string comes before the first 0xFF
    // byte, the body after it.
    let types: [String?] = [nil, "application/json", "application/x-www-form-urlencoded; charset=utf-8", "text/plain"]
    let type = bytes.first.map { types[Int($0) % types.count] } ?? nil
    let rest = bytes.dropFirst()
    let split = rest.firstIndex(of: 0xFF) ?? rest.endIndex
    let query = String(decoding: rest[..<split], as: UTF8.self)
    let body = Array(rest[(split < rest.endIndex ? split + 1 : split)...])
    // Every request is parsed or refused with an APIError (which becomes its 4xx answer); any
    // other error would be a 500.
    func checkLines(_ texts: [String]) {
        let batch = TextBatch(texts: texts)
        precondition(batch.lines.allSatisfy { !$0.contains("\n") }, "a line holds a newline")
        precondition(batch.lines.count >= texts.count, "a text lost its line")
    }
    for query in [nil, query] {
        do {
            checkLines(try LibreTranslateAPI.parse(body: body, contentType: type, query: query).q ?? [])
        } catch is APIError {
        } catch {
            preconditionFailure("LibreTranslate parsing threw \(error), not an APIError")
        }
    }
    if let items = try? JSONDecoder().decode([OpenNMTAPI.Item].self, from: Data(body)) { checkLines(items.map(\.src)) }
}
