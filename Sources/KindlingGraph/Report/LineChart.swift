// Line charts drawn as SVG by hand (lesson: reports).
//
// A chart is mostly arithmetic: pick a value range with round tick marks,
// map each value to a pixel, then write one SVG element per line, label and
// point. No plotting library needed.

import Foundation

/// A linear axis with "nice" round ticks: 0, 0.2, 0.4 … rather than 0.137, 0.274 ….
struct AxisScale: Equatable {
    /// The smallest value on the axis (a tick).
    var lower: Double
    /// The largest value on the axis (a tick).
    var upper: Double
    /// The distance between neighbouring ticks: 1, 2 or 5 times a power of ten.
    var step: Double

    /// Round ticks about `targetTicks` apart that cover `low…high` plus a
    /// `headroom` fraction of that span on each side (so the extreme points
    /// are not squashed against the frame), optionally kept inside `limits`
    /// (accuracy never goes above 100%). A single value gets a little room on
    /// each side, so it sits mid-axis.
    static func nice(covering low: Double, _ high: Double, headroom: Double = 0, targetTicks: Int = 5,
                     limits: ClosedRange<Double>? = nil) -> AxisScale {
        var (low, high) = (low, high)
        let pad = high - low < 1e-9 ? (low == 0 ? 1 : abs(low) * 0.05) : (high - low) * headroom
        (low, high) = (low - pad, high + pad)
        let step = niceStep((high - low) / Double(max(targetTicks - 1, 1)))
        var lower = (low / step).rounded(.down) * step
        var upper = (high / step).rounded(.up) * step
        if let limits {
            lower = max(lower, limits.lowerBound)
            upper = min(upper, limits.upperBound)
        }
        return AxisScale(lower: lower, upper: upper, step: step)
    }

    /// The round number nearest to `rough`: 1, 2 or 5 times a power of ten.
    static func niceStep(_ rough: Double) -> Double {
        let power = pow(10, (log10(rough)).rounded(.down))
        let mantissa = rough / power  // 1 ≤ mantissa < 10
        let nice: Double = mantissa < 1.5 ? 1 : mantissa < 3 ? 2 : mantissa < 7 ? 5 : 10
        return nice * power
    }

    /// The tick values from `lower` to `upper`, computed as multiples of
    /// `step` so rounding errors do not pile up.
    var ticks: [Double] {
        let first = (lower / step).rounded(), last = (upper / step).rounded()
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    /// Enough decimals to tell the ticks apart: 0 for a step of 2, 2 for 0.05.
    var decimals: Int { max(0, -Int(log10(step).rounded(.down))) }

    /// Where `value` lies between `lower` (0) and `upper` (1).
    func fraction(of value: Double) -> Double { (value - lower) / (upper - lower) }
}

/// An SVG line chart of one number per epoch: title, axes with ticks and
/// labels, a line, and a dot (with a hover tooltip) for every epoch.
struct LineChart {
    /// The heading drawn above the plot.
    var title: String
    /// The name under the horizontal axis.
    var xLabel = "epoch"
    /// The name beside the vertical axis.
    var yLabel: String
    /// The values, one per epoch: `values[0]` belongs to epoch 1.
    var values: [Double]
    /// The line and dot colour (any CSS colour).
    var colour = "#2563eb"
    /// Bounds the vertical axis must stay within, if any.
    var limits: ClosedRange<Double>? = nil
    /// How a value is written in tooltips and on the last point.
    var valueText: (Double) -> String = { NumberText.fixed($0, 4) }

    // The drawing's size and the margins around the plot area, in pixels.
    let width = 560.0, height = 340.0
    let left = 68.0, right = 28.0, top = 48.0, bottom = 58.0

    /// The plot area's edges.
    var plotLeft: Double { left }
    var plotRight: Double { width - right }
    var plotTop: Double { top }
    var plotBottom: Double { height - bottom }

    /// The epochs that have a finite value to draw, with that value.
    var points: [(epoch: Int, value: Double)] {
        values.enumerated().filter { $0.element.isFinite }.map { ($0.offset + 1, $0.element) }
    }

    /// The vertical axis, fitted to the finite values.
    var yScale: AxisScale {
        let ys = points.map(\.value)
        return AxisScale.nice(covering: ys.min() ?? 0, ys.max() ?? 1, headroom: 0.12, limits: limits)
    }

    /// The horizontal pixel of an epoch. Epochs 1…n spread across the plot,
    /// a little in from its edges; a lone epoch sits in the middle.
    func x(ofEpoch epoch: Int) -> Double {
        let inset = 18.0
        guard values.count > 1 else { return (plotLeft + plotRight) / 2 }
        let t = Double(epoch - 1) / Double(values.count - 1)
        return plotLeft + inset + t * (plotRight - plotLeft - 2 * inset)
    }

    /// The vertical pixel of a value (SVG's y grows downwards, so flip).
    func y(of value: Double, on scale: AxisScale) -> Double {
        plotBottom - scale.fraction(of: value) * (plotBottom - plotTop)
    }

    /// The epochs that get a tick: every one for short runs, else 1 and
    /// every multiple of a round step (2, 5, 10, …).
    var xTicks: [Int] {
        let n = values.count
        guard n > 10 else { return Array(1...max(n, 1)) }
        let step = Int(AxisScale.niceStep(Double(n) / 6))
        return [1] + stride(from: step, through: n, by: step)
    }

