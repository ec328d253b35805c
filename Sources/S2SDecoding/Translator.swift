import Dispatch
import S2SCore
import S2SModel
import S2STensor

/// How a `Translator` batches and cuts its input.
public struct TranslatorOptions: Sendable, Equatable {
    /// Beam size, n-best, length limit, normalization, attention.
    public var search: SearchOptions
    /// Sentences decoded together (`--batch`).
    public var batchSize: Int
    /// Lines read ahead, in batches, and sorted by length before batching (Marian's
    /// "maxi-batch"): similar lengths share a batch, so fewer rows idle on padding.
    public var sortWindowBatches: Int
    /// The longest source given to the network, in pieces (without `</s>`). A longer line is
    /// cut into consecutive chunks of at most this many pieces, each translated on its own;
    /// their translations are joined with one space. Nothing is dropped.
    public var maxSourceLength: Int

    public init(search: SearchOptions = SearchOptions(), batchSize: Int = 64, sortWindowBatches: Int = 16,
                maxSourceLength: Int = 128) {
        self.search = search
        self.batchSize = max(1, batchSize)
        self.sortWindowBatches = max(1, sortWindowBatches)
        self.maxSourceLength = max(1, maxSourceLength)
    }
}

/// One hypothesis for a whole input line.
public struct LineHypothesis: Sendable, Equatable {
    /// The detokenized translation (chunks joined with a space).
    public var text: String
    /// Target pieces without `</s>` (all chunks, in order).
    public var tokens: [Int32]
    /// Ranking score (length-normalized log-probability; for a chunked line the sum over chunks).
    public var score: Float
    /// attention[j][i]: weight of source piece i for target piece j, `</s>` rows and columns
    /// left out; chunks are placed block-diagonally. Empty unless attention was collected.
    public var attention: [[Float]]
}

/// The translation of one input line, handed out in input order.
public struct LineTranslation: Sendable, Equatable {
    /// 0-based position of the line in the input.
    public var index: Int
    /// The line as given.
    public var source: String
    /// Its source pieces, without `</s>` (empty for a blank line).
    public var sourceTokens: [Int32]
    /// Best first; `nBest` entries for a line of one chunk, one entry for a chunked line
    /// (the chunks' best translations joined), one empty entry for a blank line.
    public var hypotheses: [LineHypothesis]
}

/// Translates lines of text: encodes them, cuts long ones, batches by length, runs greedy or
/// beam search, restores input order and hands each line's result to a callback. Never prints.
///
/// Streaming: `add` queues a line and translates a full window as soon as one is queued;
/// `flush` translates what is queued now (an interactive caller flushes when its input has
/// nothing more ready). Results come out strictly in input order, one per line: after each
/// batch with beam search, after each window with greedy search (whose batches are decoded
/// as continuous streams, see `GreedySearch`).
///
/// Workers: given several decoders (copies of one network), consecutive batches are decoded
/// at the same time, one per decoder, each on one BLAS thread. A decoding step is a handful
/// of small matrix products and elementwise passes; two cores each running their own batch
/// keep busier than two cores sharing every small product. A lone batch (an interactive
/// line) still gets all the BLAS threads. The output is the same either way.
public final class Translator {
    /// The network (or an `EnsembleDecoder`): one per worker, interchangeable.
    public let decoders: [StepDecoder]
    /// The first worker's network.
    public var decoder: StepDecoder { decoders[0] }
    public let options: TranslatorOptions
    /// Source text → source pieces, without `</s>` (the Translator appends `</s>` = 3).
    public let encode: (String) -> [Int32]
    /// Target pieces (no `</s>`) → text.
    public let decode: ([Int32]) -> String

    /// A queued line and its chunks.
    private struct PendingLine {
        var index: Int
        var source: String
        var sourceTokens: [Int32]
        /// chunkResults[c]: the n-best list of chunk c, once translated.
        var chunkResults: [[Translation]?]
        var remainingChunks: Int
    }
    private var pending: [PendingLine] = []
    /// Chunks waiting: (pending line slot, chunk number, tokens ending in `</s>`).
    private var work: [(line: Int, chunk: Int, tokens: [Int32])] = []
    private var nextIndex = 0

