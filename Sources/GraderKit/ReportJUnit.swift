// The `junit` report: JUnit XML, as CI dashboards read it.
//
//     <testsuites name="Kindling grader" tests= failures= errors= skipped= time=>
//       <testsuite name="Lesson01" …>
//         <properties>…title, integrated, isolated, maxPoints…</properties>
//         <testcase classname="Lesson01.Exercise_1_2" name="multiplicationRule()" time="0.012">
//           <failure message="…" type="failed">…</failure>
//           <system-out>…</system-out>
//         </testcase>
//         <system-err>exercise notes</system-err>
//       </testsuite>
//       <testsuite name="Grader"> — only with a grader error or ignored files
//     </testsuites>

import Foundation

/// The most bytes of a test's output put in its `<system-out>`.
private let maxJUnitOutputBytes = 64 * 1024

/// Text safe inside XML 1.0: `&`, `<`, `>` (and in attributes `"`, `'`,
/// tab, newline, carriage return) as references; characters XML 1.0 forbids
/// (control characters other than tab, newline and carriage return; U+FFFE,
/// U+FFFF) replaced by their Swift escape, e.g. `\u{0}`.
func xmlEscaped(_ text: String, attribute: Bool = false) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"" where attribute: out += "&quot;"
        case "'" where attribute: out += "&apos;"
        case "\n" where attribute: out += "&#10;"
        case "\r" where attribute: out += "&#13;"
        case "\t" where attribute: out += "&#9;"
        case "\n", "\r", "\t": out.unicodeScalars.append(scalar)
        case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
            out += ReportText.escape(scalar)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// `Lesson01`.
private func suiteName(_ lesson: Int) -> String { String(format: "Lesson%02d", lesson) }

/// Seconds as JUnit writes them: `0.012`.
private func junitTime(_ seconds: Double) -> String {
    seconds.isFinite && seconds >= 0 ? String(format: "%.3f", seconds) : "0.000"
}

/// `name="value"` pairs.
private func attributes(_ pairs: [(String, String)]) -> String {
    pairs.map { " \($0.0)=\"\(xmlEscaped($0.1, attribute: true))\"" }.joined()
}

func renderJUnit(_ report: GradeReport) -> String {
    var xml: [String] = []
    var totals = (tests: 0, failures: 0, errors: 0, skipped: 0, time: 0.0)
    var suites: [String] = []

    for lesson in report.allLessonNumbers {
        let score = report.lessons.first { $0.lesson == lesson }
        let tests = report.tests.enumerated().filter { $0.element.exercise.lesson == lesson }
            .sorted { ($0.element.exercise, $0.offset) < ($1.element.exercise, $1.offset) }.map(\.element)
        let failures = tests.count { ![.passed, .notRun].contains($0.verdict) }
        let skipped = tests.count { $0.verdict == .notRun }
        let time = tests.reduce(0) { $0 + ($1.seconds.isFinite ? $1.seconds : 0) }
        totals.tests += tests.count
        totals.failures += failures
        totals.skipped += skipped
        totals.time += time

        var suite: [String] = []
        suite.append("  <testsuite" + attributes([
            ("name", suiteName(lesson)), ("tests", "\(tests.count)"), ("failures", "\(failures)"),
            ("errors", "0"), ("skipped", "\(skipped)"), ("time", junitTime(time)),
        ]) + ">")
        if let score {
            suite.append("    <properties>")
            var properties = [("title", score.title), ("integrated", ReportText.points(score.integrated))]
            if let isolated = score.isolated { properties.append(("isolated", ReportText.points(isolated))) }
            properties.append(("maxPoints", ReportText.points(score.maxPoints)))
            for (name, value) in properties {
                suite.append("      <property" + attributes([("name", name), ("value", value)]) + "/>")
            }
            suite.append("    </properties>")
        }
        for test in tests {
            let open = "    <testcase" + attributes([
                ("classname", "\(suiteName(lesson)).Exercise_\(test.exercise.lesson)_\(test.exercise.number)"),
                ("name", ReportText.shortTestName(test.name, exercise: test.exercise)),
                ("time", junitTime(test.seconds)),
            ])
            let output = test.output.isEmpty ? "" :
                "      <system-out>" + xmlEscaped(ReportText.tail(test.output, maxBytes: maxJUnitOutputBytes)) + "</system-out>"
            switch test.verdict {
            case .passed where output.isEmpty:
                suite.append(open + "/>")
            case .passed:
                suite += [open + ">", output, "    </testcase>"]
            case .notRun:
                suite.append(open + ">")
                suite.append("      <skipped" + attributes([("message", ReportText.clipped(test.message, to: 1000))]) + "/>")
                if !output.isEmpty { suite.append(output) }
                suite.append("    </testcase>")
            case .failed, .crashed, .timedOut, .outOfMemory:
                suite.append(open + ">")
                suite.append("      <failure" + attributes([
                    ("message", ReportText.clipped(test.message, to: 1000)), ("type", test.verdict.rawValue),
                ]) + ">" + xmlEscaped(ReportText.head(test.message, maxBytes: maxJUnitOutputBytes)) + "</failure>")
                if !output.isEmpty { suite.append(output) }
                suite.append("    </testcase>")
            }
        }
        let notes = report.exercises.filter { $0.id.lesson == lesson }.sorted { $0.id < $1.id }
            .flatMap { exercise in exercise.notes.map { "\(exercise.id) \(exercise.title): \($0)" } }
        if !notes.isEmpty {
            suite.append("    <system-err>" + xmlEscaped(notes.joined(separator: "\n")) + "</system-err>")
        }
        suite.append("  </testsuite>")
        suites += suite
    }

    // The grader's own problems and the ignored files, in a suite of their own.
    if report.error != nil || !report.ignored.isEmpty || !report.notes.isEmpty {
        let errors = report.error == nil ? 0 : 1
        totals.tests += errors
        totals.errors += errors
        suites.append("  <testsuite" + attributes([
            ("name", "Grader"), ("tests", "\(errors)"), ("failures", "0"), ("errors", "\(errors)"),
            ("skipped", "0"), ("time", junitTime(0)),
        ]) + ">")
        if let error = report.error {
            suites.append("    <testcase classname=\"Grader\" name=\"grading\" time=\"\(junitTime(report.seconds))\">")
            suites.append("      <error" + attributes([
                ("message", ReportText.clipped(firstLine(error), to: 500)), ("type", "grader error"),
            ]) + ">" + xmlEscaped(error) + "</error>")
            suites.append("    </testcase>")
        }
        if !report.ignored.isEmpty {
            suites.append("    <system-out>" + xmlEscaped("Ignored (not exercise regions):\n"
                + report.ignored.joined(separator: "\n")) + "</system-out>")
        }
        if !report.notes.isEmpty {
            suites.append("    <system-err>" + xmlEscaped(report.notes.map { "!!! " + $0 }.joined(separator: "\n")) + "</system-err>")
        }
        suites.append("  </testsuite>")
    }

    xml.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    xml.append("<testsuites" + attributes([
        ("name", "Kindling grader"), ("tests", "\(totals.tests)"), ("failures", "\(totals.failures)"),
        ("errors", "\(totals.errors)"), ("skipped", "\(totals.skipped)"),
        ("time", junitTime(report.seconds > 0 ? report.seconds : totals.time)),
    ]) + ">")
    xml += suites
    xml.append("</testsuites>")
    return xml.joined(separator: "\n") + "\n"
}

/// The first non-empty line of a message, for a `message=` attribute.
private func firstLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
}
