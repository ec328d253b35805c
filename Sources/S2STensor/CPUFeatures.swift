import Foundation

/// What this CPU offers, read once from /proc/cpuinfo (Linux; elsewhere nothing is known and
/// the portable paths are taken).
public enum CPUFeatures {
    /// The `flags` line's words: "avx2", "fma", "avx512f", …
    public static let flags: Set<String> = {
        guard let line = cpuInfoLine("flags") else { return [] }
        return Set(line.split(separator: " ").map(String.init))
    }()

    /// "GenuineIntel", "AuthenticAMD", … (the `vendor_id` line), or "".
    public static let vendor: String = cpuInfoLine("vendor_id") ?? ""

    /// The `cpu family`, `model` and `stepping` lines ("" when absent): with the vendor, what
    /// tells two kinds of CPU apart when `model name` does not (some hypervisors shorten it).
    public static let family: String = cpuInfoLine("cpu family") ?? ""
    public static let model: String = cpuInfoLine("model\t") ?? cpuInfoLine("model ") ?? ""
    public static let stepping: String = cpuInfoLine("stepping") ?? ""

    /// The AVX-512 subsets LLVM's skylake-avx512 target uses (F, DQ, CD, BW, VL), which the
    /// S2SPanelKernels module is compiled for. The kernel lists them only when it has
    /// enabled the 512-bit registers. `S2S_MAX_CPU_ISA=avx2` in the environment keeps s2s's own
    /// kernels to AVX2 on such a CPU, to reproduce an AVX2 machine's results bit for bit.
    public static let hasAVX512: Bool = avx512Subsets.allSatisfy(flags.contains) && !limitedToAVX2

    /// AVX-512 VNNI (vpdpbusd), which the fastest int8 kernel needs.
    public static let hasAVX512VNNI: Bool = hasAVX512 && flags.contains("avx512_vnni")

    /// Whether the environment limits s2s's own kernels to AVX2 (`S2S_MAX_CPU_ISA=avx2`).
    public static let limitedToAVX2: Bool =
        ProcessInfo.processInfo.environment["S2S_MAX_CPU_ISA"]?.lowercased() == "avx2"

    static let avx512Subsets = ["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]

    /// The value after the colon of the first /proc/cpuinfo line starting with `key`.
    private static func cpuInfoLine(_ key: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) }),
              let colon = line.firstIndex(of: ":") else { return nil }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
}
