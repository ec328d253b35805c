import Foundation
import XCTest

/// The shape of the code base, as docs/architecture.md promises it: Package.swift declares
/// exactly what each target imports, the document draws exactly Package.swift's graph, and no
/// function of the model, decoding or training modules runs past 80 lines.
final class PackageGraphTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Modules every target may import without declaring them.
    private static let system: Set<String> = ["Foundation", "FoundationXML", "Glibc", "Darwin", "Dispatch", "XCTest",
                                              "Synchronization"]

    /// Targets whose sources are not in Sources/ or Tests/ (`path:` in Package.swift).
    private var folders: [String: String] = [:]

    /// Each target's declared dependencies, read from Package.swift
    /// (`.product(name: "X", …)` counts as X).
    private func declaredDependencies() throws -> [String: Set<String>] {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var targets: [String: Set<String>] = [:]
        let declaration = try Regex(#"\.(?:target|executableTarget|testTarget)\(\s*name:\s*"([^"]+)"([^()]*(?:\([^()]*\)[^()]*)*)\)"#)
        for match in manifest.matches(of: declaration) {
            let name = String(match.output[1].substring!), body = String(match.output[2].substring!)
            var dependencies: Set<String> = []
            if let list = body.firstMatch(of: try Regex(#"dependencies:\s*\[([^\]]*)\]"#)) {
                let text = String(list.output[1].substring!)
                let product = try Regex(#"\.product\(name:\s*"([^"]+)""#)
                let withoutProducts = text.replacing(try Regex(#"package:\s*"[^"]+""#), with: "")
                for name in withoutProducts.matches(of: try Regex(#""([^"]+)""#)) {
                    dependencies.insert(String(name.output[1].substring!))
                }
                for name in text.matches(of: product) { dependencies.insert(String(name.output[1].substring!)) }
            }
            targets[name] = dependencies
            if let path = body.firstMatch(of: try Regex(#"path:\s*"([^"]+)""#)) { folders[name] = String(path.output[1].substring!) }
        }
        XCTAssertGreaterThan(targets.count, 20, "Package.swift was not read")
        return targets
    }

    /// The modules the Swift files of a target's folder import.
    private func imports(of target: String) throws -> Set<String> {
        let folders = (self.folders[target].map { [$0] } ?? ["Sources/\(target)", "Tests/\(target)"])
            .map { Self.root.appendingPathComponent($0) }
        guard let folder = folders.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else { return [] }
        var modules: Set<String> = []
        let line = try Regex(#"(?m)^\s*(?:@testable\s+)?import\s+(\w+)"#)
        for case let file as URL in FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)!
        where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: line) { modules.insert(String(match.output[1].substring!)) }
        }
        return modules.subtracting(Self.system)
    }

    func testPackageDeclaresExactlyWhatEachTargetImports() throws {
        for (target, declared) in try declaredDependencies() {
            let imported = try imports(of: target)
            // A module map's C library counts as imported when a Swift module of it is.
            if ["CBLAS", "CZlib", "CMPI"].contains(target) { continue }
            XCTAssertEqual(imported, declared.subtracting(["swift-argument-parser"]), "\(target): imports vs Package.swift")
        }
    }

    func testArchitectureDocumentDrawsThePackageGraph() throws {
        let document = try String(contentsOf: Self.root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        let block = try XCTUnwrap(document.firstMatch(of: try Regex(#"```modules\n([\s\S]*?)```"#)), "no ```modules block")
        var drawn: [String: Set<String>] = [:]
        for line in String(block.output[1].substring!).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            drawn[String(parts[0])] = Set((parts.count > 1 ? parts[1] : "").split(separator: " ").map(String.init))
        }
        let libraries = try declaredDependencies().filter { !$0.key.hasSuffix("Tests") && !["CBLAS", "CZlib", "CMPI"].contains($0.key) }
        XCTAssertEqual(drawn, libraries)
    }

    func testNoFunctionOfTheModelDecodingOrTrainingIsLongerThan80Lines() throws {
        var tooLong: [String] = []
        for module in ["S2SModel", "S2SDecoding", "S2STraining"] {
            let folder = Self.root.appendingPathComponent("Sources/\(module)")
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".swift") {
                let lines = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
                    .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                for function in Self.functions(in: lines) where function.lines > 80 {
                    tooLong.append("\(module)/\(name):\(function.start + 1) \(function.lines) lines")
                }
            }
        }
        XCTAssertEqual(tooLong, [])
        // The counter sees a long function when there is one.
        let long = ["func f() {"] + Array(repeating: "    x += 1", count: 85) + ["}"]
        XCTAssertEqual(Self.functions(in: long).map(\.lines), [87])
    }

    /// Functions, initializers and subscripts with a body: where each starts and how many lines
    /// it spans, counting braces outside strings and comments.
    private static func functions(in lines: [String]) -> [(start: Int, lines: Int)] {
        let header = try! Regex(#"^\s*(?:@[\w()]+\s+)*(?:(?:public|private|fileprivate|internal|static|override|mutating|final|convenience|nonisolated)\s+)*(?:func\s|init[?!]?[(<]|subscript[(<])"#)
        var found: [(start: Int, lines: Int)] = []
        var index = 0
        while index < lines.count {
            guard lines[index].firstMatch(of: header) != nil else { index += 1; continue }
            var depth = 0, opened = false, end = index
            scan: while end < lines.count {
                let code = lines[end].replacing(try! Regex(#""(?:\\.|[^"\\])*""#), with: "\"\"")
                    .replacing(try! Regex(#"//.*"#), with: "")
                for character in code {
                    if character == "{" { depth += 1; opened = true }
                    if character == "}" { depth -= 1 }
                    if opened && depth == 0 { break scan }
                }
                // A declaration without a body (a protocol requirement) ends at its line.
                if !opened && end > index && lines[end].trimmingCharacters(in: .whitespaces).isEmpty { break }
                end += 1
            }
            if opened { found.append((index, end - index + 1)) }
            index = opened ? end + 1 : index + 1
        }
        return found
    }
}
