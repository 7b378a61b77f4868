// Activation statistics drawn as SVG by hand (lesson 12).
//
// One line per network: the standard deviation of each layer's output, layer
// after layer, on a logarithmic axis — a spread that explodes or vanishes
// spans twenty powers of ten, and a healthy one stays level. Each point's
// tooltip gives the layer, its mean and its standard deviation.

import Foundation
import Kindling

/// An SVG chart of `activationStatistics` for one or more networks.
public struct ActivationChart {
    /// One network's statistics, drawn as one line.
    public struct Series {
        /// The legend's name for this line.
        public var name: String
        /// The statistics, one point each, drawn at x = 1, 2, 3, … in order.
        public var statistics: [ActivationStatistics]

        /// A named line.
        public init(name: String, statistics: [ActivationStatistics]) {
            self.name = name
            self.statistics = statistics
        }
    }

    /// The heading drawn above the plot.
    public var title: String
    /// The name under the horizontal axis.
    public var xLabel: String
    /// The lines.
    public var series: [Series]

    /// A chart of `series` under `title`.
    public init(title: String, xLabel: String = "layer", series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.series = series
    }

    /// The line colours, in order (then again from the start).
    static let colours = ["#dc2626", "#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#4b5563"]

    // The drawing's size, the plot's margins and the legend's column, in pixels.
    let width = 760.0, height = 360.0
    let left = 68.0, top = 48.0, bottom = 58.0, plotRight = 560.0, legendLeft = 584.0

    var plotLeft: Double { left }
    var plotTop: Double { top }
    var plotBottom: Double { height - bottom }

    /// The longest series' length: the number of x positions.
    var positions: Int { series.map(\.statistics.count).max() ?? 0 }

    /// The powers of ten the vertical axis spans: the decades around every
    /// positive, finite standard deviation (0 and 1, i.e. 1…10, when there is none).
    var decades: ClosedRange<Int> {
        let logs = series.flatMap(\.statistics).map(\.std).filter { $0 > 0 && $0.isFinite }.map(log10)
        guard let low = logs.min(), let high = logs.max() else { return 0...1 }
        let (lower, upper) = (Int(low.rounded(.down)), Int(high.rounded(.up)))
        return lower...max(upper, lower + 1)
    }

    /// The horizontal pixel of position `i` (1-based); a lone position sits in the middle.
    func x(_ i: Int) -> Double {
        let inset = 14.0
        guard positions > 1 else { return (plotLeft + plotRight) / 2 }
        return plotLeft + inset + Double(i - 1) / Double(positions - 1) * (plotRight - plotLeft - 2 * inset)
    }

    /// The vertical pixel of a standard deviation, on the logarithmic axis.
    func y(_ std: Double) -> Double {
        let d = decades
        let t = (log10(std) - Double(d.lowerBound)) / Double(d.upperBound - d.lowerBound)
        return plotBottom - t * (plotBottom - plotTop)
    }

