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

/// How the grader runs tests: given the test binary, the tests and extra
/// environment, one result per test, in order.
public typealias TestExecutor = @Sendable (_ binary: URL, _ tests: [GradedTest], _ environment: [String: String])
    -> [RunnerResult]

/// Progress lines for a human watching (`grader grade` prints them to stderr).
public typealias ProgressReporter = @Sendable (String) -> Void

/// Grades submissions against a course.
///
/// How a verdict is reached (the grader's README section says why): the
/// hidden tests run once against the reference library — in a build of its
/// own, with a grading seed drawn for this run — and once against the
/// submission, each test alone in a sandbox. A test passes only if its run
/// against the submission ended cleanly, reported no failure *and* observed
/// the same values as the reference's run did. Only the hidden tests score;
/// which tests exist is read from the reference build, never from a binary
/// holding student code.
public struct Grader: Sendable {
    /// The course.
    public let course: Course
    /// The private build folder of submissions (see `WorkspaceLock`: a grade
    /// takes the first folder of the pool that no other grade holds).
    public let workspace: Workspace
    /// The private build of the reference, with switchable stubs (`grader
    /// verify` uses the same build).
    public let referenceWorkspace: Workspace
    /// Runs tests (sandboxed).
    public let execute: TestExecutor
    /// Where progress lines go.
    public let progress: ProgressReporter
    /// Longest a build of the grading workspace may take before the regions
    /// submitted in it are searched for the one to blame.
    public var buildSeconds: Double
    /// CPU seconds each compiler job may use (see `Workspace.build`).
    public var compileCPUSeconds: Int

