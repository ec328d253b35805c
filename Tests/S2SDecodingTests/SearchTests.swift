@testable import S2SDecoding
import S2SModel
import S2SCore
import XCTest

/// Greedy and beam search against toy networks whose answers can be worked out exactly.
final class SearchTests: XCTestCase {
    let sources: [[Int32]] = [[4, 5, 3], [6, 3], [7, 8, 9, 10, 3], [5, 3], [11, 4, 6, 3], [9, 9, 3], [4, 3]]

    func toy(vocabularySize: Int = 12, seed: UInt64) -> FunctionDecoder {
        FunctionDecoder(vocabularySize: vocabularySize,
                        distribution: pseudoRandomDistribution(vocabularySize: vocabularySize, seed: seed))
    }

    /// Beam 1 takes the same tokens with the same scores as greedy, with and without
    /// normalization, for many seeds and a whole batch.
    func testBeamOneEqualsGreedy() throws {
        for seed in UInt64(0)..<25 {
            for alpha: Float in [0, 0.6, 1.5] {
                let options = SearchOptions(beamSize: 1, lengthPenalty: LengthPenalty(alpha: alpha))
                let greedy = try GreedySearch(options: options).translate(sources, with: toy(seed: seed))
                let beam = try BeamSearch(options: options).translate(sources, with: toy(seed: seed))
                XCTAssertEqual(greedy, beam, "seed \(seed), α \(alpha)")
            }
        }
    }

    /// With a beam as wide as the whole search space, beam search returns the exhaustive
    /// optimum (and the exhaustive n-best list) over every target up to the length limit.
    func testWideBeamFindsExhaustiveOptimum() throws {
        // Tokens: pad 0, unk 1, bos 2, eos 3, 4, 5 → 3 usable tokens besides </s>.
        let vocabularySize = 6
        let maxLength = 4  // ≤ 3 tokens, then </s>: 1 + 3 + 9 + 27 = 40 targets
        for seed in UInt64(0)..<12 {
            let distribution = pseudoRandomDistribution(vocabularySize: vocabularySize, seed: seed, endBias: 0.3)
            let source: [Int32] = [4, 3]
            for alpha: Float in [0, 1] {
                let penalty = LengthPenalty(alpha: alpha)
                // Exhaustive enumeration of every target.
                var all: [(tokens: [Int32], score: Float)] = []
                func expand(_ prefix: [Int32], _ logProbability: Float) {
                    let values = distribution(source, prefix)
                    let ended = logProbability + values[3]
                    all.append((prefix, penalty.normalized(ended, length: prefix.count + 1)))
                    guard prefix.count + 1 < maxLength else { return }
                    for token: Int32 in [1, 4, 5] { expand(prefix + [token], logProbability + values[Int(token)]) }
                }
                expand([], 0)
                XCTAssertEqual(all.count, 40)
                all.sort { $0.score > $1.score }

                let options = SearchOptions(beamSize: 40, nBest: 5, lengthPenalty: penalty,
                                            maxLengthFactor: 0, maxLengthConstant: maxLength)
                let decoder = FunctionDecoder(vocabularySize: vocabularySize, distribution: distribution)
                let result = try BeamSearch(options: options).translate([source], with: decoder)[0]
                XCTAssertEqual(result.count, 5)
                for (rank, translation) in result.enumerated() {
                    XCTAssertEqual(translation.score, all[rank].score, accuracy: 1e-5, "seed \(seed) α \(alpha) rank \(rank)")
                }
                XCTAssertEqual(result[0].tokens, all[0].tokens, "seed \(seed) α \(alpha)")
            }
        }
    }

    /// n-best lists are sorted best first and hold K distinct targets.
    func testNBestIsSortedAndDistinct() throws {
        for seed in UInt64(0)..<10 {
            let options = SearchOptions(beamSize: 5, nBest: 5, maxLengthConstant: 8)
            let lists = try BeamSearch(options: options).translate(sources, with: toy(seed: seed))
            XCTAssertEqual(lists.count, sources.count)
            for (index, list) in lists.enumerated() {
                XCTAssertEqual(list.count, 5, "seed \(seed) sentence \(index)")
                XCTAssertEqual(Set(list.map(\.tokens)).count, list.count, "seed \(seed) sentence \(index): duplicates")
                XCTAssertEqual(list.map(\.score), list.map(\.score).sorted(by: >), "seed \(seed) sentence \(index)")
                XCTAssertFalse(list.contains { $0.tokens.contains(SpecialTokens.eos) })
            }
        }
    }

