import XCTest

/// Replaced by the real tests of this component.
final class S2SModelPlaceholderTests: XCTestCase {
    func testPlaceholder() {}
}
