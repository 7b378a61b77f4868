import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import GraderKit

/// A report with everything a renderer must cope with: every verdict, visible
/// and hidden tests, an isolated score, exercise notes, ignored files, and
/// nasty strings (markup characters, NUL and ESC, very long output).
func gradeReportFixture(error: String? = nil) -> GradeReport {
    let nasty = #"expected <a & "b"> but got 'c' "# + "\u{0}\u{1B}[31m\u{7}"
    let longOutput = (1...5000).map { "line \($0) " + String(repeating: "x", count: 150) }.joined(separator: "\n")
    let e11 = ExerciseID(lesson: 1, number: 1), e12 = ExerciseID(lesson: 1, number: 2)
    let e21 = ExerciseID(lesson: 2, number: 1), e22 = ExerciseID(lesson: 2, number: 2)
    return GradeReport(
        submission: "/tmp/submissions/ada/Exercises",
        lessons: [
            LessonScore(lesson: 1, title: "Probability", integrated: 2, isolated: 3, maxPoints: 4),
            LessonScore(lesson: 2, title: "Tensors", integrated: 0.5, maxPoints: 5),
        ],
        exercises: [
            ExerciseScore(id: e11, title: "Sum rule", points: 1, maxPoints: 2),
            ExerciseScore(id: e12, title: "multiplication rule", points: 1, maxPoints: 2,
                          notes: ["compile error: Probability.swift:12:5: error: cannot find 'q' in scope\n    return q * p\n           ^"]),
            ExerciseScore(id: e21, title: "Strides", points: 0.5, maxPoints: 3,
                          notes: ["damaged marker: `// END EXERCISE 2.1` is missing; the exercise scores 0"]),
            ExerciseScore(id: e22, title: "Broadcasting", points: 0, maxPoints: 2),
        ],
        tests: [
            TestResult(name: "Exercise_1_1/sumOfDisjoint()", exercise: e11, visible: true, verdict: .passed,
                       seconds: 0.01, points: 1, maxPoints: 1, reproduce: "swift test --filter Exercise_1_1"),
            TestResult(name: "Exercise_1_1/sumOfOverlapping()", exercise: e11, visible: true, verdict: .failed,
                       message: nasty, output: "printed \u{0} here", seconds: 0.02, points: 0, maxPoints: 1,
                       reproduce: "swift test --filter Exercise_1_1/sumOfOverlapping"),
            TestResult(name: "Exercise_1_2/multiplicationRule()", exercise: e12, visible: false, verdict: .crashed,
                       message: "Fatal error: Index out of range (SIGILL) at Probability.swift:40",
                       output: longOutput, seconds: 0.3, points: 0, maxPoints: 1),
            TestResult(name: "Exercise_1_2/independence()", exercise: e12, visible: false, verdict: .passed,
                       seconds: 0.01, points: 1, maxPoints: 1),
            TestResult(name: "Exercise_2_1/stridesOfTranspose()", exercise: e21, visible: false, verdict: .timedOut,
                       message: "ran past its 10 s wall-clock limit", seconds: 10, points: 0, maxPoints: 1.5),
            TestResult(name: "Exercise_2_1/contiguous()", exercise: e21, visible: true, verdict: .passed,
                       seconds: 0.01, points: 0.5, maxPoints: 0.5, reproduce: "swift test --filter Exercise_2_1"),
            TestResult(name: "Exercise_2_1/bigAllocation()", exercise: e21, visible: false, verdict: .outOfMemory,
                       message: "ran past its 512 MB memory limit", seconds: 1, points: 0, maxPoints: 1),
            TestResult(name: "Exercise_2_2/broadcastRows()", exercise: e22, visible: false, verdict: .notRun,
                       message: "did not compile", points: 0, maxPoints: 2),
        ],
        ignored: ["Package.swift", "Tests/LessonTests/Lesson01Tests.swift"],
        error: error,
        seconds: 12.34)
}

@Suite struct ReportTests {
    // MARK: text

