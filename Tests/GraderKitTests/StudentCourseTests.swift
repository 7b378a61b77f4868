import Foundation
import Testing
@testable import GraderKit

// The learner's runner (`swift run course`): on a small course laid out as a
// student release is — one exercise right, one wrong, one that traps, one
// that loops forever, one still its stub — built for real and run the way
// the runner runs it, each test in a process of its own.

private let librarySource = #"""
public enum Toy {
    /// a + b.
    public static func add(_ a: Int, _ b: Int) -> Int {
        // BEGIN EXERCISE 1.1 — addition (Lessons/01-toy.md)
        return a + b
        // END EXERCISE 1.1
    }

    /// a · b.
    public static func multiply(_ a: Int, _ b: Int) -> Int {
        // BEGIN EXERCISE 1.2 — multiplication (Lessons/01-toy.md)
        return a + b
        // END EXERCISE 1.2
    }

    /// xs[i].
    public static func element(_ xs: [Int], _ i: Int) -> Int {
        // BEGIN EXERCISE 1.3 — indexing (Lessons/01-toy.md)
        return xs[i + 1]
        // END EXERCISE 1.3
    }

    /// The number of steps from n down to 0.
    public static func countdown(_ n: Int) -> Int {
        // BEGIN EXERCISE 1.4 — a loop (Lessons/01-toy.md)
        var steps = 0, k = n
        while k > 0 { steps += 1 }
        return steps
        // END EXERCISE 1.4
    }

    /// -x.
    public static func negate(_ x: Int) -> Int {
        // BEGIN EXERCISE 1.5 — negation (Lessons/01-toy.md)
        fatalError("Exercise 1.5 is not done yet: negation — see Lessons/01-toy.md")
        // END EXERCISE 1.5
    }
}
"""#

private let testsSource = #"""
import Testing
import Kindling

