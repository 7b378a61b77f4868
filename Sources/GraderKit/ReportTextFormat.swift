// The `text` report: for a student at an 80-column terminal.
//
//     Kindling grader report
//     Submission: Exercises
//     Total:      2.5 / 9 points (27.8%)
//
//     Lesson 1 · Probability                                       2 / 4 (50%)
//       isolated 3 / 4 (75%): with your lesson 1 code and the reference for the rest
//           1 / 2  1.1 Sum rule
//           1 / 2  1.2 Multiplication rule
//                  ! compile error: …
//
//     Failing tests (5)
//
//     FAILED  1.1  Exercise_1_1/sumOfOverlapping()
//         expected 0.5, got 0.25
//         reproduce with:
//           swift test --filter Exercise_1_1/sumOfOverlapping
//     …
//     Ignored (…):
//       Package.swift
//
//     3 passed, 5 failed

import Foundation

/// Lines are kept to this many columns, except a reproduce command, which is
/// never broken so it can be copied.
let textReportWidth = 80

/// The most lines of a test's message or a grader error shown; the rest is counted.
private let maxMessageLines = 12
/// The most lines of an exercise note (a compiler's message) shown.
private let maxNoteLines = 20
/// The most lines of a test's output shown (its last ones).
private let maxOutputLines = 10
/// The most ignored files listed.
private let maxIgnoredListed = 30

/// ANSI styling, or none.
private struct Style {
    var enabled: Bool
    func apply(_ codes: String, _ text: String) -> String { enabled ? "\u{1B}[\(codes)m\(text)\u{1B}[0m" : text }
    func bold(_ text: String) -> String { apply("1", text) }
    func dim(_ text: String) -> String { apply("2", text) }
    func red(_ text: String) -> String { apply("1;31", text) }
    func green(_ text: String) -> String { apply("32", text) }
    func yellow(_ text: String) -> String { apply("33", text) }

    func verdict(_ v: Verdict) -> String {
        let label = ReportText.label(v)
        switch v {
        case .passed: return green(label)
        case .failed, .crashed: return red(label)
        case .timedOut, .outOfMemory: return yellow(label)
        case .notRun: return dim(label)
        }
    }

    func score(_ points: Double, of max: Double, _ text: String) -> String {
        points >= max ? green(text) : red(text)
    }
}

