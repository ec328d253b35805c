/// A file-level failure, described in one line that names the file (and line, where one applies).
public enum IOError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case isDirectory(path: String)
    case readFailed(path: String, reason: String)
    case corruptGzip(path: String, reason: String)
    case invalidUTF8(path: String, line: Int)
    case cannotWrite(path: String, reason: String)
    /// The output names the same file as an input (`input`, as the command line gave it).
    case outputIsInput(path: String, input: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "\(path): cannot open: \(reason)"
        case let .isDirectory(path): return "\(path): is a directory, expected a file"
        case let .readFailed(path, reason): return "\(path): read failed: \(reason)"
        case let .corruptGzip(path, reason): return "\(path): corrupt or truncated gzip data: \(reason)"
        case let .invalidUTF8(path, line): return "\(path):\(line): invalid UTF-8"
        case let .cannotWrite(path, reason): return "\(path): cannot write: \(reason)"
        case let .outputIsInput(path, input):
            return path == input ? "\(path): is also an input; write the output to another file"
                                 : "\(path): is the same file as the input '\(input)'; write the output to another file"
        }
    }
}

/// A one-line message for the system error `code` (errno).
public func systemErrorMessage(_ code: Int32) -> String {
    String(cString: strerror(code))
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
