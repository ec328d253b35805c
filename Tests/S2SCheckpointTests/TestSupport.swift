import Foundation
import S2SCheckpoint
import S2SContainer
import S2SCore
import S2SModel
import S2STensor
import XCTest

/// Small models with the real model's tensor names, filled with random values (and a few
/// special ones: -0, subnormals, ±inf, a NaN with a payload) so bit-exactness is tested.
enum Sample {
    static func config(source: Int = 13, target: Int = 11) -> ModelConfig {
        var config = ModelConfig(sourceVocabularySize: source, targetVocabularySize: target)
        config.embeddingSize = 4
        config.hiddenSize = 3
        config.attentionSize = 5
        config.labelSmoothing = 0.1
        return config
    }

    /// The layout a GRU encoder-decoder of `config` would have.
    static func layout(_ config: ModelConfig) -> [(name: String, shape: [Int])] {
        let E = config.embeddingSize, H = config.hiddenSize, A = config.attentionSize
        var layout: [(name: String, shape: [Int])] = [
            ("source.embedding", [config.sourceVocabularySize, E]),
            ("target.embedding", [config.targetVocabularySize, E]),
        ]
        for direction in ["forward", "backward"] {
            layout += [("encoder.\(direction).W", [3 * H, E]), ("encoder.\(direction).U", [3 * H, H]),
                       ("encoder.\(direction).b", [3 * H])]
        }
        layout += [("decoder.init.W", [H, 2 * H]), ("decoder.init.b", [H]),
                   ("decoder.gru1.W", [3 * H, E]), ("decoder.gru1.U", [3 * H, H]), ("decoder.gru1.b", [3 * H]),
                   ("decoder.gru2.W", [3 * H, 2 * H]), ("decoder.gru2.U", [3 * H, H]), ("decoder.gru2.b", [3 * H]),
                   ("attention.Wc", [A, 2 * H]), ("attention.Ws", [A, H]), ("attention.v", [A]),
                   ("output.W", [config.targetVocabularySize, E]), ("output.b", [config.targetVocabularySize])]
        return layout
    }

    static func randomStore(_ layout: [(name: String, shape: [Int])], seed: UInt64) -> ParameterStore {
        let store = ParameterStore(layout: layout)
        var rng = SeededRNG(seed: seed)
        let specials: [Float] = [-0.0, .leastNonzeroMagnitude, -.infinity, .infinity,
                                 Float(bitPattern: 0x7FC0_1234), .greatestFiniteMagnitude]
        for entry in store.entries {
            let tensor = store.tensor(entry.name)
            for i in 0..<tensor.count { tensor[i] = rng.normal() }
        }
        for (i, special) in specials.enumerated() { store.tensor("output.b")[i] = special }
        return store
    }

    static let vocabularyText = "#s2s-vocab 1\nsource 13 target 11\n<pad>\n<unk>\n<s>\n</s>\nl@@\ne\nchat\nchien\n"

    static func checkpoint(seed: UInt64 = 1, config: ModelConfig = Sample.config()) throws -> Checkpoint {
        var progress = TrainingProgress(epoch: 3, updates: 1500, targetTokensSeen: 1_234_567, elapsedSeconds: 321.25)
        progress.validations = [
            ValidationRecord(updates: 500, epoch: 1, crossEntropy: 4.5, perplexity: exp(4.5), bleu: nil, time: 100.5),
            ValidationRecord(updates: 1000, epoch: 2, crossEntropy: 3.25, perplexity: exp(3.25), bleu: 12.34, time: 200),
            ValidationRecord(updates: 1500, epoch: 3, crossEntropy: .infinity, perplexity: .infinity, bleu: 0, time: 321.25),
        ]
        progress.bestScore = 12.34
        progress.bestUpdates = 1000
        progress.bestMetric = "bleu"
        let options = try JSONValue(encoding: ["learningRate": "0.0003", "batchTokens": "4096", "seed": "1234"])
        let metadata = CheckpointMetadata(config: config, vocabulary: EmbeddedVocabulary(text: vocabularyText),
                                          progress: progress, trainingOptions: options,
                                          corpusFingerprint: "corpus-fp", s2sVersion: "0.1.0-test")
        return Checkpoint(metadata: metadata, parameters: randomStore(layout(config), seed: seed))
    }

    static func state(for parameters: ParameterStore, seed: UInt64 = 7) throws -> TrainingState {
        struct Position: Codable { var epoch: Int; var batchIndex: Int; var permutationSeed: UInt64 }
        var rng = SeededRNG(seed: seed)
        for _ in 0..<5 { _ = rng.next() }
        let metadata = TrainingStateMetadata(
            optimizerStep: 1500,
            scheduler: try JSONValue(encoding: ["warmup": 4000.0, "decayedAt": 0.5]),
            rngStates: ["shuffle": rng, "dropout": SeededRNG(seed: UInt64.max)],
            corpusPosition: try JSONValue(encoding: Position(epoch: 3, batchIndex: 17, permutationSeed: UInt64.max - 1)),
            extra: .object(["patience": .integer(2)]))
        let entries = parameters.entries.map { ($0.name, $0.shape) }
        return TrainingState(metadata: metadata, firstMoment: randomStore(entries, seed: seed + 1),
                             secondMoment: randomStore(entries, seed: seed + 2))
    }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "s2s-checkpoint-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Asserts two stores have the same layout and bit-identical values (NaN payloads included).
func assertBitIdentical(_ a: ParameterStore, _ b: ParameterStore, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.entries.map(\.name), b.entries.map(\.name), file: file, line: line)
    XCTAssertEqual(a.entries.map(\.shape), b.entries.map(\.shape), file: file, line: line)
    for entry in a.entries {
        let x = a.tensor(entry.name), y = b.tensor(entry.name)
        guard let index = (0..<x.count).first(where: { x[$0].bitPattern != y[$0].bitPattern }) else { continue }
        XCTFail("tensor \(entry.name)[\(index)]: \(x[index]) vs \(y[index])", file: file, line: line)
        return
    }
}

/// A copy of a file damaged in place, one byte or one length at a time, without rewriting it
/// (so sweeping every byte costs two `pwrite`s per case, not a file creation). Lives in
/// /dev/shm when there is one, to keep the sweep off a busy disk.
final class DamageableFile {
    let path: String
    let original: [UInt8]
    private let descriptor: Int32

    init(copying source: String, name: String) throws {
        original = Array(try XCTUnwrap(FileManager.default.contents(atPath: source)))
        var isDirectory: ObjCBool = false
        let base = FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory) && isDirectory.boolValue
            ? "/dev/shm/" : NSTemporaryDirectory()
        path = base + "s2s-damage-\(UUID().uuidString)-" + name
        try Data(original).write(to: URL(fileURLWithPath: path))
        descriptor = open(path, O_RDWR)
        precondition(descriptor >= 0, "cannot open \(path)")
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// XORs byte `position` with `pattern`.
    func flip(_ position: Int, with pattern: UInt8) { put(original[position] ^ pattern, at: position) }

    /// Puts byte `position` back.
    func restore(_ position: Int) { put(original[position], at: position) }

    /// Cuts the file to `length` bytes (sweep lengths downwards: nothing is put back).
    func truncate(to length: Int) { precondition(ftruncate(descriptor, off_t(length)) == 0) }

    private func put(_ byte: UInt8, at position: Int) {
        var value = byte
        precondition(pwrite(descriptor, &value, 1, off_t(position)) == 1)
    }
}
