#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a reader — or a crash at any moment — sees either the old complete
/// file or the new complete file, never a partial one: write to a temporary file in the same
/// folder, fsync it, rename it over the target, fsync the folder.
///
/// Only a regular file can be replaced that way. A path that names something else — a device
/// (`/dev/null`), a FIFO, `/dev/stdout` — is written in place, as `cat > path` would, and
/// never replaced by a regular file; a symbolic link has its target replaced, not the link.
public enum AtomicFile {
    /// Fails now, before any long work, if `path` could not be written later: its folder must
    /// exist and be writable, `path` must not be a directory, and it must not be the same file
    /// (through any name or link) as one of `inputs` — replacing an input, as in
    /// `s2s vocab corpus.en -o corpus.en`, would lose it.
    public static func checkWritable(_ path: String, notAnyOf inputs: [String] = []) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFDIR: throw IOError.isDirectory(path: path)
            case S_IFREG:
                for input in inputs where input != "-" {
                    var inputInfo = stat()
                    if stat(input, &inputInfo) == 0 && inputInfo.st_dev == info.st_dev && inputInfo.st_ino == info.st_ino {
                        throw IOError.outputIsInput(path: path, input: input)
                    }
                }
            default:  // written in place: the folder does not matter, the device or FIFO does
                guard access(path, W_OK) == 0 else {
                    throw IOError.cannotWrite(path: path, reason: systemErrorMessage(errno))
                }
                return
            }
        }
        let directory = directoryOf(resolvingSymbolicLinks(path))
        guard access(directory, W_OK) == 0 else {
            throw IOError.cannotWrite(path: path, reason: "folder '\(directory)': \(systemErrorMessage(errno))")
        }
    }

    /// Writes the file by handing `body` a buffered writer on a temporary sibling, then
    /// publishes it with rename. If `body` throws, the temporary file is removed and `path` is
    /// untouched.
    public static func write(to requestedPath: String, _ body: (inout FileWriter) throws -> Void) throws {
        try checkWritable(requestedPath)
        let path = resolvingSymbolicLinks(requestedPath)
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            return try writeInPlace(to: requestedPath, resolved: path, body)
        }
        let template = path + ".tmp.XXXXXX"
        var templateBytes = Array(template.utf8CString)
        let fd = templateBytes.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw IOError.cannotWrite(path: path, reason: systemErrorMessage(errno)) }
        let temporaryPath = String(cString: templateBytes)
        var writer = FileWriter(fileDescriptor: fd, name: path)
        do {
            try body(&writer)
            try writer.flush()
            guard fsync(fd) == 0 else { throw IOError.cannotWrite(path: path, reason: systemErrorMessage(errno)) }
            fchmod(fd, 0o644)
            close(fd)
            guard rename(temporaryPath, path) == 0 else {
                throw IOError.cannotWrite(path: path, reason: systemErrorMessage(errno))
            }
        } catch {
            close(fd)
            unlink(temporaryPath)
            throw error
        }
        let dirFD = open(directoryOf(path), O_RDONLY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    /// Writes into what `resolved` names (a device, a FIFO) without replacing it.
    private static func writeInPlace(to path: String, resolved: String,
                                     _ body: (inout FileWriter) throws -> Void) throws {
        let fd = open(resolved, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw IOError.cannotWrite(path: path, reason: systemErrorMessage(errno)) }
        defer { close(fd) }
        var writer = FileWriter(fileDescriptor: fd, name: path)
        try body(&writer)
        try writer.flush()
    }

    /// The file a symbolic link finally names (the path itself when it is none, or dangles:
    /// then the link's target is created where it points, as other tools do).
    static func resolvingSymbolicLinks(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return path }
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &target, target.count - 1)
        guard length > 0 else { return path }
        let link = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return link.hasPrefix("/") ? link : directoryOf(path) + "/" + link
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: some Collection<UInt8>, to path: String) throws {
        try write(to: path) { try $0.write(Array(bytes)) }
    }

    /// Writes `text` to `path` atomically.
    public static func write(text: String, to path: String) throws {
        try write(to: path) { try $0.write(text) }
    }

    static func directoryOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}

/// A buffered writer over a file descriptor, for whole files and for stdout.
public struct FileWriter {
    public let fileDescriptor: Int32
    /// Name used in error messages.
    public let name: String
    /// Bytes written so far (flushed or not).
    public private(set) var bytesWritten = 0
    private var pending: [UInt8] = []
    private let flushThreshold = 1 << 20

    public init(fileDescriptor: Int32, name: String) {
        self.fileDescriptor = fileDescriptor
        self.name = name
        pending.reserveCapacity(flushThreshold)
    }

    /// Appends raw bytes.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        pending.append(contentsOf: bytes)
        bytesWritten += bytes.count
        if pending.count >= flushThreshold { try flush() }
    }

    /// Appends raw bytes.
    public mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends UTF-8 text.
    public mutating func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `count` zero bytes (alignment padding).
    public mutating func writeZeros(_ count: Int) throws {
        if count > 0 { try write([UInt8](repeating: 0, count: count)) }
    }

    /// Sends buffered bytes to the descriptor.
    public mutating func flush() throws {
        var offset = 0
        while offset < pending.count {
            let written = pending.withUnsafeBytes { raw in
                Glibc.write(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw IOError.cannotWrite(path: name, reason: systemErrorMessage(errno))
            }
            offset += written
        }
        pending.removeAll(keepingCapacity: true)
    }
}