    @Test func textHasTheExpectedLinesAndEndsWithTheCounts() throws {
        let text = try render(gradeReportFixture(), as: .text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "Kindling grader report")
        #expect(lines.contains("Submission: /tmp/submissions/ada/Exercises"))
        #expect(lines.contains("Total:      2.5 / 9 points (27.8%)"))
        #expect(lines.contains { $0.hasPrefix("Lesson 1 · Probability") && $0.hasSuffix("2 / 4 (50%)") })
        #expect(lines.contains { $0.hasPrefix("Lesson 2 · Tensors") && $0.hasSuffix("0.5 / 5 (10%)") })
        #expect(lines.contains("  isolated 3 / 4 (75%): with your lesson 1 code and the reference for the rest"))
        #expect(lines.filter { $0.contains("isolated") }.count == 1)  // lesson 2 has none
        #expect(lines.contains("      1 / 2  1.2 multiplication rule"))
        #expect(lines.contains("    0.5 / 3  2.1 Strides"))
        #expect(lines.contains("             ! compile error: Probability.swift:12:5: error: cannot find 'q' in"))
        #expect(lines.contains { $0.contains("! damaged marker:") })
        #expect(lines.contains("Failing tests (5)"))
        #expect(lines.contains("FAILED  1.1  Exercise_1_1/sumOfOverlapping()"))
        #expect(lines.contains("CRASHED  1.2  Exercise_1_2/multiplicationRule()  (hidden test)"))
        #expect(lines.contains("TIMED OUT  2.1  Exercise_2_1/stridesOfTranspose()  (hidden test)"))
        #expect(lines.contains("OUT OF MEMORY  2.1  Exercise_2_1/bigAllocation()  (hidden test)"))
        #expect(lines.contains("NOT RUN  2.2  Exercise_2_2/broadcastRows()  (hidden test)"))
        #expect(lines.contains("    ran past its 10 s wall-clock limit"))
        #expect(lines.contains(#"    expected <a & "b"> but got 'c' \u{0}\u{1B}[31m\u{7}"#))
        #expect(lines.contains("      swift test --filter Exercise_1_1/sumOfOverlapping"))
        #expect(!text.contains("--filter Exercise_2_1\n"))  // passing tests are not listed
        #expect(lines.contains("    output (last 10 lines):"))
        #expect(lines.contains { $0.hasPrefix("    | line 5000 xxx") && $0.hasSuffix("…") })
        #expect(!text.contains("line 4990 "))
        #expect(lines.contains("  Package.swift"))
        #expect(lines.contains("  Tests/LessonTests/Lesson01Tests.swift"))
        #expect(!text.contains("GRADER ERROR"))
        #expect(text.hasSuffix("\n3 passed, 5 failed\n"))
    }

    @Test func textFitsEightyColumnsAndHasNoControlCharacters() throws {
        let text = try render(gradeReportFixture(error: "could not build the hidden tests:\n" + String(repeating: "word ", count: 60)), as: .text)
        for line in text.split(separator: "\n") {
            #expect(line.count <= 80, "too wide: \(line)")
        }
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }

    @Test func textShowsAGraderErrorProminently() throws {
        let text = try render(gradeReportFixture(error: "swift build failed: exit 1"), as: .text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let banner = try #require(lines.firstIndex(of: "!!! GRADER ERROR !!!"))
        #expect(banner < 8)  // right under the header
        #expect(lines.contains("    swift build failed: exit 1"))
        #expect(lines.contains("Grader error: see the top of this report."))
        #expect(lines.dropLast().last == "3 passed, 5 failed")
    }

    @Test func colourOnlyWhenAskedFor() throws {
        #expect(!(try render(gradeReportFixture(), as: .text)).contains("\u{1B}"))
        let coloured = try render(gradeReportFixture(), as: .text, useColor: true)
        #expect(coloured.contains("\u{1B}[1;31mFAILED\u{1B}[0m  1.1"))
        #expect(coloured.hasSuffix("\n3 passed, 5 failed\n"))
    }

    @Test func textOfAnEmptyReport() throws {
        let text = try render(GradeReport(submission: "x"), as: .text)
        #expect(text.contains("Total:      0 / 0 points\n"))
        #expect(text.contains("No tests were run."))
        #expect(text.hasSuffix("\n0 passed, 0 failed\n"))
    }

    // MARK: json

    @Test func jsonRoundTrips() throws {
        let report = gradeReportFixture(error: "partial")
        let text = try render(report, as: .json)
        let back = try JSONDecoder().decode(GradeReport.self, from: Data(text.utf8))
        #expect(back.submission == report.submission)
        #expect(back.lessons.map(\.isolated) == report.lessons.map(\.isolated))
        #expect(back.exercises.map(\.notes) == report.exercises.map(\.notes))
        #expect(back.tests.map(\.message) == report.tests.map(\.message))
        #expect(back.tests.map(\.output) == report.tests.map(\.output))
        #expect(back.tests.map(\.verdict) == report.tests.map(\.verdict))
        #expect(back.tests.map(\.reproduce) == report.tests.map(\.reproduce))
        #expect(back.ignored == report.ignored)
        #expect(back.error == "partial")
        #expect(back.seconds == report.seconds)

        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["score"] as? Double == 2.5)
        #expect(object["maxScore"] as? Double == 9)
        #expect(text.contains("\n  \"error\" : \"partial\",\n  \"exercises\" : ["))  // pretty, sorted
        #expect(text.contains("/tmp/submissions/ada"))  // slashes unescaped
    }

