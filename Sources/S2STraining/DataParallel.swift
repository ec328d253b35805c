import Dispatch
import S2SCore
import S2SDistributed
import S2SModel
import S2STensor

/// What one update reports.
public struct TrainStepResult: Equatable, Sendable {
    /// Mean label-smoothed loss per target token of the update's batches (before the update).
    public var loss: Float
    /// Real target tokens in the update's batches, over every rank.
    public var targetTokens: Int
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
}

/// Training failed in a way that must stop the run.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss or the gradient norm became NaN or infinite at `step` (1-based update count).
    case nonFinite(step: Int, loss: Float, gradientNorm: Float)
    /// The loss per target token at `update` passed twice a uniform guess's (2 ln V): the run
    /// diverged. `learningRate` is the peak rate; `lastSaved` the update of the last checkpoint
    /// written before it (0: none).
    case lossAboveChance(update: Int, loss: Float, chance: Float, learningRate: Float, lastSaved: Int)

    public var description: String {
        switch self {
        case let .nonFinite(step, loss, norm):
            return "training diverged at step \(step): loss \(loss), gradient norm \(norm) (lower the learning rate or clip harder)"
        case let .lossAboveChance(update, loss, chance, rate, lastSaved):
            let kept = lastSaved > 0 ? "the model file keeps the checkpoint of update \(lastSaved)" : "no checkpoint was saved"
            return "training diverged at update \(update): loss \(String(format: "%.2f", loss)) per target token, above twice "
                + "a uniform guess's (\(String(format: "%.2f", chance))); \(kept); lower --learning-rate (now \(rate)) or raise --warmup"
        }
    }
}

/// One update from a global batch, data-parallel: the batch is cut into shares by target
/// tokens, one per worker of every rank; each worker runs forward and backward on its share
/// with single-threaded BLAS, into gradients of its own, over the parameters all workers share.
/// The shares' gradients are then summed in a fixed order, over the ranks as well, clipped
/// once and applied in one Adam update, which every rank makes identically.
///
/// The sum is a left fold over the shares in (batch, rank, worker) order within a rank, so
/// W workers on one batch's shares and one worker given those shares as W accumulated batches
/// (`--accumulate`) make bit-identical updates. Each share's loss is scaled by the update's
/// whole target-token count, so the sum is the gradient of the update's mean loss.
public final class DataParallelTrainer {
    public let config: ModelConfig
    /// The parameters every worker reads and the optimizer updates.
    public let parameters: ParameterStore
    /// The update's summed gradients.
    public let gradients: ParameterStore
    public let optimizer: Adam
    /// Maximum global gradient norm (≤ 0: no clipping).
    public var clipNorm: Float
    /// The run's seed, which keys every sentence's dropout masks (`DropoutDraw`).
    public let dropoutSeed: UInt64
    /// The job's ranks (one process unless launched by `mpirun`).
    public let communicator: Communicator
    /// One model per worker: its own activations and gradients, the shared parameters.
    let workers: [Seq2SeqModel]
    /// BLAS threads of a lone worker (a worker among several always uses one).
    private let threads: Int

    /// A trainer of `parameters` with `workers` workers in this process (at least 1).
    public init(config: ModelConfig, parameters: ParameterStore, optimizer: Adam, clipNorm: Float, workers: Int,
                dropoutSeed: UInt64, communicator: Communicator = SingleProcess(),
                threads: Int = BLAS.threads) throws {
        precondition(workers >= 1, "DataParallelTrainer needs at least one worker")
        self.config = config
        self.parameters = parameters
        self.gradients = ParameterStore(sameLayoutAs: parameters)
        self.optimizer = optimizer
        self.clipNorm = clipNorm
        self.dropoutSeed = dropoutSeed
        self.communicator = communicator
        self.workers = try (0..<workers).map { _ in try Seq2SeqModel(config: config, parameters: parameters) }
        self.threads = threads
        stepWeights = try PackedWeights(parameters: parameters, config: config, for: .trainingSteps)
        for worker in self.workers { worker.stepWeights = stepWeights }
    }

    /// The recurrences' matrices packed for the workers' per-step products, packed again after
    /// every update.
    private let stepWeights: PackedWeights

    /// The first worker's model (validation, checkpoints: it reads the shared parameters).
    public var model: Seq2SeqModel { workers[0] }
    /// Workers in this process.
    public var workerCount: Int { workers.count }

