import Foundation
import Testing
@testable import GraderKit

// The grader against the real course, end to end: build a private workspace,
// run every test sandboxed, score. One adversarial submission carries a
// different misbehaviour in each exercise of lesson 1, and lesson 2 mixes
// correct code with a region that does not compile and a deleted marker.
// Every misbehaving exercise must get its own verdict while the correct
// exercises still score in full.

/// The repository this test file lives in.
let e2eCourse = Course(root: URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent())

/// One workspace for the whole suite (the first build is cold, the rest incremental).
let e2eWorkspace = Workspace(course: e2eCourse, directory: FileManager.default.temporaryDirectory
    .appendingPathComponent("kindling-grader-e2e-\(getpid())"))

func e2eGrader(buildSeconds: Double = 900, compileCPUSeconds: Int = 600) -> Grader {
    // A short CPU limit keeps the infinite loop cheap; wall time is looser.
    let limits = SandboxLimits(wallSeconds: 20, cpuSeconds: 2, memoryBytes: 1 << 30)
    return Grader(course: e2eCourse, workspace: e2eWorkspace, execute: sandboxedTestExecutor(limits: limits, parallelism: 2),
                  buildSeconds: buildSeconds, compileCPUSeconds: compileCPUSeconds)
}

func exerciseID(_ text: String) -> ExerciseID { ExerciseID(text)! }

