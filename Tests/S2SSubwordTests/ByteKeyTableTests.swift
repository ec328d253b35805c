import XCTest
@testable import S2SSubword

final class ByteKeyTableTests: XCTestCase {
    private func insert(_ key: String, into table: inout ByteKeyTable) -> (index: Int, inserted: Bool) {
        var key = key
        return key.withUTF8 { table.findOrInsert($0) }
    }

    private func find(_ key: String, in table: ByteKeyTable) -> Int? {
        var key = key
        return key.withUTF8 { table.find($0, hash: ByteKeyTable.hash($0)) }
    }

    func testKeysGetDenseIndicesInInsertionOrderThroughGrowth() {
        var table = ByteKeyTable(initialCapacity: 4)
        let keys = (0..<5000).map { "w\($0)é" } + ["", "a", "ab"]
        for (expected, key) in keys.enumerated() {
            XCTAssertEqual(insert(key, into: &table).index, expected)
        }
        XCTAssertEqual(table.count, keys.count)
        for (expected, key) in keys.enumerated() {
            XCTAssertEqual(find(key, in: table), expected, key)
            XCTAssertEqual(Array(table.key(expected)), Array(key.utf8))
            XCTAssertEqual(insert(key, into: &table).inserted, false)
        }
        XCTAssertNil(find("w5000é", in: table))
        XCTAssertNil(find("abc", in: table))
    }

    func testRemoveAllForgetsEveryKey() {
        var table = ByteKeyTable()
        _ = insert("x", into: &table)
        table.removeAll()
        XCTAssertEqual(table.count, 0)
        XCTAssertNil(find("x", in: table))
        XCTAssertEqual(insert("y", into: &table).index, 0)
    }
}
