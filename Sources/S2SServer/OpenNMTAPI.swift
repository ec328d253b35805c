import Foundation
import Hummingbird
import S2SContainer
import S2SService

/// OpenNMT-py's `onmt_server` API under `/translator`, so its clients work unchanged:
/// `POST /translator/translate` takes `[{"src": "…", "id": N}]` (the first item's `id` picks
/// the model, as in onmt_server; absent, the first model) and answers one list per n-best
/// rank, each with one `{"src", "tgt", "n_best", "pred_score"}` per input. Unlike
/// onmt_server, failures get a 4xx or 5xx status (with onmt_server's `"status": "error"`
/// beside the message) rather than 200.
struct OpenNMTAPI {
    let models: [ServedModel]
    let options: ServerOptions
    let keys: APIKeys?

    struct Item: Decodable {
        var src: String
        var id: Int?
    }

    struct Answer: Encodable {
        var src: String
        var tgt: String
        var n_best: Int
        var pred_score: Float
    }

    /// `POST /translator/translate`.
    func translate(body: [UInt8], apiKey: String?, record: RequestRecord) async throws -> Response {
        if let keys, let refusal = keys.admit(apiKey) {
            switch refusal {
            case .missing, .invalid: throw APIError(status: .forbidden, message: "Invalid API key")
            case let .overRate(limit, retryAfter):
                throw APIError(status: .tooManyRequests, message: "Slowdown: \(limit) per 1 minute", retryAfter: retryAfter)
            }
        }
        guard String(validating: body, as: UTF8.self) != nil else {
            throw APIError.badRequest("the body is not valid UTF-8")
        }
        let items: [Item]
        do {
            items = try JSONDecoder().decode([Item].self, from: Data(body))
        } catch {
            throw APIError.badRequest("expected a JSON list of {\"src\": text, \"id\": model id}")
        }
        guard !items.isEmpty else { throw APIError.badRequest("the request lists no sentence") }
        let id = items[0].id ?? models[0].id
        guard let model = models.first(where: { $0.id == id }) else {
            throw APIError(status: .notFound, message: "no model with id \(id); GET /translator/models lists them")
        }
        let batch = TextBatch(texts: items.map(\.src))
        record.sentences = batch.lines.count
        guard batch.lines.count <= options.maxSentencesPerRequest else {
            throw APIError.tooLarge("the request has \(batch.lines.count) lines, over the limit of "
                                    + "\(options.maxSentencesPerRequest) per request")
        }
        let results = try await translateLines(batch.lines, with: model.service, search: options.search,
                                               timeout: options.timeout)
        let texts = batch.texts(results), scores = batch.scores(results)
        let answers = items.indices.map { Answer(src: items[$0].src, tgt: texts[$0], n_best: 1, pred_score: scores[$0]) }
        return try JSONBody.response([answers])
    }

    /// `GET /translator/models`, in onmt_server's shape.
    func modelList() throws -> Response {
        let list = models.map { model in
            JSONValue.object([
                "model_id": .integer(Int64(model.id)),
                "models": .strings([model.path]),
                "loaded": .bool(true),
                "timeout": .integer(-1),
                "opt": .object([
                    "models": .strings([model.path]),
                    "beam_size": .integer(Int64(options.search.beamSize)),
                    "src": .string(model.source),
                    "tgt": .string(model.target),
                ]),
            ])
        }
        return try JSONBody.response(list)
    }
}