    public convenience init(decoder: StepDecoder, options: TranslatorOptions,
                            encode: @escaping (String) -> [Int32], decode: @escaping ([Int32]) -> String) {
        self.init(decoders: [decoder], options: options, encode: encode, decode: decode)
    }

    /// A translator with one worker per decoder (each a separate instance of the same network).
    public init(decoders: [StepDecoder], options: TranslatorOptions,
                encode: @escaping (String) -> [Int32], decode: @escaping ([Int32]) -> String) {
        precondition(!decoders.isEmpty, "Translator needs a decoder")
        self.decoders = decoders
        self.options = options
        self.encode = encode
        self.decode = decode
    }

    /// Lines queued and not yet handed out.
    public var pendingLineCount: Int { pending.count }

    /// Queues `line`; when a sort window is full, translates it and calls `emit` for every
    /// queued line in input order, and `batchFinished` after each batch (to flush output).
    public func add(_ line: String, emit: (LineTranslation) throws -> Void,
                    batchFinished: () throws -> Void = {}) throws {
        let pieces = encode(line)
        let chunkLength = options.maxSourceLength
        var chunkCount = 0
        var start = 0
        while start < pieces.count {
            let end = min(pieces.count, start + chunkLength)
            work.append((line: pending.count, chunk: chunkCount, tokens: Array(pieces[start..<end]) + [SpecialTokens.eos]))
            chunkCount += 1
            start = end
        }
        pending.append(PendingLine(index: nextIndex, source: line, sourceTokens: pieces,
                                   chunkResults: Array(repeating: nil, count: chunkCount),
                                   remainingChunks: chunkCount))
        nextIndex += 1
        // Blank lines make no work; the second bound keeps a run of them from piling up.
        let window = options.batchSize * options.sortWindowBatches
        if work.count >= window || pending.count >= 4 * window {
            try flush(emit: emit, batchFinished: batchFinished)
        }
    }

