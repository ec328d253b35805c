import S2SCore

/// The search tree of one source sentence (Marian's `History`): every node ever expanded, with
/// back-pointers, plus the finished hypotheses kept aside as they end in `</s>`.
///
/// Nodes are append-only, so a finished hypothesis stays valid while the search goes on; the
/// full target is read back by following parents.
public struct History: Sendable {
    /// A hypothesis that produced `</s>` (or reached the length limit).
    public struct Finished: Sendable, Equatable {
        /// Index of its `</s>` node in `nodes`.
        public var node: Int32
        /// Its ranking score (length-normalized log-probability).
        public var score: Float
        /// Its number of tokens, `</s>` included.
        public var length: Int
    }

    /// Every node expanded so far.
    public private(set) var nodes: [Hypothesis] = []
    /// attentionRows[n]: the attention weights that produced node n (only when collected).
    public private(set) var attentionRows: [[Float]] = []
    /// Finished hypotheses in the order they finished.
    public private(set) var finished: [Finished] = []

    public init() {}

    /// Appends a node and returns its index.
    public mutating func append(_ hypothesis: Hypothesis, attention: [Float]? = nil) -> Int32 {
        nodes.append(hypothesis)
        if let attention { attentionRows.append(attention) }
        return Int32(nodes.count - 1)
    }

    /// Records `node` (ending in `</s>`) as finished with ranking score `score`.
    public mutating func finish(node: Int32, score: Float, length: Int) {
        finished.append(Finished(node: node, score: score, length: length))
    }

    /// The best finished score so far, or -∞ when none has finished.
    public var bestFinishedScore: Float {
        finished.reduce(-Float.infinity) { max($0, $1.score) }
    }

    /// The `n`-th best finished score (1-based), or -∞ when fewer than `n` have finished.
    public func finishedScore(rank n: Int) -> Float {
        guard finished.count >= n else { return -.infinity }
        if n == 1 { return bestFinishedScore }
        return finished.map(\.score).sorted(by: >)[n - 1]
    }

    /// The tokens from the first to `node`, in order.
    public func tokens(endingAt node: Int32) -> [Int32] {
        var tokens: [Int32] = []
        var current = node
        while current >= 0 {
            tokens.append(nodes[Int(current)].token)
            current = nodes[Int(current)].parent
        }
        return tokens.reversed()
    }

    /// The attention rows from the first token to `node`, in order (empty if not collected).
    public func attention(endingAt node: Int32) -> [[Float]] {
        guard attentionRows.count == nodes.count else { return [] }
        var rows: [[Float]] = []
        var current = node
        while current >= 0 {
            rows.append(attentionRows[Int(current)])
            current = nodes[Int(current)].parent
        }
        return rows.reversed()
    }

    /// The `count` best finished translations, best first; ties keep finishing order.
    /// Each is a distinct token sequence: two tree nodes never spell the same prefix.
    public func nBest(_ count: Int) -> [Translation] {
        let ranked = finished.enumerated().sorted {
            $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset
        }
        return ranked.prefix(count).map { _, entry in
            var tokens = self.tokens(endingAt: entry.node)
            if tokens.last == SpecialTokens.eos { tokens.removeLast() }
            return Translation(tokens: tokens, score: entry.score,
                               logProbability: nodes[Int(entry.node)].score,
                               attention: attention(endingAt: entry.node))
        }
    }
}
