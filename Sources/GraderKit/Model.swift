// The grader's vocabulary: exercises, test results and scores.

/// An exercise's id, `LESSON.N` — e.g. `3.1` is the first exercise of lesson 3.
public struct ExerciseID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// The lesson number.
    public let lesson: Int
    /// The exercise's number within its lesson.
    public let number: Int

    /// An id from its parts.
    public init(lesson: Int, number: Int) {
        self.lesson = lesson
        self.number = number
    }

    /// Parses `"3.1"`; `nil` for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let l = Int(parts[0]), let n = Int(parts[1]), l > 0, n > 0 else { return nil }
        self.init(lesson: l, number: n)
    }

    /// `"3.1"`.
    public var description: String { "\(lesson).\(number)" }

    public static func < (a: ExerciseID, b: ExerciseID) -> Bool {
        (a.lesson, a.number) < (b.lesson, b.number)
    }

    // Encoded as the string "3.1".
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = ExerciseID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an exercise id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// How one test ended.
public enum Verdict: String, Codable, Sendable {
    /// Every expectation held.
    case passed
    /// An expectation failed (the message says which).
    case failed
    /// The process died: a trap (`fatalError`, precondition, index out of
    /// range), a segmentation fault, or an exit without reporting a result.
    case crashed
    /// It ran past its wall-clock or CPU time limit.
    case timedOut = "timed out"
    /// It ran past its memory limit.
    case outOfMemory = "out of memory"
    /// It could not run: the code it needs did not compile.
    case notRun = "not run"
}

/// One test's outcome.
public struct TestResult: Codable, Sendable {
    /// The test's full name, e.g. `Exercise_1_2/multiplicationRule()`.
    public var name: String
    /// The exercise it checks.
    public var exercise: ExerciseID
    /// Whether students have this test (a visible lesson test) or not (hidden).
    public var visible: Bool
    /// How it ended.
    public var verdict: Verdict
    /// Why, for anything but `passed`: the failed expectation, the trap's
    /// message and location, the signal, the limit exceeded.
    public var message: String
    /// The test's own output (standard output and error), truncated.
    public var output: String
    /// Wall-clock seconds.
    public var seconds: Double
    /// Points earned.
    public var points: Double
    /// Points available.
    public var maxPoints: Double
    /// A command a student can run locally to reproduce this test, for visible tests.
    public var reproduce: String?
    /// Whether its process reported results the test did not produce (a
    /// forged or replayed result channel); it then scored 0.
    public var tampered: Bool = false

    /// A result.
    public init(name: String, exercise: ExerciseID, visible: Bool, verdict: Verdict, message: String = "",
                output: String = "", seconds: Double = 0, points: Double = 0, maxPoints: Double = 1,
                reproduce: String? = nil) {
        self.name = name
        self.exercise = exercise
        self.visible = visible
        self.verdict = verdict
        self.message = message
        self.output = output
        self.seconds = seconds
        self.points = points
        self.maxPoints = maxPoints
        self.reproduce = reproduce
    }
}

/// One exercise's score, with anything the grader noticed about its region.
public struct ExerciseScore: Codable, Sendable {
    /// The exercise.
    public var id: ExerciseID
    /// Its title, from the marker.
    public var title: String
    /// Points earned over its tests (integrated run).
    public var points: Double
    /// Points available.
    public var maxPoints: Double
    /// Problems with the submitted region: a missing or damaged marker, a
    /// compile error (with the compiler's message), fallback to the stub.
    public var notes: [String]

    /// A score.
    public init(id: ExerciseID, title: String, points: Double, maxPoints: Double, notes: [String] = []) {
        self.id = id
        self.title = title
        self.points = points
        self.maxPoints = maxPoints
        self.notes = notes
    }
}

/// One lesson's score, graded two ways.
public struct LessonScore: Codable, Sendable {
    /// The lesson number.
    public var lesson: Int
    /// Its title.
    public var title: String
    /// Points with all of the student's code in place.
    public var integrated: Double
    /// Points with only this lesson's code from the student and the reference
    /// for every other lesson — computed when the integrated run lost points,
    /// so a broken early lesson does not zero every later one.
    public var isolated: Double?
    /// Points available.
    public var maxPoints: Double

    /// A lesson score.
    public init(lesson: Int, title: String, integrated: Double, isolated: Double? = nil, maxPoints: Double) {
        self.lesson = lesson
        self.title = title
        self.integrated = integrated
        self.isolated = isolated
        self.maxPoints = maxPoints
    }
}

/// Everything one grading run found: what `grader grade` reports in each format.
public struct GradeReport: Codable, Sendable {
    /// The submission that was graded (a path).
    public var submission: String
    /// Per lesson.
    public var lessons: [LessonScore]
    /// Per exercise.
    public var exercises: [ExerciseScore]
    /// Per test (integrated run).
    public var tests: [TestResult]
    /// Files (or parts of files) in the submission that were not exercise
    /// regions and so were ignored.
    public var ignored: [String]
    /// A failure of the grader itself (the report is still written), or `nil`.
    public var error: String?
    /// Wall-clock seconds the grading took.
    public var seconds: Double
    /// What the grader must say about the whole run, loudly: tests that ran
    /// without isolation, a result channel tampered with.
    public var notes: [String] = []

    /// The total score (integrated).
    public var score: Double { lessons.reduce(0) { $0 + $1.integrated } }
    /// The points available.
    public var maxScore: Double { lessons.reduce(0) { $0 + $1.maxPoints } }

    /// A report.
    public init(submission: String, lessons: [LessonScore] = [], exercises: [ExerciseScore] = [],
                tests: [TestResult] = [], ignored: [String] = [], error: String? = nil, seconds: Double = 0,
                notes: [String] = []) {
        self.submission = submission
        self.notes = notes
        self.lessons = lessons
        self.exercises = exercises
        self.tests = tests
        self.ignored = ignored
        self.error = error
        self.seconds = seconds
    }
}
