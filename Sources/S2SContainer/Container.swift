#if canImport(Glibc)
import Glibc
#endif
import Foundation
import S2SIO

/// The binary container shared by model checkpoints (`.s2s`) and prepared corpora (`.s2sd`):
/// a fixed prefix, a JSON header, and named little-endian arrays aligned to 64 bytes, so a
/// reader can memory-map the file and use the arrays in place.
///
/// Layout (all integers little-endian):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic, ASCII, names the kind of file (`S2SMODEL`, `S2SCORPS`) |
/// | 8 | 4 | format version of that kind (UInt32) |
/// | 12 | 4 | header length H in bytes (UInt32, at most 64 MiB) |
/// | 16 | 8 | total file size in bytes (UInt64), so truncation is caught first |
/// | 24 | 4 | CRC-32C of bytes 0..<24 followed by the H header bytes |
/// | 28 | 36 | zero |
/// | 64 | H | header: UTF-8 JSON `{"metadata": {…}, "arrays": [{"name", "dtype", "shape", "offset", "bytes", "crc32c"}]}` |
///
/// Then zero padding to a multiple of 64, and each array at its `offset` (a multiple of 64,
/// from the start of the file), `bytes` long, followed by zero padding to the next multiple
/// of 64. `dtype` is `f32`, `i32`, `i64` or `u8`; `bytes` = product(shape) × element size;
/// `crc32c` covers the array's `bytes`. Arrays appear in the table in file order, each at
/// exactly the first aligned offset after the previous one (no gaps, no overlap), and the
/// file ends right after the last array's padding. The reader checks all of this, and that
/// every reserved or padding byte is zero, so no single byte of a file can change unnoticed.
/// Non-finite floats in the metadata are the JSON strings `"inf"`, `"-inf"` and `"nan"`.
public enum Container {
    /// Every array starts at a multiple of this many bytes (a cache line; AVX-512 friendly).
    public static let alignment = 64
    /// Size of the fixed prefix before the JSON header.
    public static let prefixSize = 64
    /// Largest header a reader accepts, so a corrupt length cannot ask for a huge allocation.
    public static let maxHeaderBytes = 64 << 20

    static func aligned(_ offset: Int) -> Int { (offset + alignment - 1) / alignment * alignment }

    /// The encoder used for headers: sorted keys (so equal metadata gives equal bytes) and
    /// non-finite floats as strings (a diverged run's perplexity is still recordable).
    public static func makeJSONEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// The decoder matching `makeJSONEncoder()`.
    public static func makeJSONDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}

/// The element type of a stored array.
public enum ContainerDType: String, Codable, Sendable {
    case f32, i32, i64, u8

    public var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .i64: return 8
        case .u8: return 1
        }
    }
}

/// One entry of the header's array table.
public struct ArrayEntry: Codable, Equatable, Sendable {
    public var name: String
    public var dtype: ContainerDType
    public var shape: [Int]
    public var offset: Int
    public var bytes: Int
    public var crc32c: UInt32
}

/// A failure to read a container, naming the file and what is wrong with it.
public enum ContainerError: Error, CustomStringConvertible, Equatable {
    case notAContainer(path: String, expected: String)
    case wrongKind(path: String, expected: String, found: String)
    case newerVersion(path: String, version: UInt32, supported: UInt32)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    case headerChecksum(path: String)
    case malformedHeader(path: String, reason: String)
    case arrayChecksum(path: String, array: String)
    case missingArray(path: String, array: String)
    case arrayMismatch(path: String, array: String, reason: String)

    public var description: String {
        switch self {
        case let .notAContainer(path, expected):
            return "\(path): not an s2s \(expected) file (bad magic bytes)"
        case let .wrongKind(path, expected, found):
            return "\(path): is an s2s '\(found)' file, expected '\(expected)'"
        case let .newerVersion(path, version, supported):
            return "\(path): format version \(version) is newer than this s2s supports (\(supported)); upgrade s2s"
        case let .truncated(path, expected, actual):
            return "\(path): truncated: header says \(expected) bytes, file has \(actual)"
        case let .headerChecksum(path):
            return "\(path): header checksum mismatch (file is corrupt)"
        case let .malformedHeader(path, reason):
            return "\(path): malformed header: \(reason)"
        case let .arrayChecksum(path, array):
            return "\(path): checksum mismatch in tensor '\(array)' (file is corrupt)"
        case let .missingArray(path, array):
            return "\(path): missing tensor '\(array)'"
        case let .arrayMismatch(path, array, reason):
            return "\(path): tensor '\(array)': \(reason)"
        }
    }
}

