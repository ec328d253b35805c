import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 answer as the tests read it.
struct HTTPAnswer {
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as JSON.
    func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) }

    /// The body's `"error"` field (every failure has one).
    var error: String? { (try? json() as? [String: Any])?["error"] as? String }
}

enum HTTPTestError: Error {
    case socket(String)
    case malformedAnswer(String)
}

/// A raw TCP connection to the server on loopback, so that tests can send exactly the bytes
/// they mean — half a request, invalid UTF-8, a wrong method — and read exactly what comes back.
final class HTTPConnection {
    private let descriptor: Int32

    init(port: Int, receiveTimeoutSeconds: Int = 60) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HTTPTestError.socket("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw HTTPTestError.socket("connect to port \(port): errno \(errno)")
        }
    }

    deinit { close(descriptor) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw HTTPTestError.socket("send: errno \(errno)") }
            sent += n
        }
    }

    /// Reads one answer (its body by Content-Length, else to the end of the stream). Nil when
    /// the server closed the connection without answering.
    func receive() throws -> HTTPAnswer? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        func readMore() throws -> Bool {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw HTTPTestError.socket("recv: errno \(errno)") }
            if n == 0 { return false }
            data += buffer[0..<n]
            return true
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while headerEnd == nil {
            if let found = data.firstRange(of: separator) { headerEnd = found.upperBound; break }
            guard try readMore() else {
                if data.isEmpty { return nil }
                throw HTTPTestError.malformedAnswer("the stream ended inside the headers: \(String(decoding: data, as: UTF8.self))")
            }
        }
        let head = String(decoding: data[..<headerEnd!], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw HTTPTestError.malformedAnswer("status line: \(lines[0])")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if let length = headers["content-length"].flatMap(Int.init) {
            while data.count - headerEnd! < length {
                guard try readMore() else { throw HTTPTestError.malformedAnswer("the body ended early") }
            }
            return HTTPAnswer(status: status, headers: headers, body: Array(data[headerEnd!..<(headerEnd! + length)]))
        }
        while try readMore() {}
        return HTTPAnswer(status: status, headers: headers, body: Array(data[headerEnd!...]))
    }

    /// Whether the server closed the connection (reads until the end of the stream).
    func waitForClose() -> Bool {
        var byte: UInt8 = 0
        while true {
            let n = recv(descriptor, &byte, 1, 0)
            if n == 0 { return true }
            if n < 0 { return false }
        }
    }
}

/// One request on a fresh connection.
func http(_ port: Int, _ method: String, _ path: String, body: [UInt8] = [], contentType: String? = "application/json",
          headers: [String: String] = [:]) throws -> HTTPAnswer {
    let connection = try HTTPConnection(port: port)
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
    if let contentType, !body.isEmpty || method == "POST" { head += "Content-Type: \(contentType)\r\n" }
    if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    try connection.send(Array((head + "\r\n").utf8) + body)
    return try XCTUnwrap(try connection.receive(), "\(method) \(path): the server closed the connection without answering")
}

func http(_ port: Int, _ method: String, _ path: String, json: Any) throws -> HTTPAnswer {
    try http(port, method, path, body: Array(try JSONSerialization.data(withJSONObject: json)))
}

/// Runs `body(0..<count)` on `count` threads at once (as many clients), and waits for all.
/// (`DispatchQueue.concurrentPerform` would run only as many at once as there are cores.)
func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
    }
    group.wait()
}

/// A TCP port that was free a moment ago (the kernel's pick for port 0).
func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
        }
    }
    guard bound else { throw HTTPTestError.socket("no free port: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// `s2s serve` running in the background, its stderr collected; the port is read from its
/// start-up line. Sendable: `port` is set once, before any other thread sees it; stderr is locked.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var errorData = Data()
    private(set) var port = 0

    /// Starts `s2s serve arguments` on a free port. A `--quiet` server says nothing, so the
    /// port is picked here and the server is ready when /health answers.
    init(_ arguments: [String], startupTimeoutSeconds: Double = 60) throws {
        let quiet = arguments.contains("--quiet")
        let chosen = quiet ? try freePort() : 0
        process.executableURL = try s2sBinary()
        process.arguments = ["serve", "--port", "\(chosen)"] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let stderr = Pipe()
        process.standardError = stderr
        stderr.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            guard let self, !chunk.isEmpty else { return }
            self.lock.lock()
            self.errorData.append(chunk)
            self.lock.unlock()
        }
        try process.run()
        let deadline = Date().addingTimeInterval(startupTimeoutSeconds)
        while Date() < deadline && process.isRunning {
            if quiet {
                if (try? http(chosen, "GET", "/health"))?.status == 200 {
                    port = chosen
                    return
                }
            } else if let match = standardError.firstMatch(of: /serving .* on http:\/\/[0-9.]+:(\d+)/) {
                port = Int(match.1)!
                return
            }
            usleep(20_000)
        }
        throw HTTPTestError.socket("the server did not start: \(standardError)")
    }

    var standardError: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: errorData, as: UTF8.self)
    }

    /// SIGTERM, then waits for the exit; returns the exit status.
    @discardableResult
    func terminate() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        usleep(50_000)  // the last of stderr
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
