/// What greedy and beam search need from a network: advance a set of hypotheses by one
/// target token at a time.
///
/// Rows are hypotheses. After `begin`, row i belongs to source sentence i. `select` re-forms
/// the rows (beam search keeps the best continuations; greedy drops finished sentences), and
/// each new row attends to the source sentence of its parent.
public protocol StepDecoder: AnyObject {
    /// Width of a log-probability row: the target vocabulary size.
    var targetVocabularySize: Int { get }

    /// Encodes `sources` (token ids, each ending in `</s>`) and starts one row per source,
    /// in order, with the decoder's initial state.
    func begin(sources: [[Int32]]) throws

    /// Advances every row by one token. `previousTokens[r]` is row r's last output (`<s>` at
    /// the first step). Writes log-probabilities `[rows, V]`, row-major, into
    /// `logProbabilities`, whose count is at least rows × V.
    func step(previousTokens: [Int32], logProbabilities: UnsafeMutableBufferPointer<Float>)

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
