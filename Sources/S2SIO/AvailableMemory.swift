import Foundation

/// How much memory this process may still use: the smaller of the kernel's `MemAvailable`
/// (free plus reclaimable cache) and the room left under a cgroup v2 `memory.max`, when set.
/// Nil where neither can be read (the caller then skips its check).
public enum AvailableMemory {
    public static func bytes() -> Int? {
        var limits: [Int] = []
        if let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") {
            limits.append(kilobytes * 1024)
        }
        if let maximum = cgroupValue("memory.max"), let current = cgroupValue("memory.current") {
            limits.append(max(maximum - current, 0))
        }
        return limits.min()
    }

    /// A number from this process's cgroup v2 directory ("max" reads as nil).
    private static func cgroupValue(_ file: String) -> Int? {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let line = membership.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
        let path = "/sys/fs/cgroup" + line.dropFirst(3) + "/" + file
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