    // MARK: gradescope

    @Test func gradescopeHasExactlyTheDocumentedFields() throws {
        let text = try render(gradeReportFixture(), as: .gradescope)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(top.keys) == ["score", "execution_time", "output", "output_format", "visibility",
                                  "stdout_visibility", "extra_data", "tests", "leaderboard"])
        #expect(number(top["score"]) == 2.5)
        #expect(number(top["execution_time"]) == 13)
        #expect(top["output_format"] as? String == "text")
        #expect(top["visibility"] as? String == "visible")
        #expect(top["stdout_visibility"] as? String == "hidden")
        #expect((top["extra_data"] as? [String: Any])?.isEmpty == true)
        #expect((top["leaderboard"] as? [Any])?.isEmpty == true)
        let summary = try #require(top["output"] as? String)
        #expect(summary.contains("Total: 2.5 / 9 (27.8%)"))
        #expect(summary.contains("Lesson 1 Probability: 2 / 4 (50%), isolated 3 / 4 (75%)"))
        #expect(summary.contains("Lesson 2 Tensors: 0.5 / 5 (10%)"))

        let strict = try JSONDecoder().decode(StrictResults.self, from: Data(text.utf8))
        #expect(strict.tests.count == 8 + 2)
        #expect(strict.tests.reduce(0) { $0 + $1.score } == strict.score)

