/// A heatmap of attention weights as a standalone SVG: one column per source piece, one row
/// per target piece, darker cells for larger α, pieces written along the axes.
public enum AttentionSVG {
    /// The SVG document for `attention[j][i]` (target piece j × source piece i).
    /// `title` goes above the plot (for instance the line number).
    public static func render(sourcePieces: [String], targetPieces: [String], attention: [[Float]],
                              title: String = "") -> String {
        let cell = 22
        let font = 12
        // Room for labels: source pieces are written vertically above the grid, target pieces
        // to its left; 7 px per character is enough for a 12 px sans-serif font.
        let leftMargin = 16 + 7 * (targetPieces.map(\.count).max() ?? 1)
        let topMargin = 34 + 7 * (sourcePieces.map(\.count).max() ?? 1)
        let width = leftMargin + cell * max(1, sourcePieces.count) + 60
        let height = topMargin + cell * max(1, targetPieces.count) + 16
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" \
        viewBox="0 0 \(width) \(height)" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" \
        font-size="\(font)">
        <rect width="100%" height="100%" fill="white"/>
        <text x="8" y="18" font-weight="bold">\(escape(title))</text>

        """
        // Grid cells: white (α = 0) to dark blue (α = 1); the value is in a tooltip.
        for (j, row) in attention.enumerated() where j < targetPieces.count {
            for (i, alpha) in row.enumerated() where i < sourcePieces.count {
                let a = min(1, max(0, alpha.isFinite ? alpha : 0))
                let red = Int((1 - a) * 255 + a * 8), green = Int((1 - a) * 255 + a * 48), blue = Int((1 - a) * 255 + a * 107)
                svg += "<rect x=\"\(leftMargin + i * cell)\" y=\"\(topMargin + j * cell)\" width=\"\(cell)\" "
                    + "height=\"\(cell)\" fill=\"rgb(\(red),\(green),\(blue))\">"
                    + "<title>\(escape(sourcePieces[i])) → \(escape(targetPieces[j])): \(format(a))</title></rect>\n"
            }
        }
        // Frame around the grid.
        svg += "<rect x=\"\(leftMargin)\" y=\"\(topMargin)\" width=\"\(cell * sourcePieces.count)\" "
            + "height=\"\(cell * targetPieces.count)\" fill=\"none\" stroke=\"#888\"/>\n"
        // Source pieces: rotated, reading upwards, above their column.
        for (i, piece) in sourcePieces.enumerated() {
            let x = leftMargin + i * cell + cell / 2 + font / 3
            let y = topMargin - 6
            svg += "<text transform=\"translate(\(x),\(y)) rotate(-90)\">\(escape(piece))</text>\n"
        }
        // Target pieces: right-aligned, left of their row.
        for (j, piece) in targetPieces.enumerated() {
            let y = topMargin + j * cell + cell / 2 + font / 3
            svg += "<text x=\"\(leftMargin - 6)\" y=\"\(y)\" text-anchor=\"end\">\(escape(piece))</text>\n"
        }
        // Colour scale legend.
        let legendX = leftMargin + cell * max(1, sourcePieces.count) + 16
        svg += "<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
            + "<stop offset=\"0\" stop-color=\"rgb(255,255,255)\"/><stop offset=\"1\" stop-color=\"rgb(8,48,107)\"/>"
            + "</linearGradient></defs>\n"
        svg += "<rect x=\"\(legendX)\" y=\"\(topMargin)\" width=\"12\" height=\"\(cell * max(1, targetPieces.count))\" "
            + "fill=\"url(#scale)\" stroke=\"#888\"/>\n"
        svg += "<text x=\"\(legendX + 16)\" y=\"\(topMargin + font)\">1</text>\n"
        svg += "<text x=\"\(legendX + 16)\" y=\"\(topMargin + cell * max(1, targetPieces.count))\">0</text>\n"
        svg += "</svg>\n"
        return svg
    }

    /// XML-escapes text content.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    private static func format(_ value: Float) -> String {
        let hundredths = Int((value * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }
}
