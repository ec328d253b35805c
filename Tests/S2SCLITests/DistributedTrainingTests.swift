import Foundation
import XCTest

/// `s2s train` across processes with Open MPI's `mpirun` (installed by `make setup`), as a user
/// runs it: two ranks of one worker make bit-identical models to one process of two workers,
/// over shared memory and over TCP; a resumed run continues exactly on another number of
/// ranks; a rank with other data stops the job before the first update; a killed rank ends it.
final class DistributedTrainingTests: XCTestCase {
    private var work = ""

    /// What Open MPI needs in a container run as root without ptrace (README, "Training on
    /// several machines").
    static let mpiEnvironment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                                 "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
                                 "OMPI_MCA_rmaps_base_oversubscribe": "1"]

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "s2s-mpi-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let corpus = try multi30kPath()
        for side in ["en", "fr"] {
            let lines = try String(contentsOfFile: "\(corpus)/train.\(side)", encoding: .utf8)
                .split(separator: "\n").prefix(1500).joined(separator: "\n") + "\n"
            try lines.write(toFile: "\(work)/train.\(side)", atomically: true, encoding: .utf8)
        }
        let vocabulary = try runS2S(["vocab", work + "/train.en", work + "/train.fr", "-o", work + "/v.s2sv",
                                     "--size", "500", "--quiet"])
        XCTAssertEqual(vocabulary.status, 0, vocabulary.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func mpirun() throws -> URL {
        let candidates = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"]
        let path = try XCTUnwrap(candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
                                 "mpirun not found: `make setup` installs openmpi-bin")
        return URL(fileURLWithPath: path)
    }

    /// `s2s train` options of a small run writing `model`.
    private func training(_ model: String, _ extra: [String] = []) -> [String] {
        ["train", work + "/train.en", work + "/train.fr", "-v", work + "/v.s2sv", "-o", work + "/" + model,
         "--emb", "16", "--hidden", "24", "--attention", "20", "--batch-tokens", "500", "--no-valid-bleu",
         "--seed", "3", "--quiet"] + extra
    }

    private func tensors(_ model: String) throws -> String {
        let info = try runS2S(["info", "--tensors", work + "/" + model])
        XCTAssertEqual(info.status, 0, info.stderr)
        let listing = info.stdout.components(separatedBy: "\ntensors\n").last ?? ""
        XCTAssertTrue(listing.contains("crc32c"), info.stdout)
        return listing
    }

    private func mpi(_ ranks: Int, _ arguments: [String], mca: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProgram(try mpirun(), mca + ["-np", String(ranks), try s2sBinary().path] + arguments,
                environment: Self.mpiEnvironment)
    }

    func testTwoRanksOfOneWorkerMatchOneProcessOfTwoWorkersBitForBit() throws {
        let single = try runS2S(training("workers.s2s", ["--workers", "2", "--max-updates", "20"]))
        XCTAssertEqual(single.status, 0, single.stderr)
        for (name, mca) in [("shm.s2s", [String]()), ("tcp.s2s", ["--mca", "btl", "self,tcp"])] {
            let ranks = try mpi(2, training(name, ["--workers", "1", "--max-updates", "20"]), mca: mca)
            XCTAssertEqual(ranks.status, 0, ranks.stderr)
            XCTAssertEqual(try tensors(name), try tensors("workers.s2s"), "\(mca)")
        }
        // One worker on the whole batch is another sum: it agrees only up to rounding.
        let lone = try runS2S(training("lone.s2s", ["--workers", "1", "--threads", "1", "--max-updates", "20"]))
        XCTAssertEqual(lone.status, 0, lone.stderr)
        XCTAssertNotEqual(try tensors("lone.s2s"), try tensors("workers.s2s"))
    }

    func testResumeFromTwoRanksInOneProcessContinuesExactly() throws {
        let straight = try runS2S(training("straight.s2s", ["--workers", "2", "--max-updates", "16"]))
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let first = try mpi(2, training("halves.s2s", ["--workers", "1", "--max-updates", "8"]))
        XCTAssertEqual(first.status, 0, first.stderr)
        let second = try runS2S(training("halves.s2s", ["--workers", "2", "--max-updates", "16", "--resume"]))
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(try tensors("halves.s2s"), try tensors("straight.s2s"))
    }

    func testARankWithOtherDataOrOptionsStopsTheJobBeforeTheFirstUpdate() throws {
        let binary = try s2sBinary().path
        try (try String(contentsOfFile: work + "/train.en", encoding: .utf8).split(separator: "\n").prefix(700)
            .joined(separator: "\n")).write(toFile: work + "/short.en", atomically: true, encoding: .utf8)
        try (try String(contentsOfFile: work + "/train.fr", encoding: .utf8).split(separator: "\n").prefix(700)
            .joined(separator: "\n")).write(toFile: work + "/short.fr", atomically: true, encoding: .utf8)
        var otherData = training("other.s2s", ["--max-updates", "5", "--valid-src", work + "/short.en",
                                               "--valid-tgt", work + "/short.fr"])
        otherData[1] = work + "/short.en"
        otherData[2] = work + "/short.fr"
        let cases: [([String], String)] = [
            (training("other.s2s", ["--max-updates", "5", "--label-smoothing", "0.2", "--valid-src", work + "/short.en",
                                    "--valid-tgt", work + "/short.fr"]), "rank 1 has a different training options from rank 0"),
            (otherData, "rank 1 has a different training corpus from rank 0"),
        ]
        for (rankOne, message) in cases {
            let rankZero = training("other.s2s", ["--max-updates", "5", "--valid-src", work + "/short.en",
                                                  "--valid-tgt", work + "/short.fr"])
            let result = try runProgram(try mpirun(), ["-np", "1", binary] + rankZero + [":", "-np", "1", binary] + rankOne,
                                 environment: Self.mpiEnvironment)
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains("s2s: error: " + message), result.stderr)
            XCTAssertEqual(result.stderr.components(separatedBy: "s2s: error:").count, 2, "one line: \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/other.s2s"), "no update was made")
            try? FileManager.default.removeItem(atPath: work + "/other.s2s")
        }
    }

    func testAKilledRankEndsTheJobAndTheLastCheckpointResumes() throws {
        let process = Process()
        process.executableURL = try mpirun()
        process.arguments = ["-np", "2", try s2sBinary().path] + training("killed.s2s", ["--workers", "1",
                                                                                          "--max-updates", "100000",
                                                                                          "--save-frequency", "5"])
        process.environment = ProcessInfo.processInfo.environment.merging(Self.mpiEnvironment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let model = work + "/killed.s2s"
        var deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: model) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.5)
        let ranks = try runProgram(URL(fileURLWithPath: "/usr/bin/pgrep"), ["-f", "-P", String(process.processIdentifier), "killed.s2s"])
        let victim = try XCTUnwrap(ranks.stdout.split(separator: "\n").compactMap { Int32($0) }.last, "no rank found")
        kill(victim, SIGKILL)
        deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertFalse(process.isRunning, "the job did not end within 30 s of a rank's death")
        if process.isRunning { process.terminate() }
        let saved = try runS2S(["info", "--json", model])
        XCTAssertEqual(saved.status, 0, saved.stderr)
        let updates = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(saved.stdout.utf8)) as? [String: Any])["updates"] as? Int
        let resumed = try runS2S(training("killed.s2s", ["--workers", "2", "--resume", "--max-updates",
                                                         String((updates ?? 0) + 3)]))
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let after = try runS2S(["info", "--json", model])
        XCTAssertTrue(after.stdout.contains("\"updates\" : \((updates ?? 0) + 3)"), after.stdout)
    }
}