    /// A grader.
    public init(course: Course, workspace: Workspace? = nil, referenceWorkspace: Workspace? = nil,
                execute: @escaping TestExecutor, progress: @escaping ProgressReporter = { _ in },
                buildSeconds: Double = 900, compileCPUSeconds: Int = 600) {
        self.course = course
        self.workspace = workspace ?? Workspace(course: course)
        self.referenceWorkspace = referenceWorkspace
            ?? Workspace(course: course, directory: course.root.appendingPathComponent(".build-grader/reference"))
        self.execute = execute
        self.progress = progress
        self.buildSeconds = buildSeconds
        self.compileCPUSeconds = compileCPUSeconds
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

        // The reference's run first: which tests there are, and what they observe.
        let expected = try referenceRun(onlyLesson: onlyLesson)
        var notes: [String] = []
        if let problem = sandboxIsolationProblem {
            notes.append("NOT ISOLATED: \(problem), so the tests ran without namespaces of their own: student code could "
                + "read any file this user can read and leave processes or files behind. Grade as root for isolation.")
        }

        // One grade at a time per workspace folder.
        let lock = try WorkspaceLock.acquire(workspace, progress: progress)
        defer { withExtendedLifetime(lock) {} }
        let workspace = lock.workspace

        // Integrated: every submitted region at once.
        var exerciseNotes = submission.problems.mapValues { $0 }
        let integrated = try buildAndRun(in: workspace, submission: submission, useSubmitted: { _ in true },
                                         notes: &exerciseNotes, tests: expected, manifest: manifest, label: "integrated")
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
            let results = try buildAndRun(in: workspace, submission: submission, useSubmitted: { $0.lesson == lesson },
                                          notes: &isolatedNotes, tests: expected.only(lesson: lesson), manifest: manifest,
                                          label: "lesson \(lesson) isolated")
            lessons[index].isolated = results.reduce(0) { $0 + $1.points }
        }
        var scores: [ExerciseScore] = []
        for id in exercises.sorted() where onlyLesson == nil || id.lesson == onlyLesson {
            let results = integrated.filter { $0.exercise == id }
            var notesHere = exerciseNotes[id] ?? []
            if submission.regions[id] == nil && !notesHere.contains(where: { $0.hasPrefix("damaged") }) {
                notesHere.append("not submitted: no region for exercise \(id) was found; graded as its stub")
            }
            scores.append(ExerciseScore(id: id, title: reference[id]!.title,
                                        points: results.reduce(0) { $0 + $1.points },
                                        maxPoints: results.reduce(0) { $0 + $1.maxPoints }, notes: notesHere))
        }
        let tampered = integrated.filter { $0.tampered }
        if !tampered.isEmpty {
            notes.append("RESULT CHANNEL TAMPERED WITH in \(tampered.count) test(s): their process reported results the "
                + "tests did not produce (" + tampered.prefix(5).map(\.name).joined(separator: ", ")
                + (tampered.count > 5 ? ", …" : "") + "). They scored 0.")
        }
        return GradeReport(submission: url.path, lessons: lessons, exercises: scores, tests: integrated,
                           ignored: submission.ignored + submission.generalProblems, error: nil,
                           seconds: Date().timeIntervalSince(started), notes: notes)
    }

    /// Writes `workspace` with submitted regions where `useSubmitted` says so
    /// (reference elsewhere… or stubs for missing ones), builds it — falling
    /// back to the stub for every region that does not compile, that makes
    /// the link fail or the build run past `buildSeconds` — and runs the tests
    /// of `tests`, judging each against the reference's observations.
    func buildAndRun(in workspace: Workspace, submission: Submission, useSubmitted: (ExerciseID) -> Bool,
                     notes: inout [ExerciseID: [String]], tests expected: ReferenceRun, manifest: PointsManifest,
                     label: String) throws -> [TestResult] {
        var fallback = Set<ExerciseID>()
        var attempt = 0
        // The regions that would be the student's, given the fallbacks so far.
        func submittedNow() -> [ExerciseID] {
            submission.regions.keys.filter { useSubmitted($0) && !fallback.contains($0) && submission.problems[$0] == nil }.sorted()
        }
        func write(submitting chosen: Set<ExerciseID>) throws -> Workspace.RegionLines {
            try workspace.write { region in
                guard useSubmitted(region.id) else { return .reference }
                guard chosen.contains(region.id), let submitted = submission.regions[region.id] else { return .stub }
                return .submitted(submitted.body)
            }
        }
        while true {
            attempt += 1
            progress("Building (\(label)\(attempt > 1 ? ", attempt \(attempt)" : ""))…")
            let submitted = submittedNow()
            let placed = try write(submitting: Set(submitted))
            let build = try workspace.build(seconds: buildSeconds, cpuSeconds: compileCPUSeconds)
            if build.succeeded { break }
            var blamed = Set<ExerciseID>()
            // Blame the regions the errors fall in; an error elsewhere blames every submitted region of its file.
            for error in build.errors {
                let inside = placed.filter { $0.value.file == error.file && $0.value.lines.contains(error.line) }.map(\.key)
                let candidates = inside.isEmpty
                    ? placed.filter { $0.value.file == error.file && submitted.contains($0.key) }.map(\.key)
                    : inside
                for id in candidates where !fallback.contains(id) {
                    blamed.insert(id)
                    notes[id, default: []].append("does not compile — graded as its stub. Compiler: \(error.file):\(error.line):\(error.column): error: \(error.message)")
                }
            }
            if blamed.isEmpty {
                // A link clash names its symbol ("multiple definition of
                // 'main'"): the submitted regions that spell it out.
                for symbol in parseLinkClashes(build.log) {
                    for id in submitted where submission.regions[id]!.body.joined(separator: "\n").contains(symbol) {
                        blamed.insert(id)
                        notes[id, default: []].append("graded as its stub: it defines the symbol '\(symbol)' a second time, "
                            + "so the program cannot be linked (\(build.summary.split(separator: "\n").first ?? ""))")
                    }
                }
            }
            if blamed.isEmpty {
                // No error points into a region: a link failure ("multiple
                // definition" has no file:line) or a build past its time
                // limit. Find the submitted regions that cause it by building
                // with halves of them stubbed.
                let why = build.timedOut
                    ? "its build ran past the limit of \(formatSeconds(buildSeconds)) (the compiler's work explodes on it)"
                    : "the build fails with it in place and succeeds without it: " + build.summary
                let culprits = try bisectBuildFailure(submitted, timedOut: build.timedOut) { chosen in
                    _ = try write(submitting: Set(chosen))
                    return try workspace.build(seconds: buildSeconds, cpuSeconds: compileCPUSeconds)
                }
                guard !culprits.isEmpty else {
                    throw GraderError.message("the grading workspace does not build and no exercise region is to blame:\n"
                                              + build.summary)
                }
                for id in culprits {
                    blamed.insert(id)
                    notes[id, default: []].append("graded as its stub: \(why)")
                }
            }
            fallback.formUnion(blamed)
        }
        let tests = expected.tests
        progress("Running \(tests.count) tests (\(label))…")
        let binary = try workspace.publishTestBinary()
        defer { try? FileManager.default.removeItem(at: binary.deletingLastPathComponent()) }
        let outcomes = execute(binary, tests, ["KINDLING_GRADING_SEED": "\(expected.seed)"])
        // Paths into the private workspace mean nothing to a student:
        // ".../work/Sources/Kindling/Scalar/Value.swift" → "Kindling/Scalar/Value.swift".
        let privatePaths = [(workspace.directory.path + "/Sources/", ""), (workspace.directory.path + "/", "")]
        func readable(_ text: String) -> String {
            privatePaths.reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
        }
        return zip(tests, outcomes).map { test, outcome in
            let (verdict, message, tampered) = judge(outcome, reference: expected.observations[test.name] ?? [])
            let maxPoints = manifest.points(for: test.name)
            var result = TestResult(name: test.name, exercise: test.exercise, visible: test.visible, verdict: verdict,
                                    message: readable(message), output: readable(outcome.output), seconds: outcome.seconds,
                                    points: verdict == .passed ? maxPoints : 0, maxPoints: maxPoints,
                                    reproduce: test.reproduce)
            result.tampered = tampered
            return result
        }
    }

    /// The grader's verdict on one test: the run's own (crash, timeout,
    /// failed expectations, a tampered stream) and the comparison of its
    /// observations with the reference's. Returns the verdict, its message
    /// and whether the result channel was tampered with.
    func judge(_ run: RunnerResult, reference: [Observation]) -> (Verdict, String, Bool) {
        if run.tampering != nil { return (.failed, run.message, true) }
        guard !reference.isEmpty else {
            // Nothing to compare with: a pass could not be told from a forgery.
            return (run.verdict == .passed ? .notRun : run.verdict,
                    run.verdict == .passed ? "This test observed nothing on the reference, so its result cannot be "
                        + "checked; it is not scored (the course needs fixing: `grader verify` reports it)." : run.message,
                    false)
        }
        let comparison = compareObservations(run.observations, reference: reference)
        let compared = comparison.differences.map { "  " + $0 }.joined(separator: "\n")
        switch run.verdict {
        case .passed where comparison.matched:
            return (.passed, "", false)
        case .passed:
            return (.failed, "Its values are not the reference's:\n" + compared + "\n"
                + "Yet the test process reported success, which the test does not do with wrong values: the result "
                + "channel was tampered with. The test did not pass.", true)
        case .failed where !comparison.matched:
            return (.failed, run.message + "\nCompared with the reference:\n" + compared, false)
        default:
            return (run.verdict, run.message, false)
        }
    }

    /// The reference's run: the graded tests, read from the reference build,
    /// and what each observed with a grading seed drawn now. A seed for which
    /// the reference itself fails a test is not used (another is drawn).
    func referenceRun(onlyLesson: Int?) throws -> ReferenceRun {
        let lock = try WorkspaceLock.acquire(referenceWorkspace, pool: 1, progress: progress)
        let binary: URL
        let tests: [GradedTest]
        do {
            defer { withExtendedLifetime(lock) {} }
            progress("Building the reference…")
            try referenceWorkspace.write { _ in .switchable }
            let build = try referenceWorkspace.build(seconds: buildSeconds, cpuSeconds: compileCPUSeconds)
            guard build.succeeded else {
                throw GraderError.message("the reference does not build:\n" + build.summary)
            }
            tests = try listTests(referenceWorkspace.testBinary).filter { !$0.visible }
                .filter { onlyLesson == nil || $0.exercise.lesson == onlyLesson }
            // A private copy, so another grade may rebuild the reference meanwhile.
            binary = try copyIntoFreshFolder(referenceWorkspace.testBinary)
        }
        defer { try? FileManager.default.removeItem(at: binary.deletingLastPathComponent()) }
        var failures: [String] = []
        for _ in 0..<3 {
            let seed = UInt64.random(in: 1...UInt64(Int64.max))
            progress("Running \(tests.count) hidden tests on the reference (grading seed \(seed))…")
            let run = runReference(binary: binary, tests: tests, seed: seed)
            if run.failures.isEmpty {
                return ReferenceRun(seed: seed, tests: tests, observations: run.observations)
            }
            failures = run.failures
            progress("The reference failed \(failures.count) test(s) with seed \(seed); drawing another seed.")
        }
        throw GraderError.message("the reference fails hidden tests with three grading seeds in a row (run `grader verify`): "
                                  + failures.prefix(5).joined(separator: "; "))
    }

    /// The tests of a test binary that belong to an exercise: listed by
    /// running the binary, so only ever a binary without student code.
    func listTests(_ binary: URL) throws -> [GradedTest] {
        let result = try runProcess(binary.path, ["--testing-library", "swift-testing", "--list-tests"],
                                    timeout: 120)
        guard result.status == 0 else {
            throw GraderError.message("could not list the tests of \(binary.path):\n\(result.output.suffix(2000))")
        }
        return result.output.components(separatedBy: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .compactMap(GradedTest.parse)
    }
}

