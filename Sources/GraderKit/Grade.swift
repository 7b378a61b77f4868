import Foundation

// `grader grade`: collect → splice → build → run → score.

/// Points per test, from `Tests/HiddenTests/points.json` and any
/// `Tests/HiddenTests/Points/*.json` (one per lesson, merged):
/// `{"default": 1, "tests": {"Exercise_1_3/deepChain()": 3}}`.
/// A test not listed is worth `default` (from points.json); names match by
/// suffix of the test's full name.
public struct PointsManifest: Codable, Sendable {
    /// Points of a test that is not listed.
    public var `default`: Double
    /// Points by test name (`Suite/test()`).
    public var tests: [String: Double]

    /// Reads the manifest of `course`, or the default (1 point each) when there is none.
    public static func load(_ course: Course) throws -> PointsManifest {
        let folder = course.root.appendingPathComponent("Tests/HiddenTests")
        var files = [folder.appendingPathComponent("points.json")]
        let perLesson = folder.appendingPathComponent("Points")
        files += ((try? FileManager.default.contentsOfDirectory(atPath: perLesson.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted().map { perLesson.appendingPathComponent($0) }
        var manifest = PointsManifest(default: 1, tests: [:])
        for (index, url) in files.enumerated() {
            guard let data = try? Data(contentsOf: url) else { continue }
            do {
                let part = try JSONDecoder().decode(PointsManifest.self, from: data)
                if index == 0 { manifest.default = part.default }
                manifest.tests.merge(part.tests) { _, new in new }
            } catch {
                throw GraderError.message("\(url.path): not a valid points manifest: \(error)")
            }
        }
        return manifest
    }

    /// The points of the test named `name`.
    public func points(for name: String) -> Double {
        tests.first { name == $0.key || name.hasSuffix("/" + $0.key) || name.hasSuffix("." + $0.key) }?.value ?? `default`
    }
}

/// One test the grader can run: its full name and what it checks.
public struct GradedTest: Sendable, Equatable {
    /// The full Swift Testing name, e.g. `HiddenTests.Exercise_1_2/largeInputs()`.
    public var name: String
    /// The exercise, from the `Exercise_L_N` suite in its name.
    public var exercise: ExerciseID
    /// Whether it is a visible lesson test (vs. hidden).
    public var visible: Bool

    /// The exercise named by an `Exercise_L_N` component of a test name.
    public static func parse(_ name: String) -> GradedTest? {
        let parts = name.split(whereSeparator: { $0 == "/" || $0 == "." })
        guard let suite = parts.first(where: { $0.hasPrefix("Exercise_") }) else { return nil }
        let numbers = suite.dropFirst("Exercise_".count).split(separator: "_")
        guard numbers.count == 2, let l = Int(numbers[0]), let n = Int(numbers[1]) else { return nil }
        return GradedTest(name: name, exercise: ExerciseID(lesson: l, number: n),
                          visible: name.hasPrefix("LessonTests."))
    }

    /// The command that runs this visible test in a learner's checkout.
    public var reproduce: String? {
        guard visible else { return nil }
        let short = name.split(separator: "/").suffix(2).joined(separator: "/").replacingOccurrences(of: "()", with: "")
        return "swift test --filter '\(short)'"
    }
}

/// How the grader runs one test: given the test binary, the test and extra
/// environment, a verdict with its message, output and duration.
public typealias TestExecutor = @Sendable (_ binary: URL, _ tests: [GradedTest], _ environment: [String: String])
    -> [(verdict: Verdict, message: String, output: String, seconds: Double)]

/// Progress lines for a human watching (`grader grade` prints them to stderr).
public typealias ProgressReporter = @Sendable (String) -> Void

/// Grades submissions against a course.
public struct Grader: Sendable {
    /// The course.
    public let course: Course
    /// The private build folder.
    public let workspace: Workspace
    /// Runs tests (sandboxed).
    public let execute: TestExecutor
    /// Where progress lines go.
    public let progress: ProgressReporter

    /// A grader.
    public init(course: Course, workspace: Workspace? = nil, execute: @escaping TestExecutor,
                progress: @escaping ProgressReporter = { _ in }) {
        self.course = course
        self.workspace = workspace ?? Workspace(course: course)
        self.execute = execute
        self.progress = progress
    }

    /// Grades the submission at `url`, optionally only one lesson.
    public func grade(_ url: URL, lesson onlyLesson: Int? = nil) throws -> GradeReport {
        let started = Date()
        let (allRegions, problems) = try course.referenceRegions()
        guard problems.isEmpty else { throw GraderError.markers(problems) }
        let reference = Dictionary(uniqueKeysWithValues: allRegions.map { ($0.id, $0) })
        let exercises = Set(reference.keys)
        let generated = Dictionary(uniqueKeysWithValues: try course.generatedFiles()
            .filter { $0.path.hasPrefix("Exercises/Kindling/") }
            .map { (String($0.path.dropFirst("Exercises/Kindling/".count)), $0.text) })
        progress("Collecting exercise regions from \(url.path)")
        let submission = try collectSubmission(at: url, exercises: exercises, generated: generated)
        let manifest = try PointsManifest.load(course)
        let titles = course.lessonTitles()

        // Integrated: every submitted region at once.
        var notes = submission.problems.mapValues { $0 }
        let integrated = try buildAndRun(submission: submission, useSubmitted: { _ in true }, notes: &notes,
                                         onlyLesson: onlyLesson, manifest: manifest, label: "integrated")
        var lessons: [LessonScore] = []
        let lessonNumbers = Set(reference.keys.map(\.lesson)).filter { onlyLesson == nil || $0 == onlyLesson }.sorted()
        for lesson in lessonNumbers {
            let results = integrated.filter { $0.exercise.lesson == lesson }
            let maxPoints = results.reduce(0) { $0 + $1.maxPoints }
            let points = results.reduce(0) { $0 + $1.points }
            lessons.append(LessonScore(lesson: lesson, title: titles[lesson] ?? "Lesson \(lesson)",
                                       integrated: points, maxPoints: maxPoints))
        }
        // Isolated: for each lesson that lost points, only its own regions from the student.
        for index in lessons.indices where lessons[index].integrated < lessons[index].maxPoints {
            let lesson = lessons[index].lesson
            let submittedHere = submission.regions.keys.contains { $0.lesson == lesson }
            let otherLessonsSubmitted = submission.regions.keys.contains { $0.lesson != lesson }
            guard submittedHere && otherLessonsSubmitted else { continue }  // isolated would equal integrated
            var isolatedNotes: [ExerciseID: [String]] = [:]
            let results = try buildAndRun(submission: submission, useSubmitted: { $0.lesson == lesson },
                                          notes: &isolatedNotes, onlyLesson: lesson, manifest: manifest,
                                          label: "lesson \(lesson) isolated")
            lessons[index].isolated = results.reduce(0) { $0 + $1.points }
        }
        var scores: [ExerciseScore] = []
        for id in exercises.sorted() where onlyLesson == nil || id.lesson == onlyLesson {
            let results = integrated.filter { $0.exercise == id }
            var exerciseNotes = notes[id] ?? []
            if submission.regions[id] == nil && !exerciseNotes.contains(where: { $0.hasPrefix("damaged") }) {
                exerciseNotes.append("not submitted: no region for exercise \(id) was found; graded as its stub")
            }
            scores.append(ExerciseScore(id: id, title: reference[id]!.title,
                                        points: results.reduce(0) { $0 + $1.points },
                                        maxPoints: results.reduce(0) { $0 + $1.maxPoints }, notes: exerciseNotes))
        }
        return GradeReport(submission: url.path, lessons: lessons, exercises: scores, tests: integrated,
                           ignored: submission.ignored + submission.generalProblems, error: nil,
                           seconds: Date().timeIntervalSince(started))
    }

    /// Writes the workspace with submitted regions where `useSubmitted` says so
    /// (reference elsewhere… or stubs for missing ones), builds it — falling back to
    /// the stub for every region that does not compile — and runs the tests.
    func buildAndRun(submission: Submission, useSubmitted: (ExerciseID) -> Bool,
                     notes: inout [ExerciseID: [String]], onlyLesson: Int?, manifest: PointsManifest,
                     label: String) throws -> [TestResult] {
        var fallback = Set<ExerciseID>()
        var attempt = 0
        while true {
            attempt += 1
            progress("Building (\(label)\(attempt > 1 ? ", attempt \(attempt)" : ""))…")
            let placed = try workspace.write { region in
                guard useSubmitted(region.id) else { return .reference }
                if fallback.contains(region.id) { return .stub }
                guard let submitted = submission.regions[region.id], submission.problems[region.id] == nil else { return .stub }
                return .submitted(submitted.body)
            }
            let (errors, _) = try workspace.build()
            if errors.isEmpty { break }
            // Blame the regions the errors fall in; an error elsewhere blames every submitted region of its file.
            var blamed = Set<ExerciseID>()
            for error in errors {
                let inside = placed.filter { $0.value.file == error.file && $0.value.lines.contains(error.line) }.map(\.key)
                let candidates = inside.isEmpty
                    ? placed.filter { $0.value.file == error.file && useSubmitted($0.key) && submission.regions[$0.key] != nil }.map(\.key)
                    : inside
                for id in candidates where !fallback.contains(id) {
                    blamed.insert(id)
                    notes[id, default: []].append("does not compile — graded as its stub. Compiler: \(error.file):\(error.line):\(error.column): error: \(error.message)")
                }
            }
            if blamed.isEmpty {
                throw GraderError.message("the grading workspace does not compile and no exercise region is to blame:\n"
                                          + errors.prefix(5).map { "\($0.file):\($0.line): \($0.message)" }.joined(separator: "\n"))
            }
            fallback.formUnion(blamed)
        }
        let tests = try listTests().filter { onlyLesson == nil || $0.exercise.lesson == onlyLesson }
        progress("Running \(tests.count) tests (\(label))…")
        let binary = try workspace.publishTestBinary()
        defer { try? FileManager.default.removeItem(at: binary.deletingLastPathComponent()) }
        let outcomes = execute(binary, tests, [:])
        // Paths into the private workspace mean nothing to a student:
        // ".../work/Sources/Kindling/Scalar/Value.swift" → "Kindling/Scalar/Value.swift".
        let privatePaths = [(workspace.directory.path + "/Sources/", ""), (workspace.directory.path + "/", "")]
        func readable(_ text: String) -> String {
            privatePaths.reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
        }
        return zip(tests, outcomes).map { test, outcome in
            let maxPoints = manifest.points(for: test.name)
            return TestResult(name: test.name, exercise: test.exercise, visible: test.visible, verdict: outcome.verdict,
                              message: readable(outcome.message), output: readable(outcome.output), seconds: outcome.seconds,
                              points: outcome.verdict == .passed ? maxPoints : 0, maxPoints: maxPoints,
                              reproduce: test.reproduce)
        }
    }

    /// The tests in the built binary that belong to an exercise.
    func listTests() throws -> [GradedTest] {
        let result = try runProcess(workspace.testBinary.path, ["--testing-library", "swift-testing", "--list-tests"])
        guard result.status == 0 else {
            throw GraderError.message("could not list the tests of \(workspace.testBinary.path):\n\(result.output.suffix(2000))")
        }
        return result.output.components(separatedBy: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .compactMap(GradedTest.parse)
    }
}
