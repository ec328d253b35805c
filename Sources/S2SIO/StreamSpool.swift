import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A stream kept on disk so that it can be read more than once — `train --tsv -` learns its
/// vocabulary from the pairs and then encodes them — without holding it in memory.
public final class StreamSpool {
    /// The copy: a temporary file, removed by `remove()` (or when the spool is released).
    public let path: String

    /// Copies all of `fileDescriptor` (stdin by default) into a new file in the temporary
    /// folder (`$TMPDIR`, else /tmp). A full disk or a read error is thrown naming `name`.
    public init(fileDescriptor: Int32 = 0, name: String = "<stdin>") throws {
        let folder = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(folder)/s2s-stdin-copy.XXXXXX".utf8CString)
        let output = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard output >= 0 else {
            throw IOError.cannotWrite(path: "\(folder)/s2s-stdin-copy", reason: systemErrorMessage(errno))
        }
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        do {
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw IOError.readFailed(path: name, reason: systemErrorMessage(errno))
                }
                if count == 0 { break }
                var written = 0
                while written < count {
                    let n = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, count - written) }
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw IOError.cannotWrite(path: path, reason: "copying \(name): \(systemErrorMessage(errno))")
                    }
                    written += n
                }
            }
        } catch {
            unlink(path)
            throw error
        }
    }

    public func remove() { unlink(path) }

    deinit { unlink(path) }
}