/// What the reference's run of the hidden tests observed, with the seed it used.
public struct ReferenceRun: Sendable {
    /// The grading seed: the submission's tests run with the same one.
    public var seed: UInt64
    /// The graded tests, in order.
    public var tests: [GradedTest]
    /// Each test's observations, by test name.
    public var observations: [String: [Observation]]

    /// The same run, restricted to one lesson's tests.
    func only(lesson: Int) -> ReferenceRun {
        ReferenceRun(seed: seed, tests: tests.filter { $0.exercise.lesson == lesson }, observations: observations)
    }
}

/// Runs `tests` of the reference test binary in two processes (the cases in
/// order, `--no-parallel`), with `seed`, and collects what each observed and
/// which failed. Trusted code: it runs as the grader's own user, but with the
/// same isolation as any test.
func runReference(binary: URL, tests: [GradedTest], seed: UInt64) -> (observations: [String: [Observation]], failures: [String]) {
    let halves = [tests.enumerated().filter { $0.offset % 2 == 0 }.map(\.element),
                  tests.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)].filter { !$0.isEmpty }
    let limits = SandboxLimits(wallSeconds: 1800, cpuSeconds: 1800, memoryBytes: 8 << 30, processes: 256)
    let outcomes = UnsafeSendableBox([SandboxOutcome?](repeating: nil, count: halves.count))
    DispatchQueue.concurrentPerform(iterations: halves.count) { index in
        outcomes.set(index, runTestBinary(binary.path, filters: halves[index].map { runnerFilterPattern(for: $0.name) },
                                          limits: limits, user: nil, environment: ["KINDLING_GRADING_SEED": "\(seed)"],
                                          isolation: .automatic))
    }
    var observations: [String: [Observation]] = [:]
    var failures: [String] = []
    for (index, outcome) in outcomes.values.enumerated() {
        guard let outcome else {
            failures.append("the grader could not create a working folder for the reference's run")
            continue
        }
        let stream = RunnerEventStream(outcome.channel)
        let all = Observation.parse(outcome.observations)
        for test in halves[index] {
            observations[test.name] = all.filter { $0.test == test.name || $0.test.hasPrefix(test.name + "/") }
            let ended = stream.ended.contains { $0 == test.name || $0.hasPrefix(test.name + "/") }
            if !ended {
                let said = String(decoding: outcome.stderr.suffix(300), as: UTF8.self)
                failures.append("\(test.name): did not finish (\(outcome.termination))" + (said.isEmpty ? "" : ": \(said)"))
            }
        }
        for issue in stream.failedTests {
            failures.append("\(issue): failed on the reference")
        }
    }
    return (observations, failures)
}

