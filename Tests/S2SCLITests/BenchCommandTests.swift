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
}