        let tests = try #require(top["tests"] as? [[String: Any]])
        #expect(tests.count == 8 + 2)  // every test, and one entry per note
        for test in tests {
            #expect(Set(test.keys) == ["score", "max_score", "status", "name", "number", "output", "tags",
                                       "visibility", "extra_data"])
            #expect(number(test["score"]) != nil)
            #expect(number(test["max_score"]) != nil)
            #expect(["passed", "failed"].contains(test["status"] as? String ?? ""))
            #expect(test["name"] is String)
            #expect(ExerciseID(test["number"] as? String ?? "") != nil)
            #expect(test["output"] is String)
            #expect((test["tags"] as? [String])?.count == 2)
            #expect(["visible", "after_published"].contains(test["visibility"] as? String ?? ""))
            #expect((test["extra_data"] as? [String: String])?["verdict"] != nil)
        }
        let named = Dictionary(tests.map { ($0["name"] as! String, $0) }, uniquingKeysWith: { a, _ in a })
        let crash = try #require(named["1.2 multiplication rule — Exercise_1_2/multiplicationRule()"])
        #expect(crash["status"] as? String == "failed")
        #expect(crash["visibility"] as? String == "after_published")
        #expect((crash["extra_data"] as? [String: String])?["verdict"] == "crashed")
        #expect(crash["tags"] as? [String] == ["lesson 1", "exercise 1.2"])
        #expect(crash["number"] as? String == "1.2")
        #expect((crash["output"] as? String)?.hasPrefix("Fatal error: Index out of range") == true)
        let failed = try #require(named["1.1 Sum rule — Exercise_1_1/sumOfOverlapping()"])
        #expect(failed["visibility"] as? String == "visible")
        #expect((failed["output"] as? String)?.contains(#"expected <a & "b"> but got 'c'"#) == true)
        #expect((failed["output"] as? String)?.contains("swift test --filter Exercise_1_1/sumOfOverlapping") == true)
        let passed = try #require(named["2.1 Strides — Exercise_2_1/contiguous()"])
        #expect(passed["status"] as? String == "passed")
        #expect(number(passed["score"]) == 0.5 && number(passed["max_score"]) == 0.5)
        let note = try #require(named["1.2 multiplication rule — compile error"])
        #expect(number(note["score"]) == 0 && number(note["max_score"]) == 0)
        #expect(note["status"] as? String == "failed")
        #expect((note["output"] as? String)?.contains("cannot find 'q' in scope") == true)
        #expect(named["2.1 Strides — marker problem"] != nil)
    }

    // MARK: junit

    @Test func junitIsWellFormedAndCountsMatch() throws {
        let report = gradeReportFixture(error: "grader <crashed> & \u{0}burned")
        let text = try render(report, as: .junit)
        let counter = XMLCounter()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = counter
        #expect(parser.parse(), "\(String(describing: parser.parserError))")

        #expect(counter.count["testsuites"] == 1)
        #expect(counter.suites == ["Lesson01", "Lesson02", "Grader"])
        #expect(counter.count["testcase"] == report.tests.count + 1)
        #expect(counter.count["failure"] == 4)
        #expect(counter.count["skipped"] == 1)
        #expect(counter.count["error"] == 1)
        #expect(counter.root["tests"] == "\(report.tests.count + 1)")
        #expect(counter.root["failures"] == "4")
        #expect(counter.root["errors"] == "1")
        #expect(counter.root["skipped"] == "1")
        #expect(counter.classnames.contains("Lesson01.Exercise_1_2"))
        #expect(counter.caseNames.contains("multiplicationRule()"))
        #expect(counter.failureTypes == ["failed", "crashed", "timed out", "out of memory"])
        // Escaped markup survives the round trip; control characters were replaced.
        #expect(counter.failureMessages.first == #"expected <a & "b"> but got 'c' \u{0}\u{1B}[31m\u{7}"#)
        #expect(counter.text.contains("grader <crashed> & \\u{0}burned"))
        #expect(counter.text.contains("damaged marker"))
        #expect(counter.text.contains("Package.swift"))
    }

    // MARK: writing

    @Test func atomicWriteReplacesAndLeavesNoTemporaryFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("results.json").path

        try writeAtomically("first, and rather longer than the second\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first, and rather longer than the second\n")
        try writeAtomically("second\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["results.json"])

        #expect(throws: ReportWriteError.self) { try writeAtomically("x", to: folder.path + "/missing/results.json") }
        #expect(throws: ReportWriteError.self) { try writeAtomically("x", to: folder.path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["results.json"])
    }

    @Test func atomicWriteFollowsLinksAndWritesDevicesDirectly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let real = folder.appendingPathComponent("real.txt").path
        let link = folder.appendingPathComponent("link.txt").path
        try "old\n".write(toFile: real, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)

        try writeAtomically("new\n", to: link)
        #expect(try String(contentsOfFile: real, encoding: .utf8) == "new\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == real)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)) == ["real.txt", "link.txt"])

        try writeAtomically("discarded\n", to: "/dev/null")  // not replaced by a regular file
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: "/dev/null", isDirectory: &isDirectory))
        #expect((try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType) == .typeCharacterSpecial)
    }

    @Test func writeReportWritesEveryFormat() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for format in ReportFormat.allCases {
            let path = folder.appendingPathComponent("report.\(format)").path
            let code = try writeReport(gradeReportFixture(), format: format, to: path)
            #expect(code == .pointsLost)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == (try render(gradeReportFixture(), as: format)))
        }
    }

    @Test(arguments: ReportFormat.allCases)
    func aReportIsWrittenEvenWhenRenderingFails(format: ReportFormat) throws {
        var report = gradeReportFixture()
        report.tests[0].points = .nan  // JSON cannot say NaN
        report.lessons[0].integrated = .infinity
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("report").path

        let code = try writeReport(report, format: format, to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        switch format {
        case .text, .junit:  // these can say NaN
            #expect(code == .pointsLost)
            #expect(text == (try render(report, as: format)))
        case .json:
            #expect(code == .internalError)
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            #expect((object?["error"] as? String)?.contains("could not write its full report") == true)
            #expect(object?["submission"] as? String == report.submission)
        case .gradescope:
            #expect(code == .internalError)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["score", "execution_time", "output", "output_format", "visibility",
                                         "stdout_visibility", "extra_data", "tests", "leaderboard"])
            #expect(number(object["score"]) == 0)
            #expect((object["output"] as? String)?.contains("could not write its full report") == true)
        }
    }

    @Test(arguments: ReportFormat.allCases)
    func fallbacksAreWellFormed(format: ReportFormat) throws {
        let report = gradeReportFixture(error: "first <problem> & \"quote\"\u{0}")
        let text = renderFallback(report, as: format, error: "second\nproblem\u{1B}")
        switch format {
        case .text:
            #expect(text.contains("!!! GRADER ERROR !!!"))
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
            #expect(text.hasSuffix("\n3 passed, 5 failed\n"))
        case .json, .gradescope:
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            let message = try #require((object?["error"] ?? object?["output"]) as? String)
            #expect(message.contains("second\nproblem\u{1B}"))
            #expect(message.contains("first <problem> & \"quote\"\u{0}"))
        case .junit:
            let counter = XMLCounter()
            let parser = XMLParser(data: Data(text.utf8))
            parser.delegate = counter
            #expect(parser.parse())
            #expect(counter.count["error"] == 1)
            #expect(counter.text.contains("first <problem> & \"quote\"\\u{0}"))
        }
    }

    // MARK: exit codes

    @Test func exitCodes() {
        #expect(GraderExitCode(report: gradeReportFixture()) == .pointsLost)
        #expect(GraderExitCode(report: gradeReportFixture(error: "boom")) == .internalError)
        let perfect = GradeReport(
            submission: "s", lessons: [LessonScore(lesson: 1, title: "P", integrated: 1, maxPoints: 1)],
            tests: [TestResult(name: "t", exercise: ExerciseID(lesson: 1, number: 1), visible: true,
                               verdict: .passed, points: 1, maxPoints: 1)])
        #expect(GraderExitCode(report: perfect) == .success)
        #expect(GraderExitCode.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5])
    }

    // MARK: helpers

    @Test func numbersAndText() {
        #expect(ReportText.points(3) == "3")
        #expect(ReportText.points(2.5) == "2.5")
        #expect(ReportText.points(1.0 / 3) == "0.33")
        #expect(ReportText.percent(2, of: 3) == "66.7%")
        #expect(ReportText.percent(999.99, of: 1000) == "99.9%")
        #expect(ReportText.percent(1, of: 0) == nil)
        #expect(ReportText.sanitized("a\r\nb\u{0}c\td") == "a\nb\\u{0}c    d")
        #expect(ReportText.wrap("aaa bbb ccc ddd", width: 10) == ["aaa bbb", "ccc ddd"])
        #expect(ReportText.wrap(String(repeating: "x", count: 25), width: 10).map(\.count) == [10, 10, 5])
        #expect(ReportText.tail("héllo wörld", maxBytes: 5).hasSuffix("\nörld"))
        #expect(ReportText.tail("héllo wörld", maxBytes: 4).hasSuffix("\nrld"))  // not half an ö
        #expect(ReportText.head("héllo", maxBytes: 2) == "h\n… (5 more bytes)")
        #expect(ReportText.tail("first line\nsecond line", maxBytes: 14) == "… (11 earlier bytes)\nsecond line")
        #expect(ReportText.head("first line\nsecond line", maxBytes: 12) == "first line\n… (12 more bytes)")
        #expect(xmlEscaped("<a b='c'>&\u{1}", attribute: true) == "&lt;a b=&apos;c&apos;&gt;&amp;\\u{1}")
    }
}

