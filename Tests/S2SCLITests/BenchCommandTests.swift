import XCTest

/// `s2s bench`: the measuring commands run at toy sizes and report what they promise.
final class BenchCommandTests: XCTestCase {
    /// `bench products` prints one line per row count with both timings and their ratio.
    func testProductsReportsEveryRowCount() throws {
        let result = try runS2S(["bench", "products", "--rows", "1,7,70", "--vocab", "50", "--emb", "8",
                                 "--hidden", "12", "--attention", "10", "--threads", "1", "--repetitions", "3"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("rows=") }
        XCTAssertEqual(lines.map { $0.split(separator: " ")[0] }, ["rows=1", "rows=7", "rows=70"])
        for line in lines {
            let fields = Dictionary(uniqueKeysWithValues: line.split(separator: " ").map {
                let pair = $0.split(separator: "=")
                return (String(pair[0]), Double(pair[1]) ?? -1)
            })
            for key in ["openblas_ms", "packed_ms", "speedup"] {
                XCTAssertGreaterThan(fields[key] ?? -1, 0, "\(key) in \(line)")
            }
        }
        let bad = try runS2S(["bench", "products", "--rows", "0"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("row counts"), bad.stderr)
    }

    /// The packed-row limit is measured once per kind of CPU and thread count, kept in the
    /// cache file, and read back from it by the next process.
    func testProductPathLimitIsCachedPerMachine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s2s-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["bench", "products", "--rows", "1", "--vocab", "50", "--emb", "8", "--hidden", "12",
                         "--attention", "10", "--threads", "1", "--repetitions", "1"]
        let environment = ["S2S_CACHE_DIR": directory.path]
        let first = try runProgram(try s2sBinary(), arguments, environment: environment)
        XCTAssertEqual(first.status, 0, first.stderr)
        let cache = directory.appendingPathComponent("product-paths")
        let fields = try String(contentsOf: cache, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t") }
        XCTAssertEqual(fields.count, 1)
        XCTAssertEqual(fields.first?.count, 3)
        XCTAssertEqual(fields.first?[1], "1", "the thread count")
        let limit = try XCTUnwrap(fields.first.flatMap { Int($0[2]) })
        XCTAssertTrue(first.stdout.contains("packed_row_limit=\(limit) "), first.stdout)
        // A limit no measurement gives shows the second process reads the file and does not measure.
        try Data("\(fields[0][0])\t1\t7\n".utf8).write(to: cache)
        let second = try runProgram(try s2sBinary(), arguments, environment: environment)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("packed_row_limit=7 "), second.stdout)
    }
}
