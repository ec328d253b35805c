#if canImport(Glibc)
import Glibc
#endif
import Foundation
import S2SIO

/// Names and housekeeping of the files around a model: numbered snapshots (`--keep N`), the
/// best model, and temporary files a crash left behind.
public enum CheckpointFiles {
    /// The numbered snapshot of `path` after `updates` updates: `model.s2s.iter1000`.
    public static func numberedPath(for path: String, updates: Int) -> String { "\(path).iter\(updates)" }

    /// The best-model path of `path`: `model.s2s` → `model.best.s2s` (else `<path>.best`).
    public static func bestPath(for path: String) -> String {
        path.hasSuffix(".s2s") ? String(path.dropLast(4)) + ".best.s2s" : path + ".best"
    }

    /// The path of the average of the last checkpoints: `model.s2s` → `model.average.s2s`.
    public static func averagePath(for path: String) -> String {
        path.hasSuffix(".s2s") ? String(path.dropLast(4)) + ".average.s2s" : path + ".average"
    }

    /// Numbered snapshots of `path` that exist, oldest (fewest updates) first.
    public static func numberedSnapshots(of path: String) throws -> [(path: String, updates: Int)] {
        let directory = directoryOf(path)
        let prefix = baseName(path) + ".iter"
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw IOError.cannotOpen(path: directory, reason: "cannot list folder")
        }
        return names.compactMap { name -> (String, Int)? in
            guard name.hasPrefix(prefix), let updates = Int(name.dropFirst(prefix.count)),
                  String(updates) == name.dropFirst(prefix.count) else { return nil }
            return (directory == "." && !path.hasPrefix("./") ? name : directory + "/" + name, updates)
        }.sorted { $0.1 < $1.1 }
    }

    /// Deletes all but the `keep` newest numbered snapshots of `path` (and their state
    /// files); returns the paths deleted. `keep` ≤ 0 deletes none (no rotation).
    @discardableResult
    public static func rotate(_ path: String, keep: Int) throws -> [String] {
        guard keep > 0 else { return [] }
        let snapshots = try numberedSnapshots(of: path)
        var removed: [String] = []
        for snapshot in snapshots.dropLast(keep) {
            guard unlink(snapshot.path) == 0 else {
                throw IOError.cannotWrite(path: snapshot.path, reason: "cannot delete: \(systemErrorMessage(errno))")
            }
            unlink(CheckpointIO.statePath(for: snapshot.path))
            removed.append(snapshot.path)
        }
        return removed
    }

    /// Copies a file atomically (e.g. the current model to `bestPath(for:)`).
    public static func copy(from source: String, to destination: String) throws {
        guard let data = FileManager.default.contents(atPath: source) else {
            throw IOError.cannotOpen(path: source, reason: "cannot read")
        }
        try AtomicFile.write(to: destination) { writer in
            try data.withUnsafeBytes { try writer.write($0) }
        }
    }

    /// Deletes temporary files (`<name>.tmp.XXXXXX`, as `AtomicFile` makes them) that an
    /// interrupted write of `path`, its state or its snapshots left; returns them. Call it
    /// only when no other process is writing next to `path`.
    @discardableResult
    public static func removeStaleTemporaries(of path: String) throws -> [String] {
        let directory = directoryOf(path)
        let base = baseName(path)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(base) {
            guard let target = AtomicFile.targetOfTemporary(named: name) else { continue }
            let suffix = target.dropFirst(base.count)
            let belongs = suffix.isEmpty || suffix == ".state" || suffix == ".state.previous"
                || (suffix.hasPrefix(".iter") && Int(suffix.dropFirst(5)) != nil)
            guard belongs else { continue }
            let full = directory + "/" + name
            if unlink(full) == 0 { removed.append(full) }
        }
        return removed
    }

    static func directoryOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
