import Foundation
import Hummingbird

/// An answer that is not a translation: a status and a one-line message, sent as
/// `{"error": "…"}` (LibreTranslate's shape, which OpenNMT-py clients read too).
struct APIError: Error, Equatable {
    var status: HTTPResponse.Status
    var message: String
    /// Seconds for `Retry-After` (429 and 503).
    var retryAfter: Int?
    /// Methods for `Allow` (405).
    var allowed: [String] = []

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, message: message) }
    static func tooLarge(_ message: String) -> APIError { APIError(status: .contentTooLarge, message: message) }

    /// The JSON response.
    func response() -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if !allowed.isEmpty { headers[.allow] = allowed.joined(separator: ", ") }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: JSONBody.error(message))))
    }
}

/// JSON bodies written the same way everywhere: UTF-8, slashes unescaped, keys sorted.
enum JSONBody {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return Array(try encoder.encode(value))
    }

    static func error(_ message: String) -> [UInt8] {
        (try? encode(["error": message])) ?? Array(#"{"error":"internal error"}"#.utf8)
    }

    /// A 200 (or `status`) response with `value` as its JSON body.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try encode(value))))
    }
}