    /// The whole chart as a standalone SVG document (it also works inline in HTML).
    public func svg() -> String {
        var parts = [openingTag(), "<title>\(Markup.escape(title))</title>",
                     "<rect width=\"\(px(width))\" height=\"\(px(height))\" fill=\"#ffffff\"/>",
                     "<text x=\"\(px((plotLeft + plotRight) / 2))\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" "
                        + "font-weight=\"600\" fill=\"#111827\">\(Markup.escape(title))</text>",
                     yGrid(), xTicks(), axes()]
        for (k, s) in series.enumerated() { parts.append(line(s, colour: Self.colours[k % Self.colours.count])) }
        parts.append(legend())
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    func openingTag() -> String { ChartSVG.openingTag(width: width, height: height, title: title) }

    /// A grid line and a label at every power of ten: 10⁻², 10⁻¹, 1, 10, …
    func yGrid() -> String {
        let d = decades
        // A round step (1, 2, 5, 10 or 20 decades) that gives at most 8 labels, at its multiples (so 1 is one).
        let span = d.upperBound - d.lowerBound
        let step = [1, 2, 5, 10, 20].first { span / $0 <= 8 } ?? 50
        return d.filter { $0 % step == 0 }.map { e in
            let y = px(self.y(pow(10, Double(e))))
            return "<line x1=\"\(px(plotLeft))\" y1=\"\(y)\" x2=\"\(px(plotRight))\" y2=\"\(y)\" stroke=\"#e5e7eb\"/>"
                + "<text x=\"\(px(plotLeft - 8))\" y=\"\(y)\" dy=\"4\" text-anchor=\"end\" fill=\"#4b5563\">\(powerOfTen(e))</text>"
        }.joined(separator: "\n")
    }

    /// "1", "10", "0.1", or "1e-12" for the far decades.
    func powerOfTen(_ e: Int) -> String {
        switch e {
        case 0: return "1"
        case 1...3: return "1" + String(repeating: "0", count: e)
        case -3 ... -1: return "0." + String(repeating: "0", count: -e - 1) + "1"
        default: return "1e\(e)"
        }
    }

    /// Ticks under the axis: every position for short series, else round steps.
    func xTicks() -> String {
        guard positions > 0 else { return "" }
        let step = positions <= 12 ? 1 : Int(AxisScale.niceStep(Double(positions) / 8))
        let ticks = Array(Set([1] + Array(stride(from: step, through: positions, by: step)))).sorted()
        return ticks.map { i in
            let x = px(self.x(i))
            return "<line x1=\"\(x)\" y1=\"\(px(plotBottom))\" x2=\"\(x)\" y2=\"\(px(plotBottom + 5))\" stroke=\"#374151\"/>"
                + "<text x=\"\(x)\" y=\"\(px(plotBottom + 20))\" text-anchor=\"middle\" fill=\"#4b5563\">\(i)</text>"
        }.joined(separator: "\n")
    }

    /// The two axes and their names.
    func axes() -> String {
        let midY = px((plotTop + plotBottom) / 2)
        return "<path d=\"M\(px(plotLeft)) \(px(plotTop)) V\(px(plotBottom)) H\(px(plotRight))\" fill=\"none\" stroke=\"#374151\"/>\n"
            + "<text x=\"\(px((plotLeft + plotRight) / 2))\" y=\"\(px(height - 14))\" text-anchor=\"middle\" "
            + "font-size=\"13\" fill=\"#111827\">\(Markup.escape(xLabel))</text>\n"
            + "<text transform=\"translate(18 \(midY)) rotate(-90)\" text-anchor=\"middle\" "
            + "font-size=\"13\" fill=\"#111827\">standard deviation (log scale)</text>"
    }

    /// One series: a polyline through its points and a dot per point with a tooltip.
    func line(_ s: Series, colour: String) -> String {
        let points = s.statistics.enumerated().filter { $0.element.std > 0 && $0.element.std.isFinite }
        let coordinates = points.map { "\(px(x($0.offset + 1))),\(px(y($0.element.std)))" }
        var parts = ["<g class=\"series\"><title>\(Markup.escape(s.name))</title>",
                     "<polyline points=\"\(coordinates.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" "
                        + "stroke-width=\"2.5\" stroke-linejoin=\"round\"/>"]
        for (i, stat) in points {
            let tip = "\(s.name), \(xLabel) \(i + 1) (\(stat.index) \(stat.layer)): mean \(String(format: "%.4g", stat.mean)), std \(String(format: "%.4g", stat.std))"
            parts.append("<circle cx=\"\(px(x(i + 1)))\" cy=\"\(px(y(stat.std)))\" r=\"3\" fill=\"\(colour)\">"
                         + "<title>\(Markup.escape(tip))</title></circle>")
        }
        parts.append("</g>")
        return parts.joined(separator: "\n")
    }

    /// The series' names, each beside a short line of its colour.
    func legend() -> String {
        series.enumerated().map { k, s in
            let y = plotTop + 8 + Double(k) * 22
            let colour = Self.colours[k % Self.colours.count]
            return "<line x1=\"\(px(legendLeft))\" y1=\"\(px(y))\" x2=\"\(px(legendLeft + 22))\" y2=\"\(px(y))\" stroke=\"\(colour)\" stroke-width=\"3\"/>"
                + "<text x=\"\(px(legendLeft + 30))\" y=\"\(px(y))\" dy=\"4\" fill=\"#111827\">\(Markup.escape(s.name))</text>"
        }.joined(separator: "\n")
    }

    /// A pixel coordinate with one decimal.
    func px(_ v: Double) -> String { ChartSVG.px(v) }
}
