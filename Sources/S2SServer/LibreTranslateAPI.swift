import Foundation
import Hummingbird
import S2SContainer
import S2SDecoding
import S2SService

/// LibreTranslate's API (`POST /translate`, `GET /languages`), so its clients — editor and
/// CAT-tool plugins, browser extensions, scripts — work unchanged. Field names, answer shapes
/// and error messages follow LibreTranslate's app.py; where it answers 400 for a request over
/// a size limit, s2s answers 413.
struct LibreTranslateAPI {
    let models: [ServedModel]
    let options: ServerOptions
    let keys: APIKeys?

    /// A request's fields, from a JSON body or a form (and the query string), as LibreTranslate
    /// reads `request.values`.
    struct Fields: Decodable {
        var q: [String]?
        /// Whether `q` was a list (the answer's `translatedText` is a list then).
        var qIsList = false
        var source: String?
        var target: String?
        var format: String?
        var alternatives: Int?
        var apiKey: String?

        enum CodingKeys: String, CodingKey { case q, source, target, format, alternatives, apiKey = "api_key" }

        init() {}

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if container.contains(.q), try !container.decodeNil(forKey: .q) {
                if let text = try? container.decode(String.self, forKey: .q) {
                    q = [text]
                } else if let texts = try? container.decode([String].self, forKey: .q) {
                    q = texts
                    qIsList = true
                } else {
                    throw APIError.badRequest("Invalid request: q must be a string or a list of strings")
                }
            }
            func string(_ key: CodingKeys) throws -> String? {
                do { return try container.decodeIfPresent(String.self, forKey: key) } catch {
                    throw APIError.badRequest("Invalid request: \(key.stringValue) must be a string")
                }
            }
            source = try string(.source)
            target = try string(.target)
            format = try string(.format)
            apiKey = try string(.apiKey)
            do { alternatives = try container.decodeIfPresent(Int.self, forKey: .alternatives) } catch {
                throw APIError.badRequest("Invalid request: alternatives parameter is not a number")
            }
        }
    }

    /// `POST /translate`.
    func translate(body: [UInt8], contentType: String?, query: String?, record: RequestRecord) async throws -> Response {
        let fields = try Self.parse(body: body, contentType: contentType, query: query)
        if let keys { try admit(fields.apiKey, keys: keys) }
        guard let texts = fields.q, !texts.isEmpty, !(texts.count == 1 && texts[0].isEmpty) else {
            throw APIError.badRequest("Invalid request: missing q parameter")
        }
        guard let source = fields.source?.lowercased(), !source.isEmpty else {
            throw APIError.badRequest("Invalid request: missing source parameter")
        }
        guard let target = fields.target?.lowercased(), !target.isEmpty else {
            throw APIError.badRequest("Invalid request: missing target parameter")
        }
        let alternatives = max(0, fields.alternatives ?? 0)
        guard alternatives <= options.maxAlternatives else {
            throw APIError.badRequest("Invalid request: alternatives parameter must be <= \(options.maxAlternatives)")
        }
        if let format = fields.format, format != "text" {
            throw APIError.badRequest("\(format) format is not supported")
        }
        let model = try self.model(source: source, target: target)
        let batch = TextBatch(texts: texts)
        record.sentences = batch.lines.count
        guard batch.lines.count <= options.maxSentencesPerRequest else {
            throw APIError.tooLarge("Invalid request: request (\(batch.lines.count) lines) exceeds the limit of "
                                    + "\(options.maxSentencesPerRequest) lines per request")
        }
        var search = options.search
        if alternatives > 0 {
            search = RequestSearch(beamSize: max(search.beamSize, alternatives + 1), nBest: alternatives + 1,
                                   lengthNormalization: search.lengthNormalization)
        }
        let results = try await translateLines(batch.lines, with: model.service, search: search, timeout: options.timeout)
        let best = batch.texts(results)
        var answer: [String: JSONValue] = [
            "translatedText": fields.qIsList ? .strings(best) : .string(best[0]),
        ]
        if alternatives > 0 {
            // LibreTranslate drops duplicates, empty strings and the translation itself.
            let ranked = (1...alternatives).map { batch.texts(results, rank: $0) }
            let lists = best.indices.map { text in
                var seen: Set<String> = [best[text]], list: [String] = []
                for candidates in ranked where !candidates[text].isEmpty && seen.insert(candidates[text]).inserted {
                    list.append(candidates[text])
                }
                return list
            }
            answer["alternatives"] = fields.qIsList ? .array(lists.map { .strings($0) }) : .strings(lists[0])
        }
        if fields.source?.lowercased() == "auto" {
            // s2s does not detect languages: "auto" means the one model into the target, and
            // the confidence says so.
            let detected = JSONValue.object(["confidence": .number(0), "language": .string(model.source)])
            answer["detectedLanguage"] = fields.qIsList ? .array(Array(repeating: detected, count: texts.count)) : detected
        }
        return try JSONBody.response(answer)
    }

    /// `GET /languages`: every source language with the targets its models translate into.
    func languages() throws -> Response {
        let sources = Array(Set(models.map(\.source))).sorted()
        let list = sources.map { source in
            LanguageEntry(code: source, name: LanguageNames.name(of: source),
                          targets: models.filter { $0.source == source }.map(\.target).sorted())
        }
        return try JSONBody.response(list)
    }

    struct LanguageEntry: Encodable {
        var code: String
        var name: String
        var targets: [String]
    }

    /// The model for a pair; "auto" as the source picks the one model into `target`.
    private func model(source: String, target: String) throws -> ServedModel {
        if source == "auto" {
            let candidates = models.filter { $0.target == target }
            guard candidates.count == 1 else {
                throw APIError.badRequest(candidates.isEmpty ? "\(target) is not supported"
                    : "source auto is ambiguous: several models translate into \(target); name the source language")
            }
            return candidates[0]
        }
        guard models.contains(where: { $0.source == source }) else { throw APIError.badRequest("\(source) is not supported") }
        guard let model = models.first(where: { $0.source == source && $0.target == target }) else {
            if !models.contains(where: { $0.target == target }) { throw APIError.badRequest("\(target) is not supported") }
            throw APIError.badRequest("\(LanguageNames.name(of: target)) (\(target)) is not available as a target language from "
                                      + "\(LanguageNames.name(of: source)) (\(source))")
        }
        return model
    }

    private func admit(_ key: String?, keys: APIKeys) throws {
        switch keys.admit(key) {
        case nil: return
        case .missing: throw APIError(status: .forbidden, message: "Please contact the server operator to get an API key")
        case .invalid: throw APIError(status: .forbidden, message: "Invalid API key")
        case let .overRate(limit, retryAfter):
            throw APIError(status: .tooManyRequests, message: "Slowdown: \(limit) per 1 minute", retryAfter: retryAfter)
        }
    }

    /// The fields of a JSON body, or of a form body and the query string together.
    static func parse(body: [UInt8], contentType: String?, query: String?) throws -> Fields {
        let type = contentType?.lowercased() ?? ""
        guard String(validating: body, as: UTF8.self) != nil else {
            throw APIError.badRequest("Invalid request: the body is not valid UTF-8")
        }
        let firstByte = body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
        if type.contains("json") || (type.isEmpty && (firstByte == UInt8(ascii: "{") || firstByte == UInt8(ascii: "["))) {
            guard firstByte == UInt8(ascii: "{") else { throw APIError.badRequest("Invalid JSON format") }
            do {
                return try JSONDecoder().decode(Fields.self, from: Data(body))
            } catch let error as APIError {
                throw error
            } catch {
                throw APIError.badRequest("Invalid JSON format")
            }
        }
        guard type.isEmpty || type.contains("application/x-www-form-urlencoded") else {
            throw APIError(status: .unsupportedMediaType,
                           message: "unsupported content type \(contentType ?? ""); send application/json or a form")
        }
        let form = String(decoding: body, as: UTF8.self)
        let combined = [query ?? "", form].filter { !$0.isEmpty }.joined(separator: "&")
        if combined.isEmpty { return Fields() }
        do {
            return try URLEncodedFormDecoder().decode(Fields.self, from: combined)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest("Invalid request: the form cannot be decoded (bad percent-encoding or UTF-8)")
        }
    }
}

extension JSONValue {
    static func strings(_ texts: [String]) -> JSONValue { .array(texts.map { .string($0) }) }
}

/// Waits for a service's translation, turning its refusals into HTTP answers.
func translateLines(_ lines: [String], with service: TranslationService, search: RequestSearch,
                    timeout: Duration) async throws -> [LineTranslation] {
    do {
        return try await service.translate(lines, search: search, timeout: timeout)
    } catch let error as ServiceError {
        switch error {
        case .queueFull, .timedOut, .stopped:
            throw APIError(status: .serviceUnavailable, message: error.description, retryAfter: 1)
        case .decodingFailed:
            throw APIError(status: .internalServerError, message: error.description)
        }
    }
}
