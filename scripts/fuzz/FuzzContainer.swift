// libFuzzer entry point for the container reader: every input must be either accepted or
// rejected with a ContainerError — never a trap, an out-of-bounds read (AddressSanitizer
// watches) or a huge allocation (libFuzzer's -rss_limit_mb/-malloc_limit_mb watch).
// Compiled together with Sources/S2SContainer by scripts/fuzz/fuzz.sh.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContainerReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(UnsafeRawBufferPointer(start: data, count: size))
    // Random mutations almost never keep the header checksum and the size field right, which
    // would leave the JSON and table checks unexplored: also try a copy with both repaired.
    if size >= Container.prefixSize {
        var repaired = Array(UnsafeRawBufferPointer(start: data, count: size))
        withUnsafeBytes(of: UInt64(size).littleEndian) { repaired.replaceSubrange(16..<24, with: $0) }
        let headerLength = Int(UInt32(repaired[12]) | UInt32(repaired[13]) << 8 | UInt32(repaired[14]) << 16 | UInt32(repaired[15]) << 24)
        if headerLength <= size - Container.prefixSize {
            var crc = CRC32C.checksum(Array(repaired[0..<24]))
            crc = CRC32C.checksum(Array(repaired[Container.prefixSize..<(Container.prefixSize + headerLength)]), continuing: crc)
            withUnsafeBytes(of: crc.littleEndian) { repaired.replaceSubrange(24..<28, with: $0) }
            repaired.withUnsafeBytes { check($0) }
        }
    }
    return 0
}

private func check(_ bytes: UnsafeRawBufferPointer) {
    let size = bytes.count
    for magic in ["S2SMODEL", "S2SSTATE"] {
        guard let parsed = try? ContainerReader.check(bytes, path: "fuzz", magic: magic, supportedVersion: 1) else {
            continue
        }
        // An accepted file: its metadata must decode as generic JSON, and every array must lie
        // inside the input (touch the first and last byte so ASan checks the bounds).
        struct Header: Decodable { var metadata: JSONValue }
        _ = try? Container.makeJSONDecoder().decode(Header.self, from: parsed.header)
        for entry in parsed.arrays where entry.bytes > 0 {
            precondition(entry.offset >= 0 && entry.offset + entry.bytes <= size, "array outside the file")
            _ = bytes[entry.offset] &+ bytes[entry.offset + entry.bytes - 1]
        }
    }
}
