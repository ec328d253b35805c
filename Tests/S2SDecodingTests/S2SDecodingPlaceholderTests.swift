import XCTest

/// Replaced by the real tests of this component.
final class S2SDecodingPlaceholderTests: XCTestCase {
    func testPlaceholder() {}
}
