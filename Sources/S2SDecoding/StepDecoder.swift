import S2SCore

/// What greedy and beam search need from a network: advance a set of hypotheses by one
/// target token at a time.
///
/// Rows are hypotheses. After `begin`, row i belongs to source sentence i. `select` re-forms
/// the rows (beam search keeps the best continuations; greedy drops finished sentences), and
/// each new row attends to the source sentence of its parent.
public protocol StepDecoder: AnyObject {
    /// The target vocabulary size: the widest a log-probability row can be (see `step`).
    var targetVocabularySize: Int { get }

    /// Encodes `sources` (token ids, each ending in `</s>`) and starts one row per source,
    /// in order, with the decoder's initial state.
    func begin(sources: [[Int32]]) throws

    /// Advances every row by one token. `previousTokens[r]` is row r's last output (`<s>` at
    /// the first step). Writes log-probabilities `[rows, W]`, row-major, into
    /// `logProbabilities`, whose count is at least rows × V: W = V, or the count of
    /// `outputColumns` when the step restricted its output to them.
    func step(previousTokens: [Int32], logProbabilities: UnsafeMutableBufferPointer<Float>)

    /// The target ids of the last step's columns, ascending, when it restricted its output (a
    /// lexical shortlist: every other id has probability 0); empty when column c is id c.
    var outputColumns: [Int32] { get }

    /// Re-forms the rows: new row r continues old row `parents[r]` (its state and source are
    /// copied; old rows may repeat or vanish). `parents.count` is the new number of rows.
    func select(parents: [Int32])

    /// Appends one row per sentence in `sentences` (indices into `begin`'s sources), each at
    /// its sentence's initial state, after the current rows: greedy search refills the rows of
    /// finished sentences with new ones, so every step runs a full batch.
    func start(sentences: [Int32])

    /// The attention weights α of row `row` at the last step, one per real source position.
    func attention(row: Int) -> [Float]
}

extension StepDecoder {
    /// A decoder over the whole vocabulary.
    public var outputColumns: [Int32] { [] }
}

/// How the columns of a step's log-probability rows map to target ids (`outputColumns`), read
/// after each step (a shortlisted decoder's columns change with its rows).
struct ColumnMap {
    /// Target id of each column; empty: column c is id c.
    let ids: [Int32]
    /// Columns per row.
    let width: Int
    /// The columns of `<pad>`, `<s>` and `</s>` (nil: left out).
    let padColumn: Int?, bosColumn: Int?, eosColumn: Int?

    init(_ decoder: StepDecoder) {
        let ids = decoder.outputColumns
        let width = ids.isEmpty ? decoder.targetVocabularySize : ids.count
        func column(of id: Int32) -> Int? {
            if ids.isEmpty { return id >= 0 && Int(id) < width ? Int(id) : nil }
            var low = 0, high = ids.count
            while low < high {
                let middle = (low + high) / 2
                if ids[middle] < id { low = middle + 1 } else { high = middle }
            }
            return low < ids.count && ids[low] == id ? low : nil
        }
        self.ids = ids
        self.width = width
        padColumn = column(of: SpecialTokens.pad)
        bosColumn = column(of: SpecialTokens.bos)
        eosColumn = column(of: SpecialTokens.eos)
    }

    @inline(__always)
    func id(ofColumn column: Int) -> Int32 { ids.isEmpty ? Int32(column) : ids[column] }

    /// `<pad>` and `<s>` are never outputs, whatever the network says: set them to −∞ in the
    /// row starting at `rowStart`.
    @inline(__always)
    func forbidNonOutputTokens(_ logProbabilities: UnsafeMutableBufferPointer<Float>, rowStart: Int) {
        if let padColumn { logProbabilities[rowStart + padColumn] = -.infinity }
        if let bosColumn { logProbabilities[rowStart + bosColumn] = -.infinity }
    }

    /// Row `row`'s log-probability of `</s>` (−∞ when the step left it out).
    func endScore(_ logProbabilities: UnsafeMutableBufferPointer<Float>, row: Int) -> Float {
        eosColumn.map { logProbabilities[row * width + $0] } ?? -.infinity
    }
}