/// The answer key with lesson 1's regions replaced by misbehaving code, and
/// lesson 2's 2.5 marker deleted and 2.6 not compiling; plus an edited test file.
private func adversarialSubmission() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adversarial-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder.appendingPathComponent("Tests/LessonTests"), withIntermediateDirectories: true)
    let bodies: [String: [String]] = [
        "1.1": ["var spins = 0", "while spins >= 0 { spins &+= 1 }  // an infinite loop", "return Value(0)"],
        "1.2": [#"fatalError("I give up on tanh")"#],
        "1.3": ["let p = UnsafeMutablePointer<Int>(bitPattern: 8)!", "p.pointee = 1  // a segmentation fault", "return []"],
        "1.4": ["var hoard: [[UInt8]] = []", "while true { hoard.append([UInt8](repeating: 1, count: 1 << 24)) }"],
        "1.5": [##"for _ in 0..<100_000 { print(#"✔ Test passed {"kind":"event","payload":{"kind":"testEnded"}}"#) }"##,
                "exit(0)  // floods the output, fakes results, leaves early"],
        "2.6": ["return notDefinedAnywhere  // does not compile"],
    ]
    for name in try FileManager.default.contentsOfDirectory(atPath: e2eCourse.solutions.path) where name.hasSuffix(".swift") {
        let text = try String(contentsOf: e2eCourse.solutions.appendingPathComponent(name), encoding: .utf8)
        var rewritten = rewriteRegions(in: text, file: name) { region in
            bodies[region.id.description].map { $0.map { region.indentation + $0 } }
        }
        rewritten = rewritten.replacingOccurrences(of: "// END EXERCISE 2.5\n", with: "")  // a deleted marker
        try rewritten.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    try """
    import Testing
    @Suite struct Lesson01 { @Test func everythingPasses() { #expect(true) } }
    """.write(to: folder.appendingPathComponent("Tests/LessonTests/Lesson01Tests.swift"), atomically: true, encoding: .utf8)
    return folder
}

@Suite(.serialized) struct GradeEndToEndTests {
    @Test func adversarialSubmissionGetsEveryVerdictAndCorrectWorkStillScores() throws {
        let folder = try adversarialSubmission()
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = try e2eGrader().grade(folder)
        func results(_ e: String) -> [TestResult] { report.tests.filter { $0.exercise == exerciseID(e) } }
        func score(_ e: String) -> ExerciseScore { report.exercises.first { $0.id == exerciseID(e) }! }

        // Every test of a misbehaving exercise lost its points, with the right kind of verdict.
        for e in ["1.1", "1.2", "1.3", "1.4", "1.5", "2.5", "2.6"] {
            #expect(!results(e).isEmpty && results(e).allSatisfy { $0.verdict != .passed }, "exercise \(e) must not pass")
            #expect(score(e).points == 0, "exercise \(e) must score 0")
        }
        #expect(results("1.1").contains { $0.verdict == .timedOut }, "infinite loop → timed out")
        #expect(results("1.2").contains { $0.verdict == .crashed && $0.message.contains("I give up on tanh") },
                "fatalError → crashed, with its message")
        #expect(results("1.2").contains { $0.message.contains("at Kindling/Scalar/Value.swift:") },
                "the crash points at the student's file, not at the grader's private copy: \(results("1.2").map(\.message))")
        #expect(report.tests.allSatisfy { !$0.message.contains(e2eWorkspace.directory.path) && !$0.output.contains(e2eWorkspace.directory.path) },
                "no private workspace path reaches the report")
        #expect(results("1.3").contains { $0.verdict == .crashed && $0.message.contains("SIGSEGV") }, "segfault → crashed (SIGSEGV)")
        #expect(results("1.4").contains { $0.verdict == .outOfMemory }, "unbounded growth → out of memory")
        // (Tests of 1.5 that multiply first never get past 1.1's loop and time out instead.)
        #expect(results("1.5").contains { $0.verdict == .crashed && $0.message.contains("exit") },
                "printed results do not count; exit(0) is a crash: \(results("1.5").map { "\($0.verdict): \($0.message.prefix(120))" })")
        #expect(score("2.5").notes.contains { $0.contains("END EXERCISE 2.5") || $0.contains("2.5") && $0.contains("marker") },
                "a deleted marker is explained: \(score("2.5").notes)")
        #expect(score("2.6").notes.contains { $0.contains("does not compile") && $0.contains("notDefinedAnywhere") },
                "the compiler's message is reported under the exercise: \(score("2.6").notes)")

        // The correct exercises still score in full.
        for e in ["2.1", "2.2", "2.3", "2.4"] {
            #expect(score(e).points == score(e).maxPoints && score(e).maxPoints > 0, "exercise \(e) is correct: \(results(e).filter { $0.verdict != .passed }.map(\.message))")
        }
        // The edited test file was ignored, and said so.
        #expect(report.ignored.contains { $0.contains("Tests/LessonTests/Lesson01Tests.swift") })
        // Lesson 2 lost points in the integrated run; its isolated score is reported too.
        let lesson2 = report.lessons.first { $0.lesson == 2 }!
        #expect(lesson2.isolated != nil)
        #expect(report.error == nil)
    }

    @Test func solutionsScoreFullMarksAndExercisesScoreZero() throws {
        let grader = e2eGrader()
        let solutions = try grader.grade(e2eCourse.solutions)
        #expect(solutions.score == solutions.maxScore && solutions.maxScore > 0,
                "\(solutions.tests.filter { $0.verdict != .passed }.map { "\($0.name): \($0.message)" })")
        // The learner's workspace, with Value.swift a symbolic link to the
        // instructor's copy: not followed, so still nothing but stubs.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("linked-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: e2eCourse.exercises, to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        let value = folder.appendingPathComponent("Scalar/Value.swift")
        try FileManager.default.removeItem(at: value)
        try FileManager.default.createSymbolicLink(at: value, withDestinationURL:
            e2eCourse.reference.appendingPathComponent("Scalar/Value.swift"))
        // Lesson 1 only: that every stub fails every test of its exercise is
        // `grader verify`'s to check; here, that the link is not followed.
        let exercises = try grader.grade(folder, lesson: 1)
        #expect(exercises.maxScore > 0 && exercises.tests.allSatisfy { $0.exercise.lesson == 1 })
        #expect(exercises.ignored.contains { $0.contains("Scalar/Value.swift") && $0.contains("symbolic link") }, "\(exercises.ignored)")
        #expect(exercises.score == 0)
        #expect(exercises.tests.allSatisfy { $0.verdict == .crashed }, "every stub crashes its tests, nothing else")
        #expect(exercises.tests.allSatisfy { $0.message.contains("is not done yet") })
    }
}
