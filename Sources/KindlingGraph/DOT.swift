// Small helpers for writing DOT text: escaping and number formatting.
//
// Two kinds of strings appear in our DOT output, and each has its own rules:
//
// - HTML-like labels, `label=<…>`, are parsed by Graphviz as XML. `&`, `<`,
//   `>`, `"` and `'` must be written as entities; XML forbids most control
//   characters outright (even as `&#1;`), so those are shown as the visible
//   "control pictures" ␀…␟ instead.
// - Quoted strings, `tooltip="…"`, are DOT "escStrings": `\` and `"` need a
//   backslash, a newline is written `\n`. Graphviz XML-escapes them on the way
//   into SVG, except that it leaves anything that already looks like an entity
//   alone — so `&` is written `&amp;` here to keep `&lt;` in a name literal.

import Foundation

enum DOT {
    /// `s` made safe inside an HTML-like label.
    static func html(_ s: String) -> String {
        markupEscaped(s, otherwise: visible)
    }

    /// `s` as a double-quoted DOT string (quotes included) for escString
    /// attributes such as `tooltip`; a newline in `s` becomes a line break.
    static func quoted(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "&": out += "&amp;"
            default: out.unicodeScalars.append(visible(scalar))
            }
        }
        return out + "\""
    }

    /// Control characters as their visible Unicode "control pictures"
    /// (U+0000 → ␀, U+000A → ␊, U+007F → ␡); other characters unchanged.
    static func visible(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar.value < 0x20 { return Unicode.Scalar(0x2400 + scalar.value)! }
        if scalar.value == 0x7F { return "\u{2421}" }
        return scalar
    }

    /// A shape as `[8, 128]`; a scalar as `[]`.
    static func shape(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    /// A number with 4 significant digits (`0.1235`, `1.235e+04`, `nan`, `inf`).
    static func number(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        return String(format: "%.4g", x)
    }

    /// A number with 4 decimals, as micrograd prints `data` and `grad`.
    static func fixed(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        return String(format: "%.4f", x)
    }

    /// The graph header: name, layout settings, default node and edge styles.
    static func header(options: GraphOptions, rankdir: RankDirection, nodeDefaults: String) -> String {
        var attributes: [(String, String)] = [
            ("rankdir", rankdir.rawValue),
            ("fontname", "\"Helvetica\""),
            ("fontsize", "11"),
            ("nodesep", "0.25"),
            ("ranksep", "0.35"),
        ]
        if options.fastLayout {
            attributes += [("nslimit", "1"), ("nslimit1", "1"), ("mclimit", "0.1")]
        }
        if let title = options.title {
            attributes += [("label", "<<b>" + html(title) + "</b>>"), ("labelloc", "t")]
        }
        for key in options.graphAttributes.keys.sorted() {
            attributes.append((key, quoted(options.graphAttributes[key]!)))
        }
        var text = "digraph \(quoted(options.name)) {\n"
        text += "  graph [" + attributes.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + "]\n"
        text += "  node [\(nodeDefaults)]\n"
        text += "  edge [color=\"#555555\", arrowsize=0.7]\n"
        return text
    }

    /// A one-node legend: a table of colour swatches and their meaning.
    static func legend(_ entries: [(colour: String, meaning: String)]) -> String {
        var rows = "<tr><td colspan=\"2\"><b>legend</b></td></tr>"
        for (colour, meaning) in entries {
            rows += "<tr><td bgcolor=\"\(colour)\" width=\"14\"></td><td align=\"left\">\(html(meaning))</td></tr>"
        }
        let table = "<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"3\" bgcolor=\"white\">\(rows)</table>"
        return "  legend [id=\"legend\", class=\"legend\", shape=plain, style=\"\", tooltip=\"what the colours mean\", label=<\(table)>]\n"
    }
}

/// Statistics of a list of numbers: the L2 norm and whether any is NaN or ±Inf.
struct NumberScan {
    var norm: Double = 0
    var hasNaN = false
    var hasInfinity = false

    init(_ values: [Float]) {
        var sum: Double = 0
        for v in values {
            if v.isNaN { hasNaN = true } else if v.isInfinite { hasInfinity = true }
            sum += Double(v) * Double(v)
        }
        norm = sum.squareRoot()
    }

    init(_ value: Double) {
        hasNaN = value.isNaN
        hasInfinity = value.isInfinite
        norm = Swift.abs(value)
    }

    var isFinite: Bool { !hasNaN && !hasInfinity }

    /// "NaN", "Inf" or "NaN and Inf".
    var problem: String {
        switch (hasNaN, hasInfinity) {
        case (true, true): return "NaN and Inf"
        case (true, false): return "NaN"
        default: return "Inf"
        }
    }
}

/// `text` with the five characters HTML, XML and Graphviz's HTML-like labels
/// treat specially (`& < > " '`) written as character references; every
/// other scalar goes through `otherwise` (which may replace control characters).
func markupEscaped(_ text: String, otherwise: (Unicode.Scalar) -> Unicode.Scalar) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(otherwise(scalar))
        }
    }
    return out
}
