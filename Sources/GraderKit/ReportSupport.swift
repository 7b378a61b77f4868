// Small text helpers shared by the report renderers: number formatting,
// making untrusted text (student output) safe to print, wrapping and
// truncating.

import Foundation

enum ReportText {
    /// `3`, `2.5`, `0.33`: points without noise.
    static func points(_ x: Double) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x < 0 ? "-inf" : "inf") }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        var s = String(format: "%.2f", x)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s == "-0" ? "0" : s
    }

    /// `75%`, `62.5%`; `nil` when nothing was available. Never rounds up to
    /// 100% (or down to 0%) a score that is not full (or not empty).
    static func percent(_ points: Double, of max: Double) -> String? {
        guard max > 0, points.isFinite, max.isFinite else { return nil }
        let value = points / max * 100
        var rounded = (value * 10).rounded() / 10
        if rounded >= 100 && points < max { rounded = 99.9 }
        if rounded <= 0 && points > 0 { rounded = 0.1 }
        return rounded == rounded.rounded() ? "\(Int(rounded))%" : String(format: "%.1f%%", rounded)
    }

    /// `p / m`, with the percentage when there is one.
    static func score(_ points: Double, of max: Double, percent showPercent: Bool = true) -> String {
        let base = "\(Self.points(points)) / \(Self.points(max))"
        guard showPercent, let p = percent(points, of: max) else { return base }
        return "\(base) (\(p))"
    }

    /// Seconds for people: `0.012 s`, `3.4 s`, `2 min 5 s`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        if seconds < 1 { return String(format: "%.3f s", seconds) }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        return "\(whole / 60) min \(whole % 60) s"
    }

    /// The text with line ends normalised to `\n`, tabs expanded, and every
    /// other control character (NUL, ESC — which could drive the terminal —
    /// DEL, C1 controls) shown as a Swift escape such as `\u{1B}`.
    static func sanitized(_ text: String, keepNewlines: Bool = true) -> String {
        var out = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            switch scalar {
            case "\n":
                if previousWasCR { continue }  // "\r\n" → already emitted "\n"
                if keepNewlines { out.append("\n") } else { out.append(contentsOf: "\\n".unicodeScalars) }
            case "\r":
                if keepNewlines { out.append("\n") } else { out.append(contentsOf: "\\r".unicodeScalars) }
            case "\t":
                out.append(contentsOf: "    ".unicodeScalars)
            case _ where isControl(scalar):
                out.append(contentsOf: escape(scalar).unicodeScalars)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// C0 controls, DEL, C1 controls, and the Unicode non-characters U+FFFE/U+FFFF.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value) || s.value == 0xFFFE || s.value == 0xFFFF
    }

    /// `\u{1B}`: how Swift would write the scalar.
    static func escape(_ s: Unicode.Scalar) -> String {
        "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
    }

    /// Cuts `text` to at most `limit` characters, marking the cut with `…`.
    static func clipped(_ text: String, to limit: Int) -> String {
        guard limit > 0 else { return "" }
        guard text.count > limit else { return text }
        return String(text.prefix(limit - 1)) + "…"
    }

    /// Word-wraps one line (no newlines) to `width` characters; words longer
    /// than the width are broken.
    static func wrap(_ line: String, width: Int) -> [String] {
        let width = max(width, 10)
        guard line.count > width else { return [line] }
        var lines: [String] = []
        var rest = Substring(line)
        while rest.count > width {
            let window = rest.prefix(width + 1)
            // Break at the last space inside the window, if it is not too early.
            if let space = window.lastIndex(of: " "), rest.distance(from: rest.startIndex, to: space) >= width / 3 {
                lines.append(String(rest[..<space]))
                rest = rest[rest.index(after: space)...]
            } else {
                let cut = rest.index(rest.startIndex, offsetBy: width)
                lines.append(String(rest[..<cut]))
                rest = rest[cut...]
            }
        }
        if !rest.isEmpty { lines.append(String(rest)) }
        return lines
    }

    /// Lines of `text` (sanitised), dropping trailing blank lines.
    static func lines(_ text: String) -> [String] {
        var lines = sanitized(text).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
        while let first = lines.first, first.allSatisfy(\.isWhitespace) { lines.removeFirst() }
        return lines
    }

    /// The first `maxBytes` UTF-8 bytes of the text at most, cut at a line
    /// end when one is near (else at a character boundary), with a note of
    /// how much was left out.
    static func head(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: maxBytes)
        while end > text.startIndex, end.samePosition(in: text) == nil { end = text.utf8.index(before: end) }
        if let newline = text[..<end].lastIndex(of: "\n"),
           text.utf8.distance(from: newline, to: end) < maxBytes / 4 {
            end = newline
        }
        let dropped = text.utf8.count - text.utf8.distance(from: text.startIndex, to: end)
        return String(text[..<end]) + "\n… (\(dropped) more bytes)"
    }

    /// The last `maxBytes` UTF-8 bytes of the text at most, cut at a line
    /// start when one is near (else at a character boundary), with a note of
    /// how much was left out.
    static func tail(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var start = text.utf8.index(text.utf8.endIndex, offsetBy: -maxBytes)
        while start < text.endIndex, start.samePosition(in: text) == nil { start = text.utf8.index(after: start) }
        if let newline = text[start...].firstIndex(of: "\n"),
           text.utf8.distance(from: start, to: newline) < maxBytes / 4 {
            start = text.index(after: newline)
        }
        let dropped = text.utf8.distance(from: text.startIndex, to: start)
        return "… (\(dropped) earlier bytes)\n" + String(text[start...])
    }

    /// `Exercise_1_2/multiplicationRule()` → `multiplicationRule()` when the
    /// name starts with the exercise's suite; otherwise the name unchanged.
    static func shortTestName(_ name: String, exercise: ExerciseID) -> String {
        let prefix = "Exercise_\(exercise.lesson)_\(exercise.number)/"
        return name.hasPrefix(prefix) && name.count > prefix.count ? String(name.dropFirst(prefix.count)) : name
    }

    /// What a verdict is called in headings: `FAILED`, `TIMED OUT`.
    static func label(_ verdict: Verdict) -> String { verdict.rawValue.uppercased() }
}

extension GradeReport {
    /// Every lesson number mentioned anywhere in the report, in order.
    var allLessonNumbers: [Int] {
        Set(lessons.map(\.lesson) + exercises.map(\.id.lesson) + tests.map(\.exercise.lesson)).sorted()
    }

    /// Every exercise mentioned anywhere in the report, in order.
    var allExerciseIDs: [ExerciseID] {
        Set(exercises.map(\.id) + tests.map(\.exercise)).sorted()
    }

    /// Tests that did not pass, by exercise (stable within an exercise).
    var failingTests: [TestResult] {
        tests.enumerated().filter { $0.element.verdict != .passed }
            .sorted { ($0.element.exercise, $0.offset) < ($1.element.exercise, $1.offset) }
            .map(\.element)
    }

    /// How many tests passed and how many did not.
    var passFailCounts: (passed: Int, failed: Int) {
        let passed = tests.count(where: { $0.verdict == .passed })
        return (passed, tests.count - passed)
    }

    /// The exercise's title, if the report has it.
    func title(of id: ExerciseID) -> String? {
        exercises.first(where: { $0.id == id })?.title
    }
}