    /// Translates everything queued and calls `emit` for each queued line in input order.
    /// Lines are handed out as soon as they and every earlier line are done; `batchFinished`
    /// runs after each batch (the CLI writes its output there).
    public func flush(emit: (LineTranslation) throws -> Void, batchFinished: () throws -> Void = {}) throws {
        var emitted = 0
        func emitReady() throws {
            while emitted < pending.count && pending[emitted].remainingChunks == 0 {
                try emit(finish(pending[emitted]))
                emitted += 1
            }
        }
        func record(_ items: [Int], _ results: [[Translation]]) {
            for (item, result) in zip(items, results) {
                let (line, chunk, _) = work[item]
                pending[line].chunkResults[chunk] = result
                pending[line].remainingChunks -= 1
            }
        }
        try emitReady()
        // Shortest first; ties keep input order, so results do not depend on sort stability.
        let order = work.indices.sorted {
            work[$0].tokens.count != work[$1].tokens.count
                ? work[$0].tokens.count < work[$1].tokens.count : $0 < $1
        }
        let batches = stride(from: 0, to: order.count, by: options.batchSize).map {
            Array(order[$0..<min(order.count, $0 + options.batchSize)])
        }
        if options.search.beamSize == 1 && batches.count > 1 {
            // Greedy: worker w takes every W-th batch and decodes its share as one stream of at
            // most `batchSize` rows, refilling the rows of finished sentences (GreedySearch), so
            // the workers' steps stay full and they finish together. The window is handed out
            // when every share is done.
            let workers = min(decoders.count, batches.count)
            let shares = (0..<workers).map { worker in
                stride(from: worker, to: batches.count, by: workers).flatMap { batches[$0] }
            }
            let results = try search(shares.map { share in share.map { work[$0].tokens } })
            for (share, shareResults) in zip(shares, results) { record(share, shareResults) }
            try emitReady()
            try batchFinished()
        } else {
            var next = 0
            while next < batches.count {
                let group = Array(batches[next..<min(batches.count, next + decoders.count)])
                let results = try search(group.map { batch in batch.map { work[$0].tokens } })
                for (batch, batchResults) in zip(group, results) {
                    record(batch, batchResults)
                    try emitReady()
                    try batchFinished()
                }
                next += group.count
            }
        }
        work.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: true)
    }

    /// Translates `lines` and returns one result per line, in order.
    public func translate(_ lines: [String]) throws -> [LineTranslation] {
        var results: [LineTranslation] = []
        results.reserveCapacity(lines.count)
        for line in lines { try add(line) { results.append($0) } }
        try flush { results.append($0) }
        return results
    }

    /// Batch i decoded by worker i, all at once on one BLAS thread each (a single batch on
    /// all the threads).
    private func search(_ batches: [[[Int32]]]) throws -> [[[Translation]]] {
        if batches.count == 1 { return [try search(batches[0], with: decoders[0])] }
        let threads = BLAS.threads
        BLAS.setThreads(1)
        defer { BLAS.setThreads(threads) }
        let outcomes = ResultSlots<[[Translation]]>(count: batches.count)
        let shared = UncheckedSendable((self, batches))
        DispatchQueue.concurrentPerform(iterations: batches.count) { worker in
            let (translator, batches) = shared.value
            outcomes.set(worker, Result { try translator.search(batches[worker], with: translator.decoders[worker]) })
        }
        return try outcomes.values.map { try $0.get() }
    }

    /// Greedy search for beam 1 (it refills the rows of finished sentences with waiting ones),
    /// beam search otherwise.
    private func search(_ sources: [[Int32]], with decoder: StepDecoder) throws -> [[Translation]] {
        if options.search.beamSize == 1 {
            return try GreedySearch(options: options.search, rowLimit: options.batchSize).translate(sources, with: decoder)
        }
        return try BeamSearch(options: options.search).translate(sources, with: decoder)
    }

    /// Joins a line's chunk results into its n-best list.
    private func finish(_ line: PendingLine) -> LineTranslation {
        let chunks = line.chunkResults.map { $0 ?? [] }
        var hypotheses: [LineHypothesis] = []
        if chunks.isEmpty {
            hypotheses = [LineHypothesis(text: "", tokens: [], score: 0, attention: [])]
        } else if chunks.count == 1 {
            hypotheses = chunks[0].map { translation in
                LineHypothesis(text: decode(translation.tokens), tokens: translation.tokens, score: translation.score,
                               attention: pieceAttention(translation, sourceOffset: 0,
                                                              sourceCount: line.sourceTokens.count))
            }
        } else {
            // Chunks: best of each, joined; attention blocks sit on the diagonal.
            var texts: [String] = [], tokens: [Int32] = [], score: Float = 0, attention: [[Float]] = []
            for (number, list) in chunks.enumerated() {
                guard let best = list.first else { continue }
                let text = decode(best.tokens)
                if !text.isEmpty { texts.append(text) }
                tokens += best.tokens
                score += best.score
                attention += pieceAttention(best, sourceOffset: number * options.maxSourceLength,
                                                 sourceCount: line.sourceTokens.count)
            }
            hypotheses = [LineHypothesis(text: texts.joined(separator: " "), tokens: tokens, score: score,
                                         attention: attention)]
        }
        return LineTranslation(index: line.index, source: line.source, sourceTokens: line.sourceTokens,
                               hypotheses: hypotheses)
    }

    /// A chunk's attention rows restricted to its real pieces (no `</s>` row; the `</s>`
    /// column too when the decoder reports one), placed at columns `sourceOffset…` of a line
    /// with `sourceCount` source pieces.
    private func pieceAttention(_ translation: Translation, sourceOffset: Int, sourceCount: Int) -> [[Float]] {
        guard !translation.attention.isEmpty else { return [] }
        let chunkPieces = min(options.maxSourceLength, sourceCount - sourceOffset)
        return translation.attention.prefix(translation.tokens.count).map { row in
            var full = [Float](repeating: 0, count: sourceCount)
            for i in 0..<max(0, min(row.count, chunkPieces)) { full[sourceOffset + i] = row[i] }
            return full
        }
    }
}