/// Collects metadata and arrays, then writes a container atomically.
///
/// Arrays are copied in when added, so the writer owns everything it will write.
public struct ContainerWriter {
    private let magic: String
    private let version: UInt32
    private var metadataJSON: Data = Data("{}".utf8)
    private var pending: [(name: String, dtype: ContainerDType, shape: [Int], bytes: PendingBytes)] = []

    /// An array's bytes: copied in, or borrowed from memory that `owner` keeps alive.
    private enum PendingBytes {
        case owned([UInt8])
        case borrowed(UnsafeRawBufferPointer, owner: AnyObject)

        var count: Int {
            switch self {
            case let .owned(bytes): return bytes.count
            case let .borrowed(bytes, _): return bytes.count
            }
        }

        func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
            switch self {
            case let .owned(bytes): return try bytes.withUnsafeBytes(body)
            case let .borrowed(bytes, owner): return try withExtendedLifetime(owner) { try body(bytes) }
            }
        }
    }

    /// A writer for a file of kind `magic` (exactly 8 ASCII characters) at `version`.
    public init(magic: String, version: UInt32) {
        precondition(magic.utf8.count == 8, "container magic must be 8 bytes")
        self.magic = magic
        self.version = version
    }

    /// Sets the header's `metadata` object.
    public mutating func setMetadata<Metadata: Encodable>(_ metadata: Metadata) throws {
        metadataJSON = try Container.makeJSONEncoder().encode(metadata)
    }

    /// Adds an array of raw bytes with `dtype` and `shape`.
    public mutating func add(name: String, dtype: ContainerDType, shape: [Int], bytes: UnsafeRawBufferPointer) {
        precondition(shape.reduce(1, *) * dtype.size == bytes.count, "array '\(name)': shape does not match byte count")
        precondition(!pending.contains { $0.name == name }, "array '\(name)' added twice")
        pending.append((name, dtype, shape, .owned(Array(bytes))))
    }

    /// Adds an array without copying it: `bytes` must stay valid and unchanged while `owner`
    /// lives, and the writer keeps `owner` alive. For large arrays (a prepared corpus's tokens)
    /// that would otherwise be held twice while writing.
    public mutating func add(name: String, dtype: ContainerDType, shape: [Int], borrowing bytes: UnsafeRawBufferPointer,
                             owner: AnyObject) {
        precondition(shape.reduce(1, *) * dtype.size == bytes.count, "array '\(name)': shape does not match byte count")
        precondition(!pending.contains { $0.name == name }, "array '\(name)' added twice")
        pending.append((name, dtype, shape, .borrowed(bytes, owner: owner)))
    }

    /// Adds a Float32 array.
    public mutating func add(name: String, shape: [Int], floats: UnsafeBufferPointer<Float>) {
        add(name: name, dtype: .f32, shape: shape, bytes: UnsafeRawBufferPointer(floats))
    }

    /// Adds a Float32 array.
    public mutating func add(name: String, shape: [Int], floats: [Float]) {
        floats.withUnsafeBufferPointer { add(name: name, shape: shape, floats: $0) }
    }

    /// Adds an Int32 array.
    public mutating func add(name: String, shape: [Int], int32s: [Int32]) {
        int32s.withUnsafeBytes { add(name: name, dtype: .i32, shape: shape, bytes: $0) }
    }

    /// Adds an Int64 array.
    public mutating func add(name: String, shape: [Int], int64s: [Int64]) {
        int64s.withUnsafeBytes { add(name: name, dtype: .i64, shape: shape, bytes: $0) }
    }

    /// The complete file, as it would be written.
    public func serialized() throws -> [UInt8] {
        let layout = try self.layout()
        var file = [UInt8](repeating: 0, count: layout.totalSize)
        file.replaceSubrange(0..<layout.prefixAndHeader.count, with: layout.prefixAndHeader)
        for (entry, array) in zip(layout.entries, pending) {
            array.bytes.withUnsafeBytes { file.replaceSubrange(entry.offset..<(entry.offset + entry.bytes), with: $0) }
        }
        return file
    }

    /// Writes the file atomically (temporary sibling, fsync, rename), streaming the arrays
    /// rather than assembling the whole file in memory first.
    public func write(to path: String) throws {
        let layout = try self.layout()
        try AtomicFile.write(to: path) { writer in
            try writer.write(layout.prefixAndHeader)
            var position = layout.prefixAndHeader.count
            for (entry, array) in zip(layout.entries, pending) {
                try writer.writeZeros(entry.offset - position)
                // In slices, so the writer's buffer never holds a whole large array.
                try array.bytes.withUnsafeBytes { bytes in
                    var start = 0
                    while start < bytes.count {
                        let end = min(start + (1 << 20), bytes.count)
                        try writer.write(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                        start = end
                    }
                }
                position = entry.offset + entry.bytes
            }
            try writer.writeZeros(layout.totalSize - position)
        }
    }

    /// The array table with final offsets, the prefix and header bytes, and the file size.
    private func layout() throws -> (entries: [ArrayEntry], prefixAndHeader: [UInt8], totalSize: Int) {
        // Offsets depend on the header's length, which depends on the offsets' digits; iterate
        // until the layout is stable (two passes in practice).
        var entries = pending.map {
            ArrayEntry(name: $0.name, dtype: $0.dtype, shape: $0.shape, offset: 0, bytes: $0.bytes.count,
                       crc32c: $0.bytes.withUnsafeBytes { CRC32C.checksum($0) })
        }
        var header: [UInt8] = []
        for _ in 0..<8 {
            header = try headerBytes(entries)
            var offset = Container.aligned(Container.prefixSize + header.count)
            var changed = false
            for i in entries.indices {
                if entries[i].offset != offset { entries[i].offset = offset; changed = true }
                offset = Container.aligned(offset + entries[i].bytes)
            }
            if !changed { break }
        }
        header = try headerBytes(entries)
        precondition(header.count <= Container.maxHeaderBytes, "container header exceeds \(Container.maxHeaderBytes) bytes")
        let dataStart = Container.aligned(Container.prefixSize + header.count)
        let totalSize = entries.last.map { Container.aligned($0.offset + $0.bytes) } ?? dataStart

        var prefix = [UInt8](repeating: 0, count: Container.prefixSize)
        prefix.replaceSubrange(0..<8, with: Array(magic.utf8))
        store(version, at: 8, in: &prefix)
        store(UInt32(header.count), at: 12, in: &prefix)
        store(UInt64(totalSize), at: 16, in: &prefix)
        var crc = CRC32C.checksum(Array(prefix[0..<24]))
        crc = CRC32C.checksum(header, continuing: crc)
        store(crc, at: 24, in: &prefix)
        return (entries, prefix + header, totalSize)
    }

    private func headerBytes(_ entries: [ArrayEntry]) throws -> [UInt8] {
        let arrays = try Container.makeJSONEncoder().encode(entries)
        var json = Data("{\"arrays\":".utf8)
        json.append(arrays)
        json.append(Data(",\"metadata\":".utf8))
        json.append(metadataJSON)
        json.append(Data("}".utf8))
        return Array(json)
    }

    private func store<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for i in 0..<raw.count { bytes[offset + i] = raw[i] }
        }
    }
}

