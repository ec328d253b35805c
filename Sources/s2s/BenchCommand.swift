import ArgumentParser
import Foundation
import S2SCore
import S2SDistributed
import S2SModel
import S2STensor
import S2STraining
#if canImport(Glibc)
import Glibc
#endif

/// `s2s bench`: throughput measurements of the library's hot paths on synthetic data.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput on synthetic batches (prints key=value lines; the last is the headline).",
        subcommands: [BenchTrain.self, BenchProducts.self, BenchAllReduce.self])
}

/// The network size both benchmarks build (the standard size by default).
struct BenchModelSize: ParsableArguments {
    @Option(help: "Vocabulary size of both sides.") var vocab = 8000
    @Option(help: "Embedding size E.") var emb = 256
    @Option(help: "Hidden size H (per encoder direction).") var hidden = 512
    @Option(help: "Attention size A.") var attention = 512

    func validate() throws {
        guard vocab > 0, emb > 0, hidden > 0, attention > 0 else {
            throw ValidationError("every size must be positive")
        }
    }
}

/// `s2s bench train`: full training steps (forward, backward, clip, Adam) on random full-length
/// token batches of a fixed shape; the last stdout line is `tgt_tokens_per_s=<number>`.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Time full training steps on random token batches.")

    @Option(help: "Sentences per batch.") var batch = 64
    @Option(name: .customLong("src-len"), help: "Source length in tokens (incl. </s>).") var sourceLength = 16
    @Option(name: .customLong("tgt-len"), help: "Target length in tokens (incl. </s>).") var targetLength = 18
    @OptionGroup var size: BenchModelSize
    @Option(help: "Workers, one core each, as `s2s train --workers` (default: one per core).") var workers: Int?
    @Option(help: "BLAS threads of a lone worker (default: all cores).") var threads: Int?
    @Option(help: "Timed steps.") var steps = 20
    @Option(help: "Untimed steps first.") var warmup = 3
    @Option(help: "Dropout on embeddings, states and output (0 = off).") var dropout = ModelConfig.defaults.embeddingDropout
    @Flag(name: .customLong("layer-normalization"), inversion: .prefixedNo, help: "Layer-normalize the GRUs, as `s2s train` does by default.")
    var layerNormalization = ModelConfig.defaults.layerNormalization
    @Option(help: "Random seed.") var seed: UInt64 = 1234
    @Flag(help: "No progress on stderr.") var quiet = false

    func validate() throws {
        guard batch > 0, sourceLength > 0, targetLength > 0, (threads ?? 1) > 0, (workers ?? 1) > 0, steps > 0, warmup >= 0,
              size.vocab > 4 else {
            throw ValidationError("every size must be positive (vocab > 4, warmup ≥ 0)")
        }
    }

    func run() throws {
        runReportingErrors {
            let cores = ProcessInfo.processInfo.activeProcessorCount
            BLAS.setThreads(threads ?? cores)
            if BLAS.coreName.lowercased() == "prescott" {
                printToStandardError("bench train: warning: OpenBLAS uses its generic Prescott kernels (CPU not recognised); set OPENBLAS_CORETYPE=SkylakeX or Haswell")
            }
            var config = ModelConfig(sourceVocabularySize: size.vocab, targetVocabularySize: size.vocab)
            config.embeddingSize = size.emb
            config.hiddenSize = size.hidden
            config.attentionSize = size.attention
            config.embeddingDropout = dropout
            config.stateDropout = dropout
            config.outputDropout = dropout
            config.layerNormalization = layerNormalization
            let parameters = try Seq2SeqParameters.initialized(for: config, seed: seed)
            let trainer = try DataParallelTrainer(config: config, parameters: parameters,
                                                  optimizer: Adam(parameters: parameters, learningRate: 1e-3), clipNorm: 5,
                                                  workers: workers ?? cores, dropoutSeed: seed)
            var rng = SeededRNG(seed: seed &+ 7)
            func randomMatrix(length: Int) -> TokenMatrix {
                let sentences = (0..<batch).map { _ in
                    (0..<(length - 1)).map { _ in Int32(4 + Int(rng.next() % UInt64(size.vocab - 4))) } + [SpecialTokens.eos]
                }
                return TokenMatrix(padding: sentences)
            }
            let batches = (0..<4).map { _ in
                Batch(source: randomMatrix(length: sourceLength), target: randomMatrix(length: targetLength),
                      pairIndices: Array(0..<batch))
            }
            // `s2s train` moves the parameters' average after every update by default: part of its step.
            let smoothingRate = TrainingOptions().exponentialSmoothing
            let smoothing = smoothingRate > 0 ? ExponentialSmoothing(rate: smoothingRate, startingAt: parameters) : nil
            func update(_ number: Int) throws -> TrainStepResult {
                let result = try trainer.trainStep(batches: [batches[(number - 1) % batches.count]], update: number)
                smoothing?.update(from: trainer.parameters, update: number, threads: trainer.workerCount)
                return result
            }
            for i in 0..<warmup { _ = try update(i + 1) }
            var tokens = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<steps {
                let result = try update(warmup + i + 1)
                tokens += result.targetTokens
                if !quiet, (i + 1) % 10 == 0 {
                    printToStandardError("bench train: step \(i + 1)/\(steps), loss \(result.loss)")
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let flops = Seq2SeqModel.trainingFLOPs(config: config, batchSize: batch, sourceLength: sourceLength,
                                                   targetLength: targetLength)
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            print("shape batch=\(batch) src_len=\(sourceLength) tgt_len=\(targetLength) vocab=\(size.vocab) emb=\(size.emb) hidden=\(size.hidden) attention=\(size.attention) workers=\(trainer.workerCount) threads=\(threads ?? cores) dropout=\(dropout) layer_normalization=\(layerNormalization)")
            print("openblas_core=\(BLAS.coreName)")
            print("parameters=\(parameters.parameterCount)")
            print(String(format: "step_ms=%.2f", seconds / Double(steps) * 1000))
            print(String(format: "model_gflop_per_step=%.3f", flops / 1e9))
            print(String(format: "achieved_gflops=%.1f", flops * Double(steps) / seconds / 1e9))
            print(String(format: "sgemm_gflops_64x1536x512=%.1f", measureSgemm(m: 64, n: 1536, k: 512)))
            print(String(format: "peak_rss_mb=%.1f", Double(usage.ru_maxrss) / 1024))
            print(String(format: "tgt_tokens_per_s=%.1f", Double(tokens) / seconds))
        }
    }

    /// Median GFLOP/s of C = A·B at [m, k]×[k, n] over a few repetitions.
    private func measureSgemm(m: Int, n: Int, k: Int) -> Double {
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        var rates: [Double] = []
        for _ in 0..<15 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<10 {
                BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: &c, ldc: n)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rates.append(10 * 2 * Double(m * n * k) / seconds / 1e9)
        }
        return rates.sorted()[rates.count / 2]
    }
}