/// An array filled from several threads, each writing its own slot.
final class UnsafeSendableBox<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Element]
    init(_ values: [Element]) { storage = values }
    func set(_ index: Int, _ value: Element) { lock.withLock { storage[index] = value } }
    var values: [Element] { lock.withLock { storage } }
}

/// Finds the submitted regions behind a build that fails without pointing
/// into any of them (a link error, a time-out): `build(chosen)` builds with
/// only `chosen` submitted. Halves the candidates while one half alone
/// still fails; when neither half fails alone (two regions clash with each
/// other), every remaining candidate is blamed. Returns [] when the build
/// fails even with none submitted.
func bisectBuildFailure(_ candidates: [ExerciseID], timedOut: Bool,
                        build: ([ExerciseID]) throws -> BuildResult) throws -> [ExerciseID] {
    // The same failure: a timeout for a timeout; any failure for a link error.
    func fails(_ chosen: [ExerciseID]) throws -> Bool {
        let result = try build(chosen)
        return timedOut ? result.timedOut : !result.succeeded
    }
    guard !candidates.isEmpty, try !fails([]) else { return [] }
    var suspects = candidates
    while suspects.count > 1 {
        let half = suspects.count / 2
        let (first, second) = (Array(suspects[..<half]), Array(suspects[half...]))
        if try fails(first) { suspects = first }
        else if try fails(second) { suspects = second }
        else { break }
    }
    return suspects
}
