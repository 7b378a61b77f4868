// Small helpers for writing HTML and SVG by hand (lesson: reports).
//
// Every piece of text that comes from outside — a class name, a model name —
// goes through `Markup.escape` before it lands in markup. Otherwise a class called
// `<b>` would turn the rest of the page bold, and one called `a"b` would end
// an attribute early.

import Foundation

/// Escaping for the report's HTML and SVG.
enum Markup {
    /// `text` made safe for HTML and XML, in content and in quoted
    /// attributes alike: `&`, `<`, `>`, `"` and `'` become character references,
    /// and control characters XML forbids become `�`.
    static func escape(_ text: String) -> String {
        markupEscaped(text) { c in
            c.value < 0x20 && c != "\t" && c != "\n" && c != "\r" ? "\u{FFFD}" : c
        }
    }
}

/// Formats numbers for people: fixed decimals, POSIX style (a dot, whatever the locale).
enum NumberText {
    /// `value` with `decimals` digits after the point, e.g. `fixed(0.4567, 2)` is `"0.46"`.
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "−∞") }
        return String(format: "%.\(decimals)f", value)
    }

    /// A fraction 0…1 as a percentage, e.g. `percent(0.8512)` is `"85.12%"`.
    static func percent(_ fraction: Double, decimals: Int = 2) -> String {
        fixed(fraction * 100, decimals) + "%"
    }

    /// A whole number with commas between groups of three, e.g. `grouped(101770)` is `"101,770"`.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// A duration, e.g. `"4.2 s"` or `"3 min 07 s"`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 60 else { return fixed(seconds, 1) + " s" }
        let whole = Int(seconds.rounded())
        return "\(whole / 60) min " + String(format: "%02d", whole % 60) + " s"
    }
}

/// What every chart of a report shares: the SVG element that opens it, and
/// coordinates written with one decimal at most.
enum ChartSVG {
    /// A coordinate, e.g. `px(12.0)` is `"12"` and `px(3.25)` is `"3.2"`.
    static func px(_ v: Double) -> String {
        let s = NumberText.fixed(v, 1)
        return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }

    /// The opening `<svg>` tag of a `width`×`height` chart titled `title`.
    static func openingTag(width: Double, height: Double, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(px(width))\" height=\"\(px(height))\" "
            + "viewBox=\"0 0 \(px(width)) \(px(height))\" font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\" "
            + "font-size=\"12\" role=\"img\" aria-label=\"\(Markup.escape(title))\">"
    }
}