/// A number from JSONSerialization.
private func number(_ value: Any?) -> Double? {
    (value as? NSNumber)?.doubleValue
}

/// results.json with strict types: decoding fails on a number where a string
/// belongs, a string or Bool where a number belongs, or a missing field.
private struct StrictResults: Decodable {
    struct Empty: Decodable {}
    struct Test: Decodable {
        var score: Double, max_score: Double, status: String, name: String, number: String, output: String
        var tags: [String], visibility: String, extra_data: [String: String]
    }
    var score: Double, execution_time: Double, output: String, output_format: String, visibility: String
    var stdout_visibility: String, extra_data: Empty, tests: [Test], leaderboard: [Empty]
}

/// Counts what an XMLParser sees.
private final class XMLCounter: NSObject, XMLParserDelegate {
    var count: [String: Int] = [:]
    var root: [String: String] = [:]
    var suites: [String] = []
    var classnames: [String] = []
    var caseNames: [String] = []
    var failureTypes: [String] = []
    var failureMessages: [String] = []
    var text = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        count[name, default: 0] += 1
        switch name {
        case "testsuites": root = attributes
        case "testsuite": suites.append(attributes["name"] ?? "")
        case "testcase":
            classnames.append(attributes["classname"] ?? "")
            caseNames.append(attributes["name"] ?? "")
        case "failure":
            failureTypes.append(attributes["type"] ?? "")
            failureMessages.append(attributes["message"] ?? "")
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
}