/// Opens a container by memory-mapping it and checks everything before handing out data:
/// magic, version, size, header checksum, array table bounds and every array's checksum.
public final class ContainerReader: @unchecked Sendable {
    /// The path, for messages.
    public let path: String
    /// The format version the file was written with.
    public let version: UInt32
    /// The array table, in file order.
    public let arrays: [ArrayEntry]
    /// The header's `metadata` object, re-serialized (for display; `metadata(_:)` decodes
    /// from the original bytes, so 64-bit integers and floats stay exact).
    public var metadataJSON: Data {
        guard let object = try? JSONSerialization.jsonObject(with: headerJSON) as? [String: Any],
              let metadata = object["metadata"],
              let data = try? JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys, .fragmentsAllowed])
        else { return Data("{}".utf8) }
        return data
    }
    /// The header's JSON text exactly as stored.
    public let headerJSON: Data
    /// File size in bytes.
    public let fileSize: Int

    private let base: UnsafeRawPointer
    private let mappedLength: Int

    private struct TableAndMetadata: Decodable { var arrays: [ArrayEntry]; var metadata: Present? }
    /// Any JSON value other than null, skipped unparsed (its owner decodes it later).
    private struct Present: Decodable { init(from decoder: Decoder) throws {} }
    private struct MetadataOnly<Metadata: Decodable>: Decodable { var metadata: Metadata }

    /// Opens `path`, which must be of kind `magic` at a version no newer than `supportedVersion`.
    /// Array checksums are verified here unless `verifyArrays` is false.
    public init(path: String, magic: String, supportedVersion: UInt32, verifyArrays: Bool = true) throws {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else { throw IOError.cannotOpen(path: path, reason: systemErrorMessage(errno)) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw IOError.isDirectory(path: path) }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw IOError.cannotOpen(path: path, reason: systemErrorMessage(errno)) }
        defer { close(fd) }
        let size = Int(info.st_size)
        fileSize = size
        guard size >= Container.prefixSize else {
            throw ContainerError.notAContainer(path: path, expected: magic)
        }
        // When every array is about to be checksummed, map all pages at once rather than
        // taking a page fault per 4 KiB.
        #if os(Linux)
        let flags = MAP_PRIVATE | (verifyArrays ? MAP_POPULATE : 0)
        #else
        let flags = MAP_PRIVATE
        #endif
        guard let mapped = mmap(nil, size, PROT_READ, flags, fd, 0), mapped != MAP_FAILED else {
            throw IOError.readFailed(path: path, reason: systemErrorMessage(errno))
        }
        do {
            let parsed = try Self.check(UnsafeRawBufferPointer(start: mapped, count: size), path: path, magic: magic,
                                        supportedVersion: supportedVersion, verifyArrays: verifyArrays)
            version = parsed.version
            arrays = parsed.arrays
            headerJSON = parsed.header
        } catch {
            munmap(mapped, size)
            throw error
        }
        base = UnsafeRawPointer(mapped)
        mappedLength = size
    }

    /// Checks a whole file image and returns its version, array table and header JSON; `path`
    /// is only used in messages. Never traps on any input (the fuzz target calls this).
    public static func check(_ bytes: UnsafeRawBufferPointer, path: String, magic: String,
                             supportedVersion: UInt32, verifyArrays: Bool = true)
        throws -> (version: UInt32, arrays: [ArrayEntry], header: Data) {
        let size = bytes.count
        guard size >= Container.prefixSize else {
            throw ContainerError.notAContainer(path: path, expected: magic)
        }
        let foundMagic = Array(bytes[0..<8])
        let storedVersion = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        let headerLength = Int(bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian)
        let declaredSize = bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian
        let storedCRC = bytes.loadUnaligned(fromByteOffset: 24, as: UInt32.self).littleEndian
        guard foundMagic == Array(magic.utf8) else {
            let printable = foundMagic.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
            if foundMagic.starts(with: Array("S2S".utf8)), printable {
                throw ContainerError.wrongKind(path: path, expected: magic, found: String(decoding: foundMagic, as: UTF8.self))
            }
            throw ContainerError.notAContainer(path: path, expected: magic)
        }
        guard storedVersion <= supportedVersion else {
            throw ContainerError.newerVersion(path: path, version: storedVersion, supported: supportedVersion)
        }
        guard declaredSize == UInt64(size) else {
            if declaredSize > UInt64(size) {
                throw ContainerError.truncated(path: path, expectedBytes: Int(min(declaredSize, UInt64(Int.max))), actualBytes: size)
            }
            throw ContainerError.malformedHeader(path: path, reason: "declared size \(declaredSize) ≠ file size \(size)")
        }
        guard headerLength <= Container.maxHeaderBytes, Container.prefixSize + headerLength <= size else {
            throw ContainerError.malformedHeader(path: path, reason: "header length \(headerLength) out of range")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[Container.prefixSize..<(Container.prefixSize + headerLength)])
        var crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<24]))
        crc = CRC32C.checksum(headerBytes, continuing: crc)
        guard crc == storedCRC else { throw ContainerError.headerChecksum(path: path) }
        guard isZero(bytes, 28..<Container.prefixSize) else {
            throw ContainerError.malformedHeader(path: path, reason: "reserved bytes 28..<64 are not zero")
        }
        let headerData = Data(headerBytes)
        let table: [ArrayEntry]
        do {
            let parsed = try Container.makeJSONDecoder().decode(TableAndMetadata.self, from: headerData)
            guard parsed.metadata != nil else {
                throw ContainerError.malformedHeader(path: path, reason: "no metadata object")
            }
            table = parsed.arrays
        } catch let error as ContainerError {
            throw error
        } catch {
            throw ContainerError.malformedHeader(path: path, reason: Self.describe(error))
        }
        var seen = Set<String>()
        // Each array must start exactly where the previous one's padding ends, so arrays never
        // overlap and every byte between them is accounted for (and checked to be zero).
        var expectedOffset = Container.aligned(Container.prefixSize + headerLength)
        guard expectedOffset <= size, isZero(bytes, (Container.prefixSize + headerLength)..<expectedOffset) else {
            throw ContainerError.malformedHeader(path: path, reason: "header padding is not zero")
        }
        for entry in table {
            guard seen.insert(entry.name).inserted else {
                throw ContainerError.malformedHeader(path: path, reason: "tensor '\(entry.name)' listed twice")
            }
            var elements = 1
            for dimension in entry.shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard dimension >= 0, !overflow else {
                    throw ContainerError.arrayMismatch(path: path, array: entry.name, reason: "invalid shape \(entry.shape)")
                }
                elements = product
            }
            let (byteCount, overflow) = elements.multipliedReportingOverflow(by: entry.dtype.size)
            guard !overflow, byteCount == entry.bytes else {
                throw ContainerError.arrayMismatch(path: path, array: entry.name,
                                                   reason: "shape \(entry.shape) does not match \(entry.bytes) bytes")
            }
            guard entry.offset == expectedOffset, entry.bytes >= 0, entry.bytes <= size,
                  entry.offset <= size - entry.bytes else {
                throw ContainerError.arrayMismatch(path: path, array: entry.name,
                                                   reason: "offset \(entry.offset) out of range (expected \(expectedOffset))")
            }
            let end = entry.offset + entry.bytes
            expectedOffset = Container.aligned(end)
            guard expectedOffset <= size, isZero(bytes, end..<expectedOffset) else {
                throw ContainerError.arrayMismatch(path: path, array: entry.name, reason: "padding after it is not zero")
            }
            if verifyArrays {
                let data = UnsafeRawBufferPointer(rebasing: bytes[entry.offset..<(entry.offset + entry.bytes)])
                guard CRC32C.checksum(data) == entry.crc32c else {
                    throw ContainerError.arrayChecksum(path: path, array: entry.name)
                }
            }
        }
        guard expectedOffset == size else {
            throw ContainerError.malformedHeader(path: path, reason: "\(size - expectedOffset) unexpected bytes after the last tensor")
        }
        return (storedVersion, table, headerData)
    }

    private static func isZero(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        range.allSatisfy { bytes[$0] == 0 }
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), mappedLength) }

    /// Decodes the header's metadata object.
    public func metadata<Metadata: Decodable>(_ type: Metadata.Type) throws -> Metadata {
        do {
            return try Container.makeJSONDecoder().decode(MetadataOnly<Metadata>.self, from: headerJSON).metadata
        } catch {
            throw ContainerError.malformedHeader(path: path, reason: "metadata: \(Self.describe(error))")
        }
    }

    /// The table entry for `name`, if present.
    public func entry(_ name: String) -> ArrayEntry? { arrays.first { $0.name == name } }

    /// The raw bytes of array `name`, valid while the reader lives.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let entry = entry(name) else { throw ContainerError.missingArray(path: path, array: name) }
        return UnsafeRawBufferPointer(start: base + entry.offset, count: entry.bytes)
    }

    /// Array `name` as typed elements, checked for dtype and (if given) shape; valid while the
    /// reader lives. Arrays are 64-byte aligned, so the typed view is properly aligned.
    public func view<Element>(_ name: String, as type: Element.Type, dtype: ContainerDType,
                              shape expected: [Int]? = nil) throws -> UnsafeBufferPointer<Element> {
        guard let entry = entry(name) else { throw ContainerError.missingArray(path: path, array: name) }
        guard entry.dtype == dtype else {
            throw ContainerError.arrayMismatch(path: path, array: name, reason: "dtype \(entry.dtype.rawValue), expected \(dtype.rawValue)")
        }
        if let expected, expected != entry.shape {
            throw ContainerError.arrayMismatch(path: path, array: name, reason: "shape \(entry.shape), expected \(expected)")
        }
        let pointer = (base + entry.offset).assumingMemoryBound(to: Element.self)
        return UnsafeBufferPointer(start: pointer, count: entry.bytes / MemoryLayout<Element>.size)
    }

    /// Float32 array `name`.
    public func floats(_ name: String, shape: [Int]? = nil) throws -> UnsafeBufferPointer<Float> {
        try view(name, as: Float.self, dtype: .f32, shape: shape)
    }

    /// Int32 array `name`.
    public func int32s(_ name: String, shape: [Int]? = nil) throws -> UnsafeBufferPointer<Int32> {
        try view(name, as: Int32.self, dtype: .i32, shape: shape)
    }

    /// Int64 array `name`.
    public func int64s(_ name: String, shape: [Int]? = nil) throws -> UnsafeBufferPointer<Int64> {
        try view(name, as: Int64.self, dtype: .i64, shape: shape)
    }

    private static func describe(_ error: Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case let .keyNotFound(key, _): return "missing key '\(key.stringValue)'"
            case let .dataCorrupted(context) where context.codingPath.isEmpty: return "invalid JSON"
            case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                return "bad value at '\(path)'"
            @unknown default: return "undecodable"
            }
        }
        return String(describing: error).replacingOccurrences(of: "\n", with: " ")
    }
}