/// The whole text report. Never fails.
func renderText(_ report: GradeReport, useColor: Bool) -> String {
    let style = Style(enabled: useColor)
    let width = textReportWidth
    var out: [String] = []
    func blank() { if out.last != "" { out.append("") } }
    /// Appends `text` (any number of lines), sanitised, wrapped at `width`
    /// with `indent`, at most `limit` lines.
    func block(_ text: String, indent: Int, limit: Int = maxMessageLines, firstPrefix: String = "", prefix: String = "") {
        let pad = String(repeating: " ", count: indent)
        var wrapped: [String] = []
        for (i, line) in ReportText.lines(ReportText.head(text, maxBytes: 64 * 1024)).enumerated() {
            let lead = i == 0 ? firstPrefix : prefix
            let pieces = ReportText.wrap(ReportText.clipped(line, to: 2000), width: width - indent - lead.count)
            wrapped += pieces.enumerated().map { j, piece in
                (j == 0 ? lead : String(repeating: " ", count: lead.count)) + piece
            }
        }
        if wrapped.count > limit {
            let hidden = wrapped.count - (limit - 1)
            wrapped = Array(wrapped.prefix(limit - 1)) + [prefix + "… (\(hidden) more lines)"]
        }
        out += wrapped.map { pad + $0 }
    }

    // Header.
    out.append(style.bold("Kindling grader report"))
    out += ReportText.wrap("Submission: " + ReportText.sanitized(report.submission, keepNewlines: false), width: width)
    let total = ReportText.score(report.score, of: report.maxScore, percent: false) + " points"
        + (ReportText.percent(report.score, of: report.maxScore).map { " (\($0))" } ?? "")
    out.append("Total:      " + style.bold(total))
    if report.seconds > 0 { out.append("Time:       " + ReportText.duration(report.seconds)) }

    // A grader error comes first: the score may be wrong.
    if let error = report.error {
        blank()
        out.append(style.red("!!! GRADER ERROR !!!"))
        out += ReportText.wrap("The grader itself failed, so this report may be incomplete and the score "
                               + "too low. Tell your instructor. What went wrong:", width: width)
        block(error, indent: 4)
    }

    // What the grader must say about the whole run: not isolated, tampering.
    for note in report.notes {
        blank()
        out += ReportText.wrap("!!! " + ReportText.sanitized(note, keepNewlines: false), width: width).map { style.red($0) }
    }

    // Lessons and exercises.
    let exerciseScores = Dictionary(report.exercises.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    let scoreColumn = report.allExerciseIDs.map { id -> Int in
        let (p, m) = points(of: id, in: report, exerciseScores)
        return ReportText.score(p, of: m, percent: false).count
    }.max() ?? 0
    for lesson in report.allLessonNumbers {
        blank()
        let score = report.lessons.first { $0.lesson == lesson }
        var left = "Lesson \(lesson)"
        if let title = score?.title, !title.isEmpty {
            left += " · " + ReportText.sanitized(title, keepNewlines: false)
        }
        if let score {
            let right = ReportText.score(score.integrated, of: score.maxPoints)
            left = ReportText.clipped(left, to: width - right.count - 2)
            let gap = String(repeating: " ", count: max(2, width - left.count - right.count))
            out.append(style.bold(left) + gap + style.score(score.integrated, of: score.maxPoints, right))
            if let isolated = score.isolated {
                out += ReportText.wrap("isolated \(ReportText.score(isolated, of: score.maxPoints)): "
                                       + "with your lesson \(lesson) code and the reference for the rest", width: width - 2)
                    .map { "  " + $0 }
            }
        } else {
            out.append(style.bold(ReportText.clipped(left, to: width)))
        }
        for id in report.allExerciseIDs where id.lesson == lesson {
            let (p, m) = points(of: id, in: report, exerciseScores)
            let scoreText = ReportText.score(p, of: m, percent: false)
            let padded = String(repeating: " ", count: scoreColumn - scoreText.count) + scoreText
            let indent = 4 + scoreColumn + 2
            var name = "\(id)"
            if let title = exerciseScores[id]?.title, !title.isEmpty {
                name += " " + ReportText.sanitized(title, keepNewlines: false)
            }
            out.append("    " + style.score(p, of: m, padded) + "  " + ReportText.clipped(name, to: width - indent))
            for note in exerciseScores[id]?.notes ?? [] {
                block(note, indent: indent, limit: maxNoteLines, firstPrefix: "! ", prefix: "  ")
            }
        }
    }

    // Failing tests.
    let failing = report.failingTests
    blank()
    if failing.isEmpty {
        out.append(report.tests.isEmpty ? "No tests were run." : style.green("Every test passed."))
    } else {
        out.append(style.bold("Failing tests (\(failing.count))"))
        for test in failing {
            blank()
            let label = ReportText.label(test.verdict)
            let heading = "\(label)  \(test.exercise)  " + ReportText.sanitized(test.name, keepNewlines: false)
                + (test.visible ? "" : "  (hidden test)")
            var lines = ReportText.wrap(heading, width: width)
            if lines.count > 1 {  // continuation lines are indented
                let rest = heading.dropFirst(lines[0].count).trimmingCharacters(in: .whitespaces)
                lines = [lines[0]] + ReportText.wrap(rest, width: width - 4).map { "    " + $0 }
            }
            lines[0] = style.verdict(test.verdict) + String(lines[0].dropFirst(label.count))
            out += lines
            let message = test.message.trimmingCharacters(in: .whitespacesAndNewlines)
            block(message.isEmpty ? "(no message)" : message, indent: 4)
            let output = ReportText.lines(ReportText.tail(test.output, maxBytes: 8 * 1024))
            if !output.isEmpty {
                let shown = output.suffix(maxOutputLines)
                let totalLines = test.output.utf8.count > 8 * 1024 ? nil : output.count
                if shown.count < output.count || totalLines == nil {
                    out.append("    output (last \(shown.count) lines):")
                } else {
                    out.append("    output:")
                }
                out += shown.map { "    | " + ReportText.clipped($0, to: width - 6) }
            }
            if test.visible, let command = test.reproduce, !command.isEmpty {
                out.append("    reproduce with:")
                out.append("      " + ReportText.sanitized(command, keepNewlines: false))
            }
        }
    }

    // Ignored files.
    if !report.ignored.isEmpty {
        blank()
        out += ReportText.wrap("Ignored (only code inside exercise markers is graded; changes to tests, "
                               + "the manifest or other files do not count):", width: width)
        for file in report.ignored.prefix(maxIgnoredListed) {
            out.append("  " + ReportText.clipped(ReportText.sanitized(file, keepNewlines: false), to: width - 2))
        }
        if report.ignored.count > maxIgnoredListed {
            out.append("  … and \(report.ignored.count - maxIgnoredListed) more")
        }
    }

    // Closing line.
    blank()
    if report.error != nil { out.append(style.red("Grader error: see the top of this report.")) }
    let counts = report.passFailCounts
    out.append("\(counts.passed) passed, \(counts.failed) failed")
    return out.joined(separator: "\n") + "\n"
}

/// An exercise's points: from its score if the report has one, else summed
/// over its tests.
private func points(of id: ExerciseID, in report: GradeReport,
                    _ scores: [ExerciseID: ExerciseScore]) -> (Double, Double) {
    if let score = scores[id] { return (score.points, score.maxPoints) }
    let tests = report.tests.filter { $0.exercise == id }
    return (tests.reduce(0) { $0 + $1.points }, tests.reduce(0) { $0 + $1.maxPoints })
}