    /// Update `update` (1-based) from `batches`: one global batch, or K of them accumulated
    /// into one update. Throws `ModelError` for a bad batch, and `TrainingError.nonFinite` —
    /// leaving the parameters untouched — if the loss or the gradients are not finite.
    public func trainStep(batches: [Batch], update: Int) throws -> TrainStepResult {
        let tokens = batches.reduce(0) { $0 + $1.target.tokenCount }
        let ranks = communicator.size, rank = communicator.rank
        var loss = [0.0]  // the shares' label-smoothed loss, summed over every rank below
        for (k, batch) in batches.enumerated() {
            let shares = Array(batch.shares(ranks * workers.count)[(rank * workers.count)..<((rank + 1) * workers.count)])
            loss[0] += try run(shares, update: update, lossScale: 1 / Float(tokens), firstIntoTotal: k == 0)
            fold(shares, firstIntoTotal: k == 0)
        }
        try communicator.allReduceSum(gradients.values)
        try communicator.allReduceSum(&loss)
        let meanLoss = Float(loss[0] / Double(max(tokens, 1)))
        let parts = max(threads, workers.count)
        let norm = GradientClipping.clip(gradients, maxNorm: clipNorm, threads: parts)
        guard meanLoss.isFinite, norm.isFinite else {
            throw TrainingError.nonFinite(step: optimizer.step + 1, loss: meanLoss, gradientNorm: norm)
        }
        optimizer.update(parameters: parameters, gradients: gradients, threads: parts)
        stepWeights.repack(from: parameters, threads: parts)
        return TrainStepResult(loss: meanLoss, targetTokens: tokens, gradientNorm: norm)
    }

    /// Forward and backward of each share on its worker, side by side; returns the shares'
    /// summed label-smoothed loss. The first worker writes into `gradients` when
    /// `firstIntoTotal` (the update's first batch), every other one into its own.
    private func run(_ shares: [Batch?], update: Int, lossScale: Float, firstIntoTotal: Bool) throws -> Double {
        let draw = DropoutDraw(seed: dropoutSeed, update: update)
        let outcomes = ResultSlots<Double>(count: workers.count)
        let work = UncheckedSendable((self, shares))
        let body: @Sendable (Int) -> Void = { index in
            let (trainer, shares) = work.value
            outcomes.set(index, Result {
                let worker = trainer.workers[index]
                let target = index == 0 && firstIntoTotal ? trainer.gradients : worker.gradients
                // The sum starts at zero even when the first worker has no share.
                target.zero()
                guard let share = shares[index] else { return 0 }
                let loss = try worker.forward(batch: share, dropout: draw)
                worker.backward(lossScale: lossScale, into: target)
                return loss.totalLoss
            })
        }
        onWorkers(body)
        return try outcomes.values.reduce(0) { $0 + (try $1.get()) }
    }

    /// Σ −log p(y) and the target tokens of `batches` without dropout, under `parameters`
    /// (the trained ones unless another store of their layout is given: their moving
    /// average, say), the batches dealt out to the workers in turn and summed in batch order.
    public func evaluate(_ batches: [Batch], parameters other: ParameterStore? = nil) throws
        -> (negativeLogLikelihood: Double, targetTokens: Int) {
        let workers = try other.map { try evaluators(for: $0) } ?? self.workers
        let outcomes = ResultSlots<BatchLoss>(count: batches.count)
        let work = UncheckedSendable((workers, batches))
        let body: @Sendable (Int) -> Void = { worker in
            let (workers, batches) = work.value
            for index in stride(from: worker, to: batches.count, by: workers.count) {
                outcomes.set(index, Result { try workers[worker].evaluate(batch: batches[index]) })
            }
        }
        onWorkers(body)
        var total = 0.0, tokens = 0
        for outcome in outcomes.values {
            let loss = try outcome.get()
            total += loss.negativeLogLikelihood
            tokens += loss.targetTokens
        }
        return (total, tokens)
    }

    /// One model per worker over `parameters`, for evaluation (made on first use).
    private func evaluators(for parameters: ParameterStore) throws -> [Seq2SeqModel] {
        if let made = evaluatorModels, made.first?.parameters === parameters { return made }
        let made = try workers.map { _ in try Seq2SeqModel(config: config, parameters: parameters) }
        evaluatorModels = made
        return made
    }

    private var evaluatorModels: [Seq2SeqModel]?

    /// Runs `body(worker)` for every worker, side by side with one BLAS thread each when there
    /// are several.
    private func onWorkers(_ body: @Sendable (Int) -> Void) {
        if workers.count == 1 { body(0); return }
        let saved = BLAS.threads
        BLAS.setThreads(1)
        defer { BLAS.setThreads(saved) }
        DispatchQueue.concurrentPerform(iterations: workers.count, execute: body)
    }

    /// Adds the workers' gradients into `gradients` in worker order (the first worker's are
    /// already there when it wrote into them directly).
    private func fold(_ shares: [Batch?], firstIntoTotal: Bool) {
        for (index, share) in shares.enumerated() where share != nil && !(index == 0 && firstIntoTotal) {
            add(workers[index].gradients, into: gradients, parts: max(threads, workers.count))
        }
    }
}

/// total += addend, elementwise, in up to `parts` slices side by side (the same bits however many).
func add(_ addend: ParameterStore, into total: ParameterStore, parts: Int) {
    precondition(addend.entries == total.entries, "add: layouts differ")
    let pointers = UncheckedSendable((total.values.baseAddress!, UnsafePointer(addend.values.baseAddress!)))
    forEachSlice(count: total.values.count, parts: parts) { slice in
        let (y, x) = pointers.value
        var i = slice.lowerBound
        while i + 16 <= slice.upperBound {
            let sum = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
                + UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: sum, as: SIMD16<Float>.self)
            i += 16
        }
        while i < slice.upperBound { y[i] += x[i]; i += 1 }
    }
}
