import XCTest

/// Replaced by the real tests of this component.
final class S2SCheckpointPlaceholderTests: XCTestCase {
    func testPlaceholder() {}
}