/// `s2s bench products`: the matrix products of one decoder step (every weight matrix once, as
/// `Seq2SeqInference.step` multiplies them) at several row counts, by OpenBLAS on the plain
/// matrices and by the packed kernels on packed copies, side by side; prints one line per row
/// count and the packed/OpenBLAS speed ratio.
struct BenchProducts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "products", abstract: "Time a decoder step's matrix products: OpenBLAS vs packed weights.")

    @Option(help: "Row counts (hypotheses per step), comma-separated.") var rows = "1,5,12,64,320"
    @OptionGroup var size: BenchModelSize
    @Option(help: "BLAS threads (and threads of the packed products).") var threads = 2
    @Option(help: "Timed repetitions per row count (the median is reported).") var repetitions = 15
    @Option(help: "Packed kernels: best (this CPU's fastest), avx2 or avx512.") var kernel = "best"

    func validate() throws {
        guard threads > 0, repetitions > 0,
              !rowCounts.isEmpty, rowCounts.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("sizes, threads, repetitions and row counts must be positive")
        }
        guard let chosen = packedKernel else { throw ValidationError("--kernel must be best, avx2 or avx512") }
        if chosen == .avx512, !CPUFeatures.hasAVX512 { throw ValidationError("this CPU has no AVX-512") }
    }

    private var packedKernel: PackedMatrix.Kernel? {
        switch kernel {
        case "best": return .best
        case "avx2": return .avx2
        case "avx512": return .avx512
        default: return nil
        }
    }

    private var rowCounts: [Int] { rows.split(separator: ",").compactMap { Int($0) } }

    func run() throws {
        BLAS.setThreads(threads)
        let e = size.emb, h = size.hidden, c = 2 * size.hidden, attention = size.attention, vocab = size.vocab
        // [k, n] of every matrix a decoder step multiplies by, in step order.
        let shapes = [(e, 3 * h), (h, 3 * h), (h, attention), (c, 3 * h), (h, 3 * h), (h, e), (e, e), (c, e), (e, vocab)]
        var rng = SeededRNG(seed: 1)
        let matrices = shapes.map { k, n in (0..<(k * n)).map { _ in rng.normal() * 0.05 } }
        let packed = zip(shapes, matrices).map { shape, matrix in
            matrix.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, k: shape.0, n: shape.1, ldb: shape.1) }
        }
        let quantized = zip(shapes, matrices).map { shape, matrix in
            matrix.withUnsafeBufferPointer { Int8Matrix($0.baseAddress!, k: shape.0, n: shape.1, ldb: shape.1) }
        }
        let scratch = Int8Scratch()
        let widest = shapes.map { max($0.0, $0.1) }.max()!
        let chosen = packedKernel ?? .best
        print("openblas_core=\(BLAS.coreName) packed_kernel=\(chosen) int8_kernel=\(Int8Matrix.Kernel.best) threads=\(threads)")
        print("packed_row_limit=\(PackedMatrix.rowLimit(threads: threads)) (the choice in use: packed copies up to it, OpenBLAS beyond; kept in \(ProductPaths.cacheFile ?? "no cache"))")
        let fresh = ProductPaths.measure(threads: threads)
        print("measured_now=\(fresh.limit) " + fresh.timings.map { String(format: "%d:%.2f", $0.rows, $0.openBLAS / $0.packed) }
            .joined(separator: " ") + " (rows:OpenBLAS/packed time on [512, 1536])")
        for m in rowCounts {
            let a = (0..<(m * widest)).map { _ in rng.normal() }
            var out = [Float](repeating: 0, count: m * widest)
            func step(packedProducts: Bool, int8: Bool = false) -> Double {
                let start = DispatchTime.now().uptimeNanoseconds
                for (index, (k, n)) in shapes.enumerated() {
                    if int8 {
                        a.withUnsafeBufferPointer { a in
                            out.withUnsafeMutableBufferPointer { c in
                                quantized[index].multiply(m: m, a: a.baseAddress!, lda: k, beta: 0, c: c.baseAddress!,
                                                          ldc: n, scratch: scratch)
                            }
                        }
                    } else if packedProducts {
                        a.withUnsafeBufferPointer { a in
                            out.withUnsafeMutableBufferPointer { c in
                                packed[index].multiply(m: m, a: a.baseAddress!, lda: k, beta: 0, c: c.baseAddress!,
                                                       ldc: n, threads: threads, kernel: chosen)
                            }
                        }
                    } else {
                        BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: matrices[index], ldb: n, beta: 0, c: &out, ldc: n)
                    }
                }
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            }
            var openBLAS: [Double] = [], ours: [Double] = [], eightBit: [Double] = []
            _ = step(packedProducts: false); _ = step(packedProducts: true); _ = step(packedProducts: false, int8: true)
            for _ in 0..<repetitions {
                openBLAS.append(step(packedProducts: false))
                ours.append(step(packedProducts: true))
                eightBit.append(step(packedProducts: false, int8: true))
            }
            let blasMedian = openBLAS.sorted()[repetitions / 2], packedMedian = ours.sorted()[repetitions / 2]
            let int8Median = eightBit.sorted()[repetitions / 2]
            print(String(format: "rows=%d openblas_ms=%.3f packed_ms=%.3f speedup=%.2f int8_ms=%.3f int8_speedup=%.2f", m,
                         blasMedian, packedMedian, blasMedian / packedMedian, int8Median, blasMedian / int8Median))
        }
    }
}

