@testable import S2SDecoding
import S2SModel
import XCTest

final class EnsembleDecoderTests: XCTestCase {
    /// The ensemble's step is the mean of its members' log-probabilities, row by row,
    /// and `select` reaches every member.
    func testStepAveragesMembers() throws {
        let v = 9
        let a = FunctionDecoder(vocabularySize: v, distribution: pseudoRandomDistribution(vocabularySize: v, seed: 1))
        let b = FunctionDecoder(vocabularySize: v, distribution: pseudoRandomDistribution(vocabularySize: v, seed: 2))
        let ensemble = try EnsembleDecoder(members: [a, b])
        let sources: [[Int32]] = [[4, 3], [5, 6, 3]]
        try ensemble.begin(sources: sources)
        var out = [Float](repeating: 0, count: 2 * v)
        out.withUnsafeMutableBufferPointer { ensemble.step(previousTokens: [2, 2], logProbabilities: $0) }
        ensemble.select(parents: [1, 1, 0])
        var next = [Float](repeating: 0, count: 3 * v)
        next.withUnsafeMutableBufferPointer { ensemble.step(previousTokens: [7, 8, 4], logProbabilities: $0) }
        let da = pseudoRandomDistribution(vocabularySize: v, seed: 1), db = pseudoRandomDistribution(vocabularySize: v, seed: 2)
        let expectedRows: [(source: [Int32], prefix: [Int32])] = [([5, 6, 3], [7]), ([5, 6, 3], [8]), ([4, 3], [4])]
        for (row, (source, prefix)) in expectedRows.enumerated() {
            let expected = zip(da(source, prefix), db(source, prefix)).map { ($0 + $1) / 2 }
            for t in 0..<v where expected[t].isFinite {
                XCTAssertEqual(next[row * v + t], expected[t], accuracy: 1e-5, "row \(row) token \(t)")
            }
        }
        XCTAssertEqual(a.rows.count, 3)
        XCTAssertEqual(b.rows.count, 3)
    }

    /// An ensemble of one model decodes exactly like the model.
    func testEnsembleOfCopiesDecodesLikeOneModel() throws {
        let v = 10
        let make = { FunctionDecoder(vocabularySize: v, distribution: pseudoRandomDistribution(vocabularySize: v, seed: 4)) }
        let sources: [[Int32]] = [[4, 5, 3], [6, 3], [7, 8, 9, 3]]
        let options = SearchOptions(beamSize: 3, nBest: 3)
        let single = try BeamSearch(options: options).translate(sources, with: make())
        let pair = try BeamSearch(options: options).translate(sources, with: EnsembleDecoder(members: [make(), make()]))
        XCTAssertEqual(single.map { $0.map(\.tokens) }, pair.map { $0.map(\.tokens) })
    }

    /// Members that write only some columns (a shared shortlist) average those columns, as
    /// members writing every id with −∞ outside them would; each member still gets a
    /// whole [rows, V] buffer, as `step` promises (the toy decoder checks it).
    func testRestrictedMembersAverageTheirColumns() throws {
        let v = 10, columns: [Int32] = [0, 1, 2, 3, 5, 8]
        let sources: [[Int32]] = [[4, 5, 3], [6, 3], [7, 8, 9, 3]]
        func member(_ seed: UInt64, restricted: Bool) -> FunctionDecoder {
            let distribution = pseudoRandomDistribution(vocabularySize: v, seed: seed)
            if restricted { return FunctionDecoder(vocabularySize: v, restrictedTo: columns, distribution: distribution) }
            return FunctionDecoder(vocabularySize: v) { source, prefix in
                let values = distribution(source, prefix)
                return (0..<v).map { columns.contains(Int32($0)) ? values[$0] : -.infinity }
            }
        }
        for beam in [1, 3] {
            let options = SearchOptions(beamSize: beam, nBest: beam)
            func run(_ restricted: Bool) throws -> [[Translation]] {
                let ensemble = try EnsembleDecoder(members: [member(1, restricted: restricted), member(2, restricted: restricted)])
                return beam == 1 ? try GreedySearch(options: options, rowLimit: 2).translate(sources, with: ensemble)
                                 : try BeamSearch(options: options).translate(sources, with: ensemble)
            }
            XCTAssertEqual(try run(true), try run(false), "beam \(beam)")
        }
    }

    func testMismatchedVocabulariesThrow() {
        let a = FunctionDecoder(vocabularySize: 8) { _, _ in [] }
        let b = FunctionDecoder(vocabularySize: 9) { _, _ in [] }
        XCTAssertThrowsError(try EnsembleDecoder(members: [a, b])) { error in
            XCTAssertEqual(error as? DecodingError, .vocabularyMismatch(expected: 8, found: 9, member: 1))
        }
        XCTAssertThrowsError(try EnsembleDecoder(members: []))
    }
}