    /// The whole chart as a standalone SVG document fragment (it also works inline in HTML).
    func svg() -> String {
        var parts = [openingTag(), "<title>\(Markup.escape(title))</title>",
                     "<rect width=\"\(px(width))\" height=\"\(px(height))\" fill=\"#ffffff\"/>",
                     titleText()]
        if points.isEmpty {
            parts += [axisLines(), emptyNote()]
        } else {
            let scale = yScale
            parts += [yGrid(scale), xAxisTicks(), axisLines(), axisLabels(), line(scale), dots(scale), lastValueLabel(scale)]
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    // MARK: Pieces

    func openingTag() -> String { ChartSVG.openingTag(width: width, height: height, title: title) }

    func titleText() -> String {
        "<text x=\"\(px(width / 2))\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"600\" fill=\"#111827\">"
            + "\(Markup.escape(title))</text>"
    }

    /// Horizontal grid lines with the value of each, right-aligned left of the axis.
    func yGrid(_ scale: AxisScale) -> String {
        scale.ticks.map { tick in
            let y = px(self.y(of: tick, on: scale))
            return "<line x1=\"\(px(plotLeft))\" y1=\"\(y)\" x2=\"\(px(plotRight))\" y2=\"\(y)\" stroke=\"#e5e7eb\"/>"
                + "<text x=\"\(px(plotLeft - 8))\" y=\"\(y)\" dy=\"4\" text-anchor=\"end\" fill=\"#4b5563\">"
                + "\(NumberText.fixed(tick, scale.decimals))</text>"
        }.joined(separator: "\n")
    }

    /// Short marks below the horizontal axis, with the epoch number under each.
    func xAxisTicks() -> String {
        xTicks.map { epoch in
            let x = px(self.x(ofEpoch: epoch))
            return "<line x1=\"\(x)\" y1=\"\(px(plotBottom))\" x2=\"\(x)\" y2=\"\(px(plotBottom + 5))\" stroke=\"#374151\"/>"
                + "<text x=\"\(x)\" y=\"\(px(plotBottom + 20))\" text-anchor=\"middle\" fill=\"#4b5563\">\(epoch)</text>"
        }.joined(separator: "\n")
    }

    func axisLines() -> String {
        "<path d=\"M\(px(plotLeft)) \(px(plotTop)) V\(px(plotBottom)) H\(px(plotRight))\" fill=\"none\" stroke=\"#374151\"/>"
    }

    /// The axis names: one centred under the plot, one turned upright beside it.
    func axisLabels() -> String {
        let midY = px((plotTop + plotBottom) / 2)
        return "<text x=\"\(px((plotLeft + plotRight) / 2))\" y=\"\(px(height - 14))\" text-anchor=\"middle\" "
            + "font-size=\"13\" fill=\"#111827\">\(Markup.escape(xLabel))</text>\n"
            + "<text transform=\"translate(18 \(midY)) rotate(-90)\" text-anchor=\"middle\" "
            + "font-size=\"13\" fill=\"#111827\">\(Markup.escape(yLabel))</text>"
    }

    /// The line through the points (nothing to draw for a single point).
    func line(_ scale: AxisScale) -> String {
        guard points.count > 1 else { return "" }
        let coordinates = points.map { "\(px(x(ofEpoch: $0.epoch))),\(px(y(of: $0.value, on: scale)))" }
        return "<polyline points=\"\(coordinates.joined(separator: " "))\" fill=\"none\" "
            + "stroke=\"\(colour)\" stroke-width=\"2.5\" stroke-linejoin=\"round\"/>"
    }

    /// One dot per epoch; hovering shows the epoch and its value.
    func dots(_ scale: AxisScale) -> String {
        points.map { p in
            "<circle class=\"point\" cx=\"\(px(x(ofEpoch: p.epoch)))\" cy=\"\(px(y(of: p.value, on: scale)))\" r=\"4.5\" "
                + "fill=\"\(colour)\" stroke=\"#ffffff\" stroke-width=\"1.5\">"
                + "<title>epoch \(p.epoch): \(Markup.escape(valueText(p.value)))</title></circle>"
        }.joined(separator: "\n")
    }

    /// The last value written beside its dot, so the final number can be read
    /// off. It goes on the side away from the line: below the dot if the line
    /// comes down into it, above otherwise.
    func lastValueLabel(_ scale: AxisScale) -> String {
        guard let last = points.last else { return "" }
        let x = self.x(ofEpoch: last.epoch), y = self.y(of: last.value, on: scale)
        let previousY = points.dropLast().last.map { self.y(of: $0.value, on: scale) }
        let lineComesDown = (previousY ?? y) < y
        let below = lineComesDown ? y < plotBottom - 20 : y < plotTop + 20
        let nearRight = x > plotRight - 80
        return "<text x=\"\(px(nearRight ? x - 6 : x + 8))\" y=\"\(px(below ? y + 18 : y - 10))\" "
            + "text-anchor=\"\(nearRight ? "end" : "start")\" font-weight=\"600\" fill=\"\(colour)\">"
            + "\(Markup.escape(valueText(last.value)))</text>"
    }

    func emptyNote() -> String {
        "<text x=\"\(px((plotLeft + plotRight) / 2))\" y=\"\(px((plotTop + plotBottom) / 2))\" "
            + "text-anchor=\"middle\" fill=\"#6b7280\">no epochs recorded</text>"
    }

    /// A pixel coordinate with one decimal — plenty for a screen, short in the file.
    func px(_ v: Double) -> String { ChartSVG.px(v) }
}
