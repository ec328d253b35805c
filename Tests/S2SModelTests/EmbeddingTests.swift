import XCTest
@testable import S2SModel

/// Embedding gather and scatter-add, including repeated ids.
final class EmbeddingTests: XCTestCase {
    func testGatherAndScatterAddWithRepeatedIds() {
        let v = 5, e = 3
        let table = (0..<(v * e)).map { Float($0) }
        let ids: [Int32] = [4, 1, 4]
        var output = [Float](repeating: 0, count: ids.count * e)
        embeddingForward(output: &output, ids: ids, table: table, rows: ids.count, embeddingSize: e)
        XCTAssertEqual(output, [12, 13, 14, 3, 4, 5, 12, 13, 14])
        var dTable = [Float](repeating: 1, count: v * e)
        let dOutput: [Float] = [1, 2, 3, 10, 20, 30, 100, 200, 300]
        embeddingBackward(dTable: &dTable, dOutput: dOutput, ids: ids, rows: ids.count, embeddingSize: e)
        XCTAssertEqual(Array(dTable[12..<15]), [102, 203, 304])
        XCTAssertEqual(Array(dTable[3..<6]), [11, 21, 31])
        XCTAssertEqual(Array(dTable[0..<3]), [1, 1, 1])
    }
}
