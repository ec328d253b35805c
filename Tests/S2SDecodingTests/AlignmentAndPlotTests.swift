@testable import S2SDecoding
import XCTest

final class AlignmentAndPlotTests: XCTestCase {
    func testHardAlignmentTakesArgmaxPerTargetPiece() {
        let attention: [[Float]] = [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.2, 0.6, 0.2], [0.5, 0.5, 0]]
        XCTAssertEqual(AlignmentPrinter.format(attention), "0-0 2-1 1-2 0-3")
        XCTAssertEqual(AlignmentPrinter.format([]), "")
    }

    func testSVGHasOneCellPerPairAndEscapedLabels() {
        let svg = AttentionSVG.render(sourcePieces: ["a", "<b>", "c&d"], targetPieces: ["x", "y"],
                                      attention: [[0.5, 0.25, 0.25], [0, 1, 0]], title: "line 1")
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "<title>").count - 1, 6)
        XCTAssertTrue(svg.contains("&lt;b&gt;"))
        XCTAssertTrue(svg.contains("c&amp;d"))
        XCTAssertFalse(svg.contains("<b>"))
        XCTAssertTrue(svg.contains("rgb(8,48,107)"), "α = 1 is the darkest colour")
    }
}