    /// A short target wins unnormalized; normalization lets the longer, better-per-token one win.
    func testLengthNormalizationChangesTheWinner() throws {
        // P(</s>) = 0.3 at once; P(a) = 0.7 then P(</s> | a) = 0.4; anything longer ends with
        // P(</s>) = 0.01 (the table's default), far worse.
        // α = 0: log 0.3 = -1.204 beats log 0.7 + log 0.4 = -1.273.
        // α = 1: -1.204 / 1 loses to -1.273 / (7/6) = -1.091.
        let table: [[Int32]: [Int32: Float]] = [[]: [3: 0.3, 4: 0.7], [4]: [3: 0.4, 5: 0.3, 1: 0.3]]
        func best(alpha: Float, beam: Int) throws -> [Int32] {
            let decoder = FunctionDecoder(vocabularySize: 6, distribution: tableDistribution(vocabularySize: 6, table))
            let options = SearchOptions(beamSize: beam, lengthPenalty: LengthPenalty(alpha: alpha))
            return try BeamSearch(options: options).translate([[4, 3]], with: decoder)[0][0].tokens
        }
        XCTAssertEqual(try best(alpha: 0, beam: 3), [])
        XCTAssertEqual(try best(alpha: 1, beam: 3), [4])
        XCTAssertEqual(LengthPenalty(alpha: 1).penalty(length: 2), 7.0 / 6.0, accuracy: 1e-6)
    }

    /// Greedy drops finished rows: the decoder sees fewer rows as sentences end.
    func testGreedyBatchShrinks() throws {
        let decoder = toy(seed: 3)
        let results = try GreedySearch().translate(sources, with: decoder)
        XCTAssertEqual(decoder.rowsPerStep.first, sources.count)
        XCTAssertEqual(decoder.rowsPerStep, decoder.rowsPerStep.sorted(by: >))
        let longest = results.map { $0[0].tokens.count + 1 }.max()!
        XCTAssertEqual(decoder.rowsPerStep.count, longest)
        XCTAssertLessThan(decoder.rowsPerStep.last!, sources.count)
    }

    /// Continuous batching: with fewer rows than sentences, greedy refills the row of each
    /// finished sentence with a waiting one. Same translations and scores as all rows at once,
    /// never more rows than the limit, and every step full until the last sentence has started.
    func testGreedyRefillsRowsWithWaitingSentences() throws {
        for seed in UInt64(0)..<10 {
            let all = try GreedySearch().translate(sources, with: toy(seed: seed))
            for limit in [1, 2, 3] {
                let decoder = toy(seed: seed)
                let limited = try GreedySearch(rowLimit: limit).translate(sources, with: decoder)
                XCTAssertEqual(limited, all, "seed \(seed), limit \(limit)")
                XCTAssertEqual(decoder.rowsPerStep.max(), limit)
                let longest = all.map { $0[0].tokens.count + 1 }.max()!
                XCTAssertTrue(decoder.rowsPerStep.dropLast(longest).allSatisfy { $0 == limit },
                              "seed \(seed), limit \(limit): \(decoder.rowsPerStep)")
                XCTAssertEqual(decoder.rowsPerStep.reduce(0, +), all.reduce(0) { $0 + $1[0].tokens.count + 1 })
            }
        }
    }

    /// The length limit forces </s>: a model that never wants to stop still stops.
    func testLengthLimitForcesEnd() throws {
        // </s> gets likelier with length but stays far below token 4 before the limit.
        let never: ([Int32], [Int32]) -> [Float] = { _, prefix in
            [-.infinity, -.infinity, -.infinity, -50 + 10 * Float(prefix.count), 0, -9]
        }
        for beam in [1, 3] {
            let options = SearchOptions(beamSize: beam, maxLengthFactor: 2, maxLengthConstant: 1)
            let decoder = FunctionDecoder(vocabularySize: 6, distribution: never)
            let search: [[Translation]] = beam == 1
                ? try GreedySearch(options: options).translate([[4, 4, 3]], with: decoder)
                : try BeamSearch(options: options).translate([[4, 4, 3]], with: decoder)
            // Limit: 2 × 2 + 1 = 5 tokens with </s>, so 4 pieces.
            XCTAssertEqual(search[0][0].tokens, [4, 4, 4, 4], "beam \(beam)")
        }
        // Each sentence counts its own steps, also when it joins a running batch.
        let decoder = FunctionDecoder(vocabularySize: 6, distribution: never)
        let options = SearchOptions(maxLengthFactor: 2, maxLengthConstant: 1)
        let results = try GreedySearch(options: options, rowLimit: 1).translate([[4, 4, 3], [4, 3], [4, 4, 3]],
                                                                                with: decoder)
        XCTAssertEqual(results.map { $0[0].tokens.count }, [4, 2, 4])
    }

    /// Sources must end in </s>.
    func testMalformedSourceThrows() {
        XCTAssertThrowsError(try GreedySearch().translate([[4, 5]], with: toy(seed: 1))) { error in
            XCTAssertEqual(error as? DecodingError, .malformedSource(index: 0))
        }
    }