/// `s2s bench allreduce`, under `mpirun`: the time to sum a training update's gradient block
/// over the ranks (what every update of a multi-machine run adds), on this job's links; rank 0
/// prints the median over repetitions and the bus bandwidth it implies.
struct BenchAllReduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce", abstract: "Time the all-reduce of a gradient block across mpirun's ranks.")

    @OptionGroup var size: BenchModelSize
    @Option(help: "Timed repetitions (the median is reported).") var repetitions = 10

    func run() {
        runReportingErrors {
            let communicator = try makeCommunicator()
            distributedJob = communicator
            var config = ModelConfig(sourceVocabularySize: size.vocab, targetVocabularySize: size.vocab)
            config.embeddingSize = size.emb
            config.hiddenSize = size.hidden
            config.attentionSize = size.attention
            let block = ParameterStore(layout: Seq2SeqParameters.layout(for: config))
            try communicator.allReduceSum(block.values)  // connections are set up on first use
            var seconds: [Double] = []
            for _ in 0..<max(1, repetitions) {
                let start = DispatchTime.now().uptimeNanoseconds
                try communicator.allReduceSum(block.values)
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            guard communicator.isLeader else { return }
            let median = seconds.sorted()[seconds.count / 2], bytes = Double(block.values.count * 4)
            let ranks = Double(communicator.size)
            print("ranks=\(communicator.size) floats=\(block.values.count) bytes=\(Int(bytes))")
            print(String(format: "allreduce_ms=%.2f", median * 1000))
            // A ring all-reduce moves 2(R − 1)/R of the block over each link.
            print(String(format: "bus_gb_per_s=%.2f", ranks > 1 ? 2 * (ranks - 1) / ranks * bytes / median / 1e9 : 0))
        }
    }
}
