import S2SIO

/// The read–translate–write loop of a streaming filter, kept out of the CLI so it can be tested.
public enum TranslationStream {
    /// Feeds every line of `reader` to `translator`. Results go to `emit` in input order;
    /// `didEmit` runs after each translated batch (the CLI flushes stdout there).
    ///
    /// When the reader has nothing more ready (an interactive user, a slow pipe), the partial
    /// batch is translated at once, so each typed line is answered right away. A line that is
    /// not valid UTF-8 is decoded with U+FFFD replacements and reported through
    /// `invalidUTF8(readerName, lineNumber)`; it still gets its output line.
    /// The caller flushes the translator after the last reader.
    public static func run(reader: LineReader, translator: Translator,
                           invalidUTF8: (String, Int) -> Void,
                           emit: (LineTranslation) throws -> Void,
                           didEmit: () throws -> Void) throws {
        while let bytes = try reader.nextLineBytes() {
            let line: String
            if let valid = String(validating: bytes, as: UTF8.self) {
                line = valid
            } else {
                line = String(decoding: bytes, as: UTF8.self)
                invalidUTF8(reader.name, reader.lineNumber)
            }
            try translator.add(line, emit: emit, batchFinished: didEmit)
            if !reader.canReadWithoutBlocking() {
                try translator.flush(emit: emit, batchFinished: didEmit)
                // Blank lines need no batch but must still come out now.
                try didEmit()
            }
        }
    }
}