    /// Attention rows are collected per target token (</s> included) and are distributions.
    func testAttentionIsCollected() throws {
        for beam in [1, 4] {
            let options = SearchOptions(beamSize: beam, collectAttention: true)
            let search: [[Translation]] = beam == 1
                ? try GreedySearch(options: options).translate(sources, with: toy(seed: 5))
                : try BeamSearch(options: options).translate(sources, with: toy(seed: 5))
            for (source, result) in zip(sources, search) {
                XCTAssertEqual(result[0].attention.count, result[0].tokens.count + 1)
                for row in result[0].attention {
                    XCTAssertEqual(row.count, source.count)
                    XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5)
                }
            }
        }
    }
}

extension SearchTests {
    /// `<pad>` and `<s>` are never produced, even by a network that likes them best.
    func testPadAndBeginAreNeverOutput() throws {
        let likesSpecials: ([Int32], [Int32]) -> [Float] = { _, prefix in
            prefix.count < 3 ? [-0.1, -3, -0.2, -4, -2, -3] : [-0.1, -3, -0.2, -0.5, -2, -3]
        }
        for beam in [1, 3] {
            let decoder = FunctionDecoder(vocabularySize: 6, distribution: likesSpecials)
            let options = SearchOptions(beamSize: beam, nBest: beam)
            let result: [[Translation]] = beam == 1
                ? try GreedySearch(options: options).translate([[4, 3]], with: decoder)
                : try BeamSearch(options: options).translate([[4, 3]], with: decoder)
            for translation in result[0] {
                XCTAssertFalse(translation.tokens.contains(SpecialTokens.pad), "beam \(beam)")
                XCTAssertFalse(translation.tokens.contains(SpecialTokens.bos), "beam \(beam)")
            }
            XCTAssertEqual(result[0][0].tokens, [4, 4, 4], "beam \(beam)")
        }
    }
}

extension SearchTests {
    /// A decoder that writes only some columns (a shortlisted network) is searched exactly as
    /// one that writes every id with −∞ outside them: the same tokens, scores and n-best lists,
    /// greedy and beam, also at the length limit and when `</s>` is left out.
    func testRestrictedColumnsSearchLikeMaskedIds() throws {
        let v = 12
        for (seed, columns) in [(UInt64(1), [Int32](0..<12)), (2, [0, 1, 2, 3, 4, 6, 9, 11]), (3, [1, 2, 5, 7, 8, 10])] {
            let distribution = pseudoRandomDistribution(vocabularySize: v, seed: seed)
            let masked: ([Int32], [Int32]) -> [Float] = { source, prefix in
                let values = distribution(source, prefix)
                return (0..<v).map { columns.contains(Int32($0)) ? values[$0] : -.infinity }
            }
            for beam in [1, 4] {
                for limit in [nil, 3] as [Int?] {
                    var options = SearchOptions(beamSize: beam, nBest: beam)
                    if let limit { options.maxLengthFactor = 0; options.maxLengthConstant = limit }
                    func run(_ decoder: FunctionDecoder) throws -> [[Translation]] {
                        beam == 1 ? try GreedySearch(options: options, rowLimit: 3).translate(sources, with: decoder)
                                  : try BeamSearch(options: options).translate(sources, with: decoder)
                    }
                    let restricted = try run(FunctionDecoder(vocabularySize: v, restrictedTo: columns, distribution: distribution))
                    let whole = try run(FunctionDecoder(vocabularySize: v, distribution: masked))
                    XCTAssertEqual(restricted, whole, "seed \(seed), beam \(beam), limit \(String(describing: limit))")
                }
            }
        }
    }
}

extension SearchTests {
    /// A row whose every value is NaN or −∞ (a broken network) ends its sentence at once rather
    /// than running to the length limit, in greedy and in beam search, over every id or some.
    func testABrokenRowEndsItsSentence() throws {
        let broken: ([Int32], [Int32]) -> [Float] = { _, _ in [.nan, -.infinity, .nan, .nan, -.infinity, .nan] }
        for columns in [[], [0, 2, 3, 5]] as [[Int32]] {
            let greedy = try GreedySearch().translate([[4, 4, 3]],
                with: FunctionDecoder(vocabularySize: 6, restrictedTo: columns, distribution: broken))
            XCTAssertEqual(greedy[0][0].tokens, [], "columns \(columns)")
            XCTAssertEqual(greedy[0][0].logProbability, -.infinity)
            let beam = try BeamSearch(options: SearchOptions(beamSize: 3)).translate([[4, 4, 3]],
                with: FunctionDecoder(vocabularySize: 6, restrictedTo: columns, distribution: broken))
            XCTAssertEqual(beam[0][0].tokens, [], "columns \(columns)")
        }
    }
}
