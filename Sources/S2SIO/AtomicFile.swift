#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a reader — or a crash at any moment — sees either the old complete
/// file or the new complete file, never a partial one: write to a temporary file in the same
/// folder, fsync it, rename it over the target, fsync the folder. On Linux the temporary is
/// nameless until it is complete, so a process killed mid-write leaves no litter.
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
    /// publishes it with rename. If `body` throws, the temporary file is gone and `path` is
    /// untouched.
    public static func write(to requestedPath: String, _ body: (inout FileWriter) throws -> Void) throws {
        try checkWritable(requestedPath)
        let path = resolvingSymbolicLinks(requestedPath)
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            return try writeInPlace(to: requestedPath, resolved: path, body)
        }
        if let fd = openAnonymousFile(in: directoryOf(path)) {
            return try writeAnonymous(fd, publishingAt: path, body)
        }
        let template = path + ".tmp.XXXXXX"
        var templateBytes = Array(template.utf8CString)
        let fd = templateBytes.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw IOError.cannotWrite(path: path, reason: systemErrorMessage(errno)) }
        let temporaryPath = String(cString: templateBytes)
        do { try writeDurably(fd, name: path, body) } catch {
            close(fd)
            unlink(temporaryPath)
            throw error
        }
        close(fd)
        guard rename(temporaryPath, path) == 0 else {
            let reason = systemErrorMessage(errno)
            unlink(temporaryPath)
            throw IOError.cannotWrite(path: path, reason: reason)
        }
        syncDirectory(of: path)
    }

    /// A nameless file in `directory` (Linux `O_TMPFILE`), or nil where the file system or
    /// kernel has none. A process killed while writing it leaves nothing behind — the kernel
    /// frees an inode that no name links to — whereas a named temporary would stay as litter.
    private static func openAnonymousFile(in directory: String) -> Int32? {
        #if os(Linux)
        // Giving it a name later goes through /proc/self/fd (linkat with AT_EMPTY_PATH needs
        // CAP_DAC_READ_SEARCH); without /proc the named temporary is the way.
        guard access("/proc/self/fd", X_OK) == 0 else { return nil }
        let fd = open(directory, temporaryFileFlag | O_WRONLY | O_CLOEXEC, 0o644)
        return fd >= 0 ? fd : nil
        #else
        return nil
        #endif
    }

    #if os(Linux)
    /// `O_TMPFILE`, which Swift does not import: `__O_TMPFILE | O_DIRECTORY`, where
    /// `__O_TMPFILE` is 0o20000000 on every Linux architecture.
    private static let temporaryFileFlag: Int32 = 0o20000000 | O_DIRECTORY
    #endif

    /// Writes the nameless file `fd`, links it under a temporary name and renames that over
    /// `path`: only a kill between those two calls can leave a temporary behind.
    private static func writeAnonymous(_ fd: Int32, publishingAt path: String,
                                       _ body: (inout FileWriter) throws -> Void) throws {
        defer { close(fd) }
        try writeDurably(fd, name: path, body)
        let handle = "/proc/self/fd/\(fd)"
        var temporaryPath = ""
        var linked = false
        for _ in 0..<16 where !linked {
            temporaryPath = path + ".tmp." + String((0..<6).map { _ in temporaryNameCharacters.randomElement()! })
            linked = linkat(AT_FDCWD, handle, AT_FDCWD, temporaryPath, AT_SYMLINK_FOLLOW) == 0
            if !linked && errno != EEXIST { break }
        }
        guard linked else { throw IOError.cannotWrite(path: path, reason: systemErrorMessage(errno)) }
        guard rename(temporaryPath, path) == 0 else {
            let reason = systemErrorMessage(errno)
            unlink(temporaryPath)
            throw IOError.cannotWrite(path: path, reason: reason)
        }
        syncDirectory(of: path)
    }

    /// Hands `body` a writer on the temporary `fd`, then makes its bytes durable and its mode
    /// the usual 0644 (mkstemp makes 0600), before the file gets its name.
    private static func writeDurably(_ fd: Int32, name path: String, _ body: (inout FileWriter) throws -> Void) throws {
        var writer = FileWriter(fileDescriptor: fd, name: path)
        try body(&writer)
        try writer.flush()
        guard fsync(fd) == 0 else { throw IOError.cannotWrite(path: path, reason: systemErrorMessage(errno)) }
        fchmod(fd, 0o644)
    }

    /// The characters of mkstemp's `XXXXXX`, so both kinds of temporary look alike.
    private static let temporaryNameCharacters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// Makes a rename in `path`'s folder durable.
    private static func syncDirectory(of path: String) {
        let dirFD = open(directoryOf(path), O_RDONLY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    /// The file name a temporary named `name` was to become (`model.s2s` for
    /// `model.s2s.tmp.a1B2c3`), or nil when `name` is no temporary of this writer's.
    public static func targetOfTemporary(named name: String) -> String? {
        guard let marker = name.range(of: ".tmp.", options: .backwards),
              name.distance(from: marker.upperBound, to: name.endIndex) == 6 else { return nil }
        return String(name[..<marker.lowerBound])
    }

    /// Deletes the temporaries that killed writes of `path` left: a kill in the instant between
    /// naming the finished file and renaming it, or anywhere in a write on a file system
    /// without nameless files. Call it only when no other process is writing `path`: before a
    /// command that is about to replace it.
    public static func removeLeftoverTemporaries(of path: String) {
        let resolved = resolvingSymbolicLinks(path)
        let directory = directoryOf(resolved)
        let base = resolved.lastIndex(of: "/").map { String(resolved[resolved.index(after: $0)...]) } ?? resolved
        guard let folder = opendir(directory) else { return }
        defer { closedir(folder) }
        var leftovers: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if targetOfTemporary(named: name) == base { leftovers.append(directory + "/" + name) }
        }
        for leftover in leftovers { unlink(leftover) }
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