@Suite("Lesson01", .serialized) struct Lesson01 {
    @Suite struct Exercise_1_1 {
        @Test func addsSmallNumbers() { #expect(Toy.add(2, 3) == 5) }
        @Test func addsNegativeNumbers() { #expect(Toy.add(-2, -3) == -5) }
    }
    @Suite struct Exercise_1_2 {
        @Test func multiplies() {
            let got = Toy.multiply(3, 4)
            #expect(got == 12, "3 · 4 is 12; got \(got) — is it adding instead of multiplying?")
        }
        @Test func multipliesTwoByTwo() { #expect(Toy.multiply(2, 2) == 4) }
    }
    @Suite struct Exercise_1_3 {
        @Test func readsTheElement() { #expect(Toy.element([10, 20, 30], 2) == 30) }
        @Test func readsTheOnlyElement() { #expect(Toy.element([10], 0) == 10) }
    }
    @Suite struct Exercise_1_4 {
        @Test func countsDown() { #expect(Toy.countdown(3) == 3) }
    }
    @Suite struct Exercise_1_5 {
        @Test func negates() { #expect(Toy.negate(4) == -4) }
    }
    @Suite struct Milestone {
        @Test func everythingTogether() { #expect(Toy.add(1, 1) == 2) }
    }
}
"""#

private let lessonText = """
# Lesson 1 — Toy arithmetic: a course to test the runner

## The exercises

### Exercise 1.1 — `add`

Add them.

*Hint.* Use `+`.

### Exercise 1.2 — `multiply`

*Hint 1.* What does multiplying mean?
It spans two lines.

*Hint 2.* Use `*`, not `+`.

### Exercise 1.3 — `element`

No hints here.

## How to check
*Hint.* Not an exercise's hint.
"""

private let manifestSource = #"""
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ToyCourse",
    targets: [
        .target(name: "Kindling", path: "Exercises/Kindling"),
        .testTarget(name: "LessonTests", dependencies: ["Kindling"], path: "Tests/LessonTests"),
    ]
)
"""#

/// A toy course in a fixed temporary folder (its build stays warm between
/// runs), written as it is in the sources above.
private func toyCourse() throws -> StudentCourse {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-toy-course-\(getuid())")
    let files = [
        "Package.swift": manifestSource,
        "Exercises/Kindling/Toy.swift": librarySource,
        "Tests/LessonTests/Lesson01Tests.swift": testsSource,
        "Lessons/01-toy.md": lessonText,
    ]
    for (path, text) in files {
        let url = root.appendingPathComponent(path)
        if (try? String(contentsOf: url, encoding: .utf8)) != text {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
    }
    try? FileManager.default.removeItem(at: root.appendingPathComponent(".course"))
    return StudentCourse(root: root)
}

/// The toy course, built once per test process.
private let builtToyCourse: Result<(StudentCourse, URL), GraderError> = {
    do {
        let course = try toyCourse()
        let build = try course.build()
        guard build.succeeded, let binary = course.testBinary else {
            return .failure(.message("the toy course does not build:\n\(build.log.suffix(3000))"))
        }
        return .success((course, binary))
    } catch {
        return .failure(.message("\(error)"))
    }
}()

private var quickLimits: StudentRunOptions {
    var options = StudentRunOptions()
    options.limits.wallSeconds = 3
    return options
}

@Suite(.serialized) struct StudentCourseTests {
    @Test func theWalkStopsAtTheFirstExerciseThatDoesNotPassAndSaysWhy() throws {
        let (course, binary) = try builtToyCourse.get()
        let exercises = try course.exercises()
        #expect(exercises.map(\.id.description) == ["1.1", "1.2", "1.3", "1.4", "1.5"])
        let tests = try course.visibleTests(in: binary)
        // In the file's order, not the binary's (by name).
        #expect(tests[ExerciseID(lesson: 1, number: 1)]?.map { readableTestName($0) } == ["adds small numbers", "adds negative numbers"])
        // The lesson's milestone needs all its exercises: it runs with the last one.
        #expect(tests[ExerciseID(lesson: 1, number: 5)]?.map { readableTestName($0) } == ["negates", "milestone: everything together"])
        let fingerprints = try course.fingerprints(of: exercises)
        var state = CourseState()
        var ran: [String] = []
        let first = course.next(exercises: exercises, fingerprints: fingerprints, state: &state) {
            ran.append($0.id.description)
            return course.run($0, tests: tests[$0.id] ?? [], binary: binary, options: quickLimits)
        }
        #expect(ran == ["1.1", "1.2"])
        let current = try #require(first.current)
        #expect(current.exercise.id.description == "1.2")
        #expect(current.status == .failing)
        let report = exerciseReport(current, root: course.root.path, doneCount: 1, total: 5, hints: 2, hintsShown: 0)
        #expect(report.contains("✗ multiplies\n"), "\(report)")
        #expect(report.contains("✓ multiplies two by two"), "\(report)")
        #expect(report.contains("Tests/LessonTests/Lesson01Tests.swift:"), "a test's line is shown as the learner's path: \(report)")
        #expect(report.contains("is it adding instead of multiplying?"), "\(report)")
        #expect(report.contains("Exercises/Kindling/Toy.swift:12"), "where to write: \(report)")
        #expect(report.contains("hint 1 of 2"), "\(report)")
        #expect(state.current == "1.2" && state.results["1.1"]?.status == .done)

        // Run again with nothing changed: 1.1 is not run again.
        ran = []
        _ = course.next(exercises: exercises, fingerprints: fingerprints, state: &state) {
            ran.append($0.id.description)
            return course.run($0, tests: tests[$0.id] ?? [], binary: binary, options: quickLimits)
        }
        #expect(ran == ["1.2"])
    }

    @Test func aTrapShowsTheLearnersLineAndNoBacktrace() throws {
        let (course, binary) = try builtToyCourse.get()
        let exercise = try #require(try course.exercises().first { $0.id.description == "1.3" })
        let tests = try course.visibleTests(in: binary)
        let run = course.run(exercise, tests: tests[exercise.id] ?? [], binary: binary, options: quickLimits)
        #expect(run.status == .failing)
        let text = describe(run.results[0], root: course.root.path).joined(separator: "\n")
        #expect(text.contains("— crashed"), "\(text)")
        #expect(text.contains("Fatal error: Index out of range"), "\(text)")
        #expect(text.contains("at Exercises/Kindling/Toy.swift:19"), "the learner's own file and line: \(text)")
        #expect(!text.contains("0x"), "no addresses, registers or backtrace frames: \(text)")
        #expect(text.split(separator: "\n").count <= 6, "a few calm lines: \(text)")
        // The second test crashes the same way: said once.
        let report = exerciseReport(run, root: course.root.path, doneCount: 2, total: 5, hints: 0, hintsShown: 0)
        #expect(report.contains("✗ reads the only element — crashed, the same way\n"), "\(report)")
        #expect(report.components(separatedBy: "Index out of range").count == 2, "\(report)")
    }

    @Test func anEndlessLoopIsStoppedAndNamed() throws {
        let (course, binary) = try builtToyCourse.get()
        let exercise = try #require(try course.exercises().first { $0.id.description == "1.4" })
        let tests = try course.visibleTests(in: binary)
        let started = Date()
        let run = course.run(exercise, tests: tests[exercise.id] ?? [], binary: binary, options: quickLimits)
        #expect(Date().timeIntervalSince(started) < 20)
        let text = describe(run.results[0], root: course.root.path).joined(separator: "\n")
        #expect(run.results[0].verdict == .timedOut)
        #expect(text.contains("still running after 3 s, so it was stopped"), "\(text)")
        #expect(text.contains("loop that never ends"), "\(text)")
        // The file and function always; the line when the instruction it was stopped at has one.
        #expect(text.contains("It was stopped at Exercises/Kindling/Toy.swift") && text.contains("(in static Toy.countdown(_:))"),
                "the loop's own place: \(text)")
    }

    @Test func aStubIsNotStartedAndTheSurveyListsEveryExercise() throws {
        let (course, binary) = try builtToyCourse.get()
        let exercises = try course.exercises()
        let tests = try course.visibleTests(in: binary)
        var state = CourseState()
        let statuses = course.survey(exercises: exercises, fingerprints: try course.fingerprints(of: exercises), state: &state) {
            course.run($0, tests: tests[$0.id] ?? [], binary: binary, options: quickLimits)
        }
        #expect(statuses.map(\.1) == [.done, .failing, .failing, .failing, .notStarted])
        let table = progressTable(statuses, titles: [1: "Toy arithmetic: a course to test the runner"])
        #expect(table.contains("Lesson 1 — Toy arithmetic "), "\(table)")
        #expect(table.contains("✓✗✗✗·"), "\(table)")
        #expect(table.contains("1/5 done, failing: 1.2, 1.3, 1.4"), "\(table)")
        #expect(table.contains("Next: 1.2 — multiplication"), "\(table)")
        let stub = course.run(exercises[4], tests: tests[exercises[4].id] ?? [], binary: binary, options: quickLimits)
        let report = exerciseReport(stub, root: course.root.path, doneCount: 1, total: 5, hints: 0, hintsShown: 0)
        #expect(report.hasPrefix("Exercise 1.5 — negation: not started yet."), "\(report)")
        #expect(report.contains("Lessons/01-toy.md, section \"Exercise 1.5\""), "\(report)")
    }

    @Test func graderWalkHasNoBuildOrTestsToRunForAFolderWithoutWorkspace() {
        #expect(StudentCourse.find(from: URL(fileURLWithPath: "/proc")) == nil)
    }
}

/// The runner's pure parts: fingerprints, hints, reset, names and messages.
@Suite struct StudentCourseTextTests {
    @Test func fingerprintsChangeFromTheEditedExerciseOn() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-fingerprint-\(getuid())-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("Exercises/Kindling/Toy.swift")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let course = StudentCourse(root: folder)
        try librarySource.write(to: file, atomically: true, encoding: .utf8)
        let before = try course.fingerprints(of: try course.exercises())
        try librarySource.replacingOccurrences(of: "return xs[i + 1]", with: "return xs[i]")
            .write(to: file, atomically: true, encoding: .utf8)
        let after = try course.fingerprints(of: try course.exercises())
        for id in ["1.1", "1.2"].compactMap(ExerciseID.init) { #expect(before[id] == after[id], "before the edit: unchanged") }
        for id in ["1.3", "1.4", "1.5"].compactMap(ExerciseID.init) { #expect(before[id] != after[id], "from the edit on: changed") }
        // Code outside every region counts for every exercise.
        try librarySource.replacingOccurrences(of: "/// a + b.", with: "/// a plus b.")
            .write(to: file, atomically: true, encoding: .utf8)
        let outside = try course.fingerprints(of: try course.exercises())
        #expect(outside[ExerciseID(lesson: 1, number: 1)] != before[ExerciseID(lesson: 1, number: 1)])
    }

    @Test func hintsAreTheSectionsParagraphsInOrder() {
        #expect(lessonHints(in: lessonText, exercise: ExerciseID(lesson: 1, number: 1)) == ["*Hint.* Use `+`."])
        #expect(lessonHints(in: lessonText, exercise: ExerciseID(lesson: 1, number: 2))
                == ["*Hint 1.* What does multiplying mean? It spans two lines.", "*Hint 2.* Use `*`, not `+`."])
        #expect(lessonHints(in: lessonText, exercise: ExerciseID(lesson: 1, number: 3)).isEmpty)
        #expect(lessonHints(in: lessonText, exercise: ExerciseID(lesson: 1, number: 4)).isEmpty)
    }

    @Test func resetPutsTheStubBackAndKeepsTheLearnersCode() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-reset-\(getuid())-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("Exercises/Kindling/Toy.swift")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try librarySource.write(to: file, atomically: true, encoding: .utf8)
        let course = StudentCourse(root: folder)
        let backup = try course.reset(ExerciseID(lesson: 1, number: 2))
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains("        fatalError(\"Exercise 1.2 is not done yet: multiplication — see Lessons/01-toy.md\")"))
        #expect(text.contains("return a + b\n        // END EXERCISE 1.1"), "other exercises untouched")
        #expect(try String(contentsOf: backup, encoding: .utf8).contains("return a + b"), "the learner's code is kept")
        #expect(throws: GraderError.self) { try course.reset(ExerciseID(lesson: 9, number: 9)) }
    }

    @Test func damagedMarkersAreNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-markers-\(getuid())-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("Exercises/Kindling/Toy.swift")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try librarySource.replacingOccurrences(of: "        // END EXERCISE 1.3\n", with: "")
            .write(to: file, atomically: true, encoding: .utf8)
        let error = #expect(throws: GraderError.self) { try StudentCourse(root: folder).exercises() }
        #expect("\(error!)".contains("Exercises/Kindling/Toy.swift:"), "\(error!)")
    }

    @Test func anArrayDiffThatOnlyReordersIsLeftOut() {
        let result = RunnerResult(testID: "LessonTests.Lesson01/Exercise_1_1/mixes()", verdict: .failed,
                                  message: "Lesson01Tests.swift:51:13: Expectation failed: (g → [3.0, 2.0]) == ([2, 3] → [2.0, 3.0])\n    inserted [2.0], removed [2.0]\n    the order of `inputs`",
                                  output: "", seconds: 0)
        let text = describe(result, root: "/x").joined(separator: "\n")
        #expect(!text.contains("inserted") && text.contains("the order of `inputs`") && text.contains("(g → [3.0, 2.0])"), "\(text)")
    }

    @Test func testNamesReadAsWords() {
        #expect(readableTestName("LessonTests.Lesson01/Exercise_1_1/mixesWithPlainNumbers()") == "mixes with plain numbers")
        #expect(readableTestName("LessonTests.Lesson03/Exercise_3_1/rejects(a:b:)") == "rejects")
    }

    @Test func compilerErrorsKeepTheirSourceLineAndDropWarnings() {
        let log = """
        [3/9] Compiling Kindling Toy.swift
        /root/course/Exercises/Kindling/Toy.swift:12:16: warning: variable 'k' was never mutated
        /root/course/Exercises/Kindling/Toy.swift:20:9: error: cannot find 'y' in scope
        18 |
        19 |
        20 |         y
           |         `- error: cannot find 'y' in scope

        error: fatalError
        """
        let errors = compilerErrorLines(log, root: "/root/course")
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.hasPrefix("Exercises/Kindling/Toy.swift:20:9: error: cannot find 'y' in scope") == true)
        #expect(errors.first?.contains("`- error") == true)
    }

    @Test func theWatcherWakesOnASavedSwiftFileOnly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-watch-\(getuid())-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Ops"), withIntermediateDirectories: true)
        let watcher = try FileWatcher(folder: folder, settle: 0.2)
        let writer = Thread {
            usleep(200_000)
            try? "x".write(to: folder.appendingPathComponent("Ops/notes.txt"), atomically: false, encoding: .utf8)
            usleep(200_000)
            // As an editor saves: a temporary file renamed over the old one.
            try? "let x = 1".write(to: folder.appendingPathComponent("Ops/Kernels.swift"), atomically: true, encoding: .utf8)
        }
        let started = Date()
        writer.start()
        #expect(watcher.wait(readKeyboard: false) == .changed)
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 0.5 && waited < 5, "woke only after the .swift file settled: \(waited) s")
    }
}
