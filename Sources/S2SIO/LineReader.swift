#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// What to do with a line that is not valid UTF-8.
public enum InvalidUTF8Policy: Sendable {
    /// Throw `IOError.invalidUTF8` naming the file and line.
    case fail
    /// Replace each invalid sequence with U+FFFD (`--lossy`).
    case replace
}

/// Reads a text stream line by line, fast and with bounded memory: a file, a gzipped file
/// (detected by its magic bytes, whatever its name), or standard input (`-`).
///
/// Lines are split on `\n` only; a trailing `\r` is removed, and so is a UTF-8 byte-order
/// mark at the start of the stream. A last line without a final newline is still a line.
/// Lines of any length work: the buffer grows to hold the longest line.
public final class LineReader {
    /// The name used in messages: the path, or `<stdin>`.
    public let name: String
    /// The 1-based number of the line most recently returned (0 before the first).
    public private(set) var lineNumber = 0

    private enum Source {
        case descriptor(Int32, ownsDescriptor: Bool)
        case gzip(gzFile)
    }
    private var source: Source
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Valid bytes are buffer[start..<end].
    private var start = 0
    private var end = 0
    private var reachedEOF = false
    private static let chunkSize = 1 << 20

    /// Opens `path` for reading; `-` means standard input. Gzip is detected by content.
    public init(path: String) throws {
        if path == "-" {
            name = "<stdin>"
            source = .descriptor(STDIN_FILENO, ownsDescriptor: false)
        } else {
            name = path
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw IOError.cannotOpen(path: path, reason: systemErrorMessage(errno))
            }
            if (info.st_mode & S_IFMT) == S_IFDIR { throw IOError.isDirectory(path: path) }
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw IOError.cannotOpen(path: path, reason: systemErrorMessage(errno)) }
            var magic: (UInt8, UInt8) = (0, 0)
            let got = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) }
            if got == 2 && magic.0 == 0x1F && magic.1 == 0x8B {
                guard let gz = gzdopen(fd, "rb") else {
                    close(fd)
                    throw IOError.cannotOpen(path: path, reason: "gzdopen failed")
                }
                gzbuffer(gz, 1 << 18)
                source = .gzip(gz)
            } else {
                source = .descriptor(fd, ownsDescriptor: true)
            }
        }
        capacity = Self.chunkSize * 2
        buffer = .allocate(capacity: capacity)
    }

    /// Reads from an already open descriptor, which the reader does not close.
    public init(fileDescriptor: Int32, name: String) {
        self.name = name
        source = .descriptor(fileDescriptor, ownsDescriptor: false)
        capacity = Self.chunkSize * 2
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        switch source {
        case let .descriptor(fd, owns): if owns { close(fd) }
        case let .gzip(gz): gzclose(gz)
        }
        buffer.deallocate()
    }

    /// The next line's bytes (without `\n`, trailing `\r` or leading BOM), or nil at the end.
    /// The buffer is valid only until the next call.
    public func nextLineBytes() throws -> UnsafeBufferPointer<UInt8>? {
        var searchFrom = start
        while true {
            if let newline = findNewline(from: searchFrom) {
                let line = takeLine(upTo: newline, consumed: newline + 1)
                return line
            }
            if reachedEOF {
                if start == end { return nil }
                return takeLine(upTo: end, consumed: end)
            }
            searchFrom = end
            let shift = start
            try fill()
            searchFrom -= shift
        }
    }

    /// The next line decoded as a String, or nil at the end of the stream.
    public func nextLine(invalidUTF8 policy: InvalidUTF8Policy = .fail) throws -> String? {
        guard let bytes = try nextLineBytes() else { return nil }
        if let string = String(validating: bytes, as: UTF8.self) { return string }
        switch policy {
        case .fail: throw IOError.invalidUTF8(path: name, line: lineNumber)
        case .replace: return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Every remaining line, decoded.
    public func readAllLines(invalidUTF8 policy: InvalidUTF8Policy = .fail) throws -> [String] {
        var lines: [String] = []
        while let line = try nextLine(invalidUTF8: policy) { lines.append(line) }
        return lines
    }

    /// True when a complete line is already buffered, so `nextLine` will not block.
    public var hasBufferedLine: Bool {
        findNewline(from: start) != nil || (reachedEOF && start < end)
    }

    /// True when reading would not block: a line is buffered, the stream has ended, or the
    /// descriptor has data ready. Lets an interactive filter flush a partial batch.
    public func canReadWithoutBlocking() -> Bool {
        if hasBufferedLine || reachedEOF { return true }
        switch source {
        case .gzip: return true
        case let .descriptor(fd, _):
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            return poll(&pfd, 1, 0) > 0
        }
    }

    private func findNewline(from index: Int) -> Int? {
        guard index < end else { return nil }
        let found = memchr(buffer + index, 0x0A, end - index)
        return found.map { $0.assumingMemoryBound(to: UInt8.self) - buffer }
    }

    private func takeLine(upTo lineEnd: Int, consumed: Int) -> UnsafeBufferPointer<UInt8> {
        var lineStart = start
        var stop = lineEnd
        if lineNumber == 0, stop - lineStart >= 3,
           buffer[lineStart] == 0xEF, buffer[lineStart + 1] == 0xBB, buffer[lineStart + 2] == 0xBF {
            lineStart += 3
        }
        if stop > lineStart && buffer[stop - 1] == 0x0D { stop -= 1 }
        start = consumed
        lineNumber += 1
        return UnsafeBufferPointer(start: buffer + lineStart, count: stop - lineStart)
    }

    /// Moves unread bytes to the front, grows the buffer if a line fills it, and reads a chunk.
    private func fill() throws {
        if start > 0 {
            let pending = end - start
            if pending > 0 { memmove(buffer, buffer + start, pending) }
            start = 0
            end = pending
        }
        if capacity - end < Self.chunkSize {
            let newCapacity = capacity * 2
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = grown
            capacity = newCapacity
        }
        let room = capacity - end
        switch source {
        case let .descriptor(fd, _):
            var got: Int
            repeat { got = read(fd, buffer + end, room) } while got < 0 && errno == EINTR
            if got < 0 { throw IOError.readFailed(path: name, reason: systemErrorMessage(errno)) }
            if got == 0 { reachedEOF = true } else { end += got }
        case let .gzip(gz):
            let got = gzread(gz, buffer + end, UInt32(min(room, Int(Int32.max))))
            if got < 0 {
                var code: Int32 = 0
                let message = gzerror(gz, &code).map { String(cString: $0) } ?? "unknown error"
                throw IOError.corruptGzip(path: name, reason: message)
            }
            if got == 0 {
                // gzread returns 0 both at a clean end and at a truncated stream; zlib reports
                // the latter through gzerror as Z_BUF_ERROR ("unexpected end of file").
                var code: Int32 = 0
                let message = gzerror(gz, &code).map { String(cString: $0) } ?? ""
                if code != Z_OK && code != Z_STREAM_END {
                    throw IOError.corruptGzip(path: name, reason: message)
                }
                reachedEOF = true
            } else {
                end += Int(got)
            }
        }
    }
}
