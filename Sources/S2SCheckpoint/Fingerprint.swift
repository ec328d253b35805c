import S2SContainer

/// Short content fingerprints that tie files together: a model to its vocabulary and corpus,
/// a training-state file to its model. Not cryptographic: they catch mix-ups, not forgeries.
public enum Fingerprint {
    /// `fnv1a64-crc32c-length` of `bytes` in hex, e.g. `cbf29ce484222325-00000000-0`:
    /// two unrelated 64- and 32-bit hashes plus the length, so accidental collisions are
    /// negligible for the handful of files a user keeps.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> String {
        var fnv: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            fnv = (fnv ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        let crc = CRC32C.checksum(bytes)
        return hex(fnv, digits: 16) + "-" + hex(UInt64(crc), digits: 8) + "-" + String(bytes.count)
    }

    /// The fingerprint of `text`'s UTF-8 bytes.
    public static func of(text: String) -> String {
        var text = text
        return text.withUTF8 { of(UnsafeRawBufferPointer($0)) }
    }

    /// A fresh random identifier (128 bits, hex), naming one checkpoint write.
    public static func randomIdentifier() -> String {
        var generator = SystemRandomNumberGenerator()
        return hex(generator.next(), digits: 16) + hex(generator.next(), digits: 16)
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
