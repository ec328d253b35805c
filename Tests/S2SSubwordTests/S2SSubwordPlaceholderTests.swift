import XCTest

/// Replaced by the real tests of this component.
final class S2SSubwordPlaceholderTests: XCTestCase {
    func testPlaceholder() {}
}
