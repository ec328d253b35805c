import Foundation
import XCTest
@testable import S2SContainer
@testable import S2SIO

final class ContainerTests: XCTestCase {
    struct Meta: Codable, Equatable { var name: String; var size: Int }

    private func sample() throws -> ContainerWriter {
        var writer = ContainerWriter(magic: "S2STEST!", version: 1)
        try writer.setMetadata(Meta(name: "tiny", size: 3))
        writer.add(name: "w", shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        writer.add(name: "ids", shape: [4], int32s: [7, 8, 9, 10])
        writer.add(name: "offsets", shape: [2], int64s: [0, 1 << 40])
        return writer
    }

    private func temporaryPath() -> String { NSTemporaryDirectory() + "s2s-container-\(UUID().uuidString)" }

    func testRoundTrip() throws {
        let path = temporaryPath()
        defer { unlink(path) }
        try sample().write(to: path)
        let reader = try ContainerReader(path: path, magic: "S2STEST!", supportedVersion: 1)
        XCTAssertEqual(try reader.metadata(Meta.self), Meta(name: "tiny", size: 3))
        XCTAssertEqual(Array(try reader.floats("w", shape: [2, 3])), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Array(try reader.int32s("ids")), [7, 8, 9, 10])
        XCTAssertEqual(Array(try reader.int64s("offsets")), [0, 1 << 40])
        for entry in reader.arrays { XCTAssertEqual(entry.offset % 64, 0) }
        XCTAssertThrowsError(try reader.floats("w", shape: [3, 2]))
        XCTAssertThrowsError(try reader.floats("missing"))
    }

    /// The streamed write produces exactly the bytes `serialized()` assembles in memory.
    func testStreamedWriteMatchesSerialized() throws {
        let path = temporaryPath()
        defer { unlink(path) }
        try sample().write(to: path)
        XCTAssertEqual(Array(FileManager.default.contents(atPath: path) ?? Data()), try sample().serialized())
    }

    /// Every single-byte corruption (padding included: it must be zero) and every truncation
    /// or extension is a clean error.
    func testCorruptionIsAlwaysACleanError() throws {
        let bytes = try sample().serialized()
        let path = temporaryPath()
        defer { unlink(path) }
        for position in 0..<bytes.count {
            var damaged = bytes
            damaged[position] ^= 0x5A
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try ContainerReader(path: path, magic: "S2STEST!", supportedVersion: 1), "byte \(position)") {
                XCTAssertTrue($0 is ContainerError, "byte \(position): \($0)")
            }
        }
        try Data(bytes + [0]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ContainerReader(path: path, magic: "S2STEST!", supportedVersion: 1))
        for length in stride(from: 0, to: bytes.count, by: 7) {
            try Data(bytes.prefix(length)).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try ContainerReader(path: path, magic: "S2STEST!", supportedVersion: 1), "length \(length)")
        }
    }

    func testKindAndVersionErrors() throws {
        let path = temporaryPath()
        defer { unlink(path) }
        try sample().write(to: path)
        XCTAssertThrowsError(try ContainerReader(path: path, magic: "S2SMODEL", supportedVersion: 1)) { error in
            XCTAssertEqual(error as? ContainerError, .wrongKind(path: path, expected: "S2SMODEL", found: "S2STEST!"))
        }
        var newer = ContainerWriter(magic: "S2STEST!", version: 9)
        try newer.setMetadata(Meta(name: "x", size: 1))
        try newer.write(to: path)
        XCTAssertThrowsError(try ContainerReader(path: path, magic: "S2STEST!", supportedVersion: 1)) { error in
            XCTAssertEqual(error as? ContainerError, .newerVersion(path: path, version: 9, supported: 1))
        }
    }

    /// The streamed write and the in-memory image are the same bytes.
    func testWriteMatchesSerialized() throws {
        let path = temporaryPath()
        defer { unlink(path) }
        let writer = try sample()
        try writer.write(to: path)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), try writer.serialized())
    }

    /// 64-bit integers, non-finite floats and arbitrary JSON survive the header exactly.
    func testMetadataIsExact() throws {
        struct Exact: Codable, Equatable {
            var seed: UInt64; var negative: Int64; var loss: Double; var ratio: Float; var blob: JSONValue
        }
        let blob = try JSONValue(encoding: ["position": [UInt64.max, 3], "shard": [7]])
        let value = Exact(seed: UInt64.max - 12345, negative: Int64.min + 1, loss: .infinity, ratio: 0.1, blob: blob)
        var writer = ContainerWriter(magic: "S2STEST!", version: 1)
        try writer.setMetadata(value)
        let path = temporaryPath()
        defer { unlink(path) }
        try writer.write(to: path)
        let read = try ContainerReader(path: path, magic: "S2STEST!", supportedVersion: 1).metadata(Exact.self)
        XCTAssertEqual(read, value)
        XCTAssertEqual(try read.blob.decode(as: [String: [UInt64]].self), ["position": [UInt64.max, 3], "shard": [7]])
    }

    /// A correctly checksummed header nested 200,000 levels deep is an error, not a stack overflow.
    func testDeeplyNestedHeaderIsAnError() throws {
        let depth = 200_000
        let header = Array(("{\"arrays\":[],\"metadata\":" + String(repeating: "[", count: depth)
            + String(repeating: "]", count: depth) + "}").utf8)
        let total = (64 + header.count + 63) / 64 * 64
        var file = [UInt8](repeating: 0, count: total)
        file.replaceSubrange(0..<8, with: Array("S2STEST!".utf8))
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { file.replaceSubrange(offset..<(offset + $0.count), with: $0) }
        }
        put(UInt32(1), at: 8)
        put(UInt32(header.count), at: 12)
        put(UInt64(total), at: 16)
        put(CRC32C.checksum(header, continuing: CRC32C.checksum(Array(file[0..<24]))), at: 24)
        file.replaceSubrange(64..<(64 + header.count), with: header)
        XCTAssertThrowsError(try file.withUnsafeBytes {
            try ContainerReader.check($0, path: "deep", magic: "S2STEST!", supportedVersion: 1)
        }) { error in
            guard case .malformedHeader("deep", _)? = error as? ContainerError else { return XCTFail("\(error)") }
        }
    }

    func testCRC32CKnownValue() {
        // RFC 3720 test vector: 32 bytes of zeros.
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        [UInt8](repeating: 0, count: 32).withUnsafeBytes { XCTAssertEqual(CRC32C.tableChecksum($0), 0x8A91_36AA) }
    }

    /// The CPU's instruction and the tables agree on every length and alignment, and when a
    /// checksum continues over pieces.
    func testCRC32CInstructionAgreesWithTheTables() {
        #if arch(x86_64)
        XCTAssertTrue(CRC32C.hardware, "every x86-64 CPU with AVX2 has SSE 4.2's crc32")
        #endif
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<300).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        bytes.withUnsafeBytes { all in
            for start in 0..<9 {
                for count in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 100, 291 - start] {
                    let piece = UnsafeRawBufferPointer(rebasing: all[start..<(start + count)])
                    XCTAssertEqual(CRC32C.checksum(piece), CRC32C.tableChecksum(piece), "start \(start) count \(count)")
                }
            }
            let head = UnsafeRawBufferPointer(rebasing: all[0..<13]), tail = UnsafeRawBufferPointer(rebasing: all[13...])
            XCTAssertEqual(CRC32C.checksum(tail, continuing: CRC32C.checksum(head)), CRC32C.tableChecksum(all))
        }
    }
}
