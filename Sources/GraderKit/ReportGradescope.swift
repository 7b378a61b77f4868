// The `gradescope` report: `/autograder/results/results.json`.
//
// Top level: score, execution_time, output, output_format, visibility,
// stdout_visibility, extra_data, tests, leaderboard. Per test: score,
// max_score, status, name, number, output, tags, visibility, extra_data.

import Foundation

/// The most bytes of a test's output copied into its Gradescope entry.
private let maxGradescopeOutputBytes = 4 * 1024

private struct GradescopeResults: Encodable {
    var score: Double
    var execution_time: Int
    var output: String
    var output_format = "text"
    var visibility = "visible"
    var stdout_visibility = "hidden"
    var extra_data: [String: String] = [:]
    var tests: [GradescopeTest]
    var leaderboard: [[String: String]] = []
}

private struct GradescopeTest: Encodable {
    var score: Double
    var max_score: Double
    var status: String
    var name: String
    var number: String
    var output: String
    var tags: [String]
    var visibility: String
    var extra_data: [String: String]
}

func renderGradescope(_ report: GradeReport) throws -> String {
    var entries: [GradescopeTest] = []
    for id in report.allExerciseIDs {
        let title = report.title(of: id).map { " " + ReportText.sanitized($0, keepNewlines: false) } ?? ""
        let tags = ["lesson \(id.lesson)", "exercise \(id)"]
        for note in report.exercises.first(where: { $0.id == id })?.notes ?? [] {
            entries.append(GradescopeTest(
                score: 0, max_score: 0, status: "failed",
                name: "\(id)\(title) — " + noteKind(note),
                number: "\(id)", output: ReportText.sanitized(ReportText.head(note, maxBytes: 16 * 1024)), tags: tags,
                visibility: "visible", extra_data: ["verdict": "note"]))
        }
        for test in report.tests where test.exercise == id {
            var output = test.message
            let excerpt = test.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if test.verdict != .passed, !excerpt.isEmpty {
                output += "\n\nOutput:\n" + ReportText.tail(excerpt, maxBytes: maxGradescopeOutputBytes)
            }
            if test.verdict != .passed, test.visible, let command = test.reproduce, !command.isEmpty {
                output += "\n\nReproduce locally with:\n    " + command
            }
            entries.append(GradescopeTest(
                score: test.points, max_score: test.maxPoints,
                status: test.verdict == .passed ? "passed" : "failed",
                name: ReportText.sanitized("\(id)\(title) — \(test.name)", keepNewlines: false), number: "\(id)",
                output: ReportText.sanitized(output).trimmingCharacters(in: .whitespacesAndNewlines), tags: tags,
                visibility: test.visible ? "visible" : "after_published",
                extra_data: ["verdict": test.verdict.rawValue]))
        }
    }
    let results = GradescopeResults(
        score: report.score,
        execution_time: report.seconds.isFinite ? Int(max(0, report.seconds).rounded(.up)) : 0,
        output: gradescopeSummary(report),
        tests: entries)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(results), as: UTF8.self) + "\n"
}

/// What kind of note it is, for the entry's name: `compile error`,
/// `marker problem`, or `note`.
private func noteKind(_ note: String) -> String {
    let lower = note.lowercased()
    if lower.contains("compile") || lower.contains("error:") { return "compile error" }
    if lower.contains("marker") { return "marker problem" }
    return "note"
}

/// The short summary at the top of the Gradescope page: total and per lesson.
private func gradescopeSummary(_ report: GradeReport) -> String {
    var lines: [String] = []
    if let error = report.error {
        lines.append("GRADER ERROR — this report may be incomplete and the score too low; "
                     + "the course staff have been told to regrade:")
        lines.append(ReportText.head(error, maxBytes: 4 * 1024))
        lines.append("")
    }
    lines.append("Total: " + ReportText.score(report.score, of: report.maxScore))
    var anyIsolated = false
    for lesson in report.lessons.sorted(by: { $0.lesson < $1.lesson }) {
        var line = "Lesson \(lesson.lesson)" + (lesson.title.isEmpty ? "" : " \(lesson.title)")
            + ": " + ReportText.score(lesson.integrated, of: lesson.maxPoints)
        if let isolated = lesson.isolated {
            line += ", isolated " + ReportText.score(isolated, of: lesson.maxPoints)
            anyIsolated = true
        }
        lines.append(line)
    }
    if anyIsolated {
        lines.append("(isolated: the lesson graded with only its own code from you and the reference for every other lesson)")
    }
    for note in report.notes { lines.append("!!! " + note) }
    if !report.ignored.isEmpty {
        lines.append("Ignored \(report.ignored.count) file(s) outside exercise regions: "
                     + report.ignored.prefix(10).joined(separator: ", ")
                     + (report.ignored.count > 10 ? ", …" : ""))
    }
    let counts = report.passFailCounts
    lines.append("\(counts.passed) passed, \(counts.failed) failed")
    return ReportText.sanitized(lines.joined(separator: "\n"))
}
