import Foundation

/// Draws training runs as an SVG picture: training loss (top panel) and validation BLEU
/// (bottom panel, with validation cross-entropy when no run has BLEU) against wall-clock time,
/// one colour per run with a legend when there are several (to compare systems side by side).
///
/// Two stacked panels sharing the time axis read more easily than one chart with two y axes.
public enum LearningCurvePlot {
    /// One run's records (as read from a `--log` file) and its name in the legend.
    public typealias Run = (name: String, records: [TrainingLogRecord])

    private static let colors = ["#cc0000", "#3465a4", "#4e9a06", "#f57900", "#75507b", "#555753"]

    /// The SVG document for one run's `records`.
    public static func svg(records: [TrainingLogRecord], title: String = "s2s training") -> String {
        svg(runs: [(name: "", records: records)], title: title)
    }

    /// The SVG document for `runs`, drawn over one time axis.
    public static func svg(runs: [Run], title: String) -> String {
        let all = runs.flatMap(\.records)
        let useBLEU = all.contains { $0.kind == .valid && $0.bleu != nil }
        let times = all.map { $0.elapsedSeconds / 60 }
        let xRange = niceRange(min: 0, max: max(times.max() ?? 1, 1e-3))

        var body = ""
        let width = 820.0, panelHeight = 230.0, left = 70.0, right = 30.0, top = 50.0, gap = 60.0
        let plotWidth = width - left - right
        let height = top + 2 * panelHeight + gap + 50

        func panel(y0: Double, runs series: [[(Double, Double)]], label: String, markers: Bool) {
            let values = series.flatMap { $0.map(\.1) }
            let yRange = niceRange(min: values.min() ?? 0, max: values.max() ?? 1)
            func px(_ x: Double) -> Double { left + (x - xRange.lower) / (xRange.upper - xRange.lower) * plotWidth }
            func py(_ y: Double) -> Double { y0 + panelHeight - (y - yRange.lower) / (yRange.upper - yRange.lower) * panelHeight }
            body += "<rect x=\"\(f(left))\" y=\"\(f(y0))\" width=\"\(f(plotWidth))\" height=\"\(f(panelHeight))\" fill=\"#fbfbfd\" stroke=\"#c8c8d0\"/>\n"
            for tick in yRange.ticks {
                let y = py(tick)
                body += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotWidth))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#e4e4ea\"/>\n"
                body += "<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\" class=\"tick\">\(tickLabel(tick))</text>\n"
            }
            for tick in xRange.ticks {
                let x = px(tick)
                body += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(y0))\" y2=\"\(f(y0 + panelHeight))\" stroke=\"#eeeef2\"/>\n"
                body += "<text x=\"\(f(x))\" y=\"\(f(y0 + panelHeight + 16))\" text-anchor=\"middle\" class=\"tick\">\(tickLabel(tick))</text>\n"
            }
            body += "<text x=\"\(f(left - 52))\" y=\"\(f(y0 + panelHeight / 2))\" transform=\"rotate(-90 \(f(left - 52)) \(f(y0 + panelHeight / 2)))\" text-anchor=\"middle\" class=\"label\">\(label)</text>\n"
            if values.isEmpty {
                body += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(y0 + panelHeight / 2))\" text-anchor=\"middle\" class=\"tick\">no data</text>\n"
                return
            }
            for (index, points) in series.enumerated() where !points.isEmpty {
                let color = colors[index % colors.count]
                let line = points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
                body += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n"
                if markers {
                    for (x, y) in points {
                        body += "<circle cx=\"\(f(px(x)))\" cy=\"\(f(py(y)))\" r=\"3.5\" fill=\"\(color)\"><title>\(tickLabel(y))</title></circle>\n"
                    }
                }
            }
        }

        panel(y0: top, runs: runs.map { run in
            run.records.filter { $0.kind == .train && $0.loss != nil }.map { ($0.elapsedSeconds / 60, $0.loss!) }
        }, label: "training loss (per token)", markers: false)
        panel(y0: top + panelHeight + gap, runs: runs.map { run in
            run.records.filter { $0.kind == .valid }.compactMap { record -> (Double, Double)? in
                (useBLEU ? record.bleu : record.crossEntropy).map { (record.elapsedSeconds / 60, $0) }
            }
        }, label: useBLEU ? "validation BLEU" : "validation cross-entropy", markers: true)
        if runs.count > 1 {
            for (index, run) in runs.enumerated() {
                let y = top + 16 + Double(index) * 16, color = colors[index % colors.count]
                body += "<rect x=\"\(f(left + plotWidth - 150))\" y=\"\(f(y - 9))\" width=\"12\" height=\"4\" fill=\"\(color)\"/>\n"
                body += "<text x=\"\(f(left + plotWidth - 132))\" y=\"\(f(y - 4))\" class=\"tick\">\(escape(run.name))</text>\n"
            }
        }

        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif">
        <style>.tick{font-size:11px;fill:#555}.label{font-size:13px;fill:#222}.title{font-size:16px;font-weight:bold;fill:#222}</style>
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(left))" y="30" class="title">\(escape(title))</text>
        \(body)<text x="\(f(left + plotWidth / 2))" y="\(f(height - 12))" text-anchor="middle" class="label">time (minutes)</text>
        </svg>

        """
    }

    /// An axis range widened to round numbers, with 4–8 ticks at a 1/2/5 × 10ⁿ step.
    static func niceRange(min low: Double, max high: Double) -> (lower: Double, upper: Double, ticks: [Double]) {
        var low = low, high = high
        if !(high > low) { low -= 0.5; high += 0.5 }
        let rawStep = (high - low) / 5
        let magnitude = pow(10, floor(log10(rawStep)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rawStep } ?? 10 * magnitude
        let lower = floor(low / step) * step
        let upper = ceil(high / step) * step
        var ticks: [Double] = []
        var tick = lower
        while tick <= upper + step / 2 { ticks.append(tick); tick += step }
        return (lower, upper, ticks)
    }

    private static func tickLabel(_ value: Double) -> String {
        if abs(value - value.rounded()) < 1e-9 { return String(Int(value.rounded())) }
        return String(format: "%.2g", value)
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
