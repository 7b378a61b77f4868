import Foundation

// The learner's side of the course, as the `course` runner sees it: the
// exercises of their workspace (Exercises/Kindling) in lesson order, what
// each one's tests said last time and whether that still holds, the
// lessons' graded hints, and putting a stub back.
//
// Nothing here decides a grade. The runner only helps a learner find the
// next thing to do; `grader grade` (Grade.swift) is the judge.

/// One exercise of the learner's workspace.
public struct StudentExercise: Sendable, Equatable {
    /// Its region in the workspace (the body is the learner's code, or the stub).
    public var region: Region
    /// The file it is in, relative to the repository root: `Exercises/Kindling/Ops/Kernels.swift`.
    public var path: String

    /// `3.4`.
    public var id: ExerciseID { region.id }
}

/// What the runner knows about an exercise from the last time its tests ran.
public enum ExerciseStatus: String, Codable, Sendable {
    /// Every visible test passed.
    case done
    /// Some test failed, crashed or timed out on the learner's code.
    case failing
    /// Its tests stopped at the stub's "not done yet".
    case notStarted = "not started"
}

/// The runner's memory between runs, kept in `.course/state.json`: for each
/// exercise, what its tests said and the fingerprint of the code they ran
/// on, and how many of its hints were shown.
public struct CourseState: Codable, Sendable, Equatable {
    /// One exercise's last result.
    public struct Result: Codable, Sendable, Equatable {
        /// What the tests said.
        public var status: ExerciseStatus
        /// `StudentCourse.fingerprint(of:)` of the code the tests ran on.
        public var fingerprint: String
    }

    /// Last results, by exercise id ("3.4").
    public var results: [String: Result] = [:]
    /// Hints shown so far, by exercise id.
    public var hintsShown: [String: Int] = [:]
    /// The exercise the learner was last sent to.
    public var current: String? = nil

    /// An empty state.
    public init() {}
}

/// The learner's repository: a student release (or any folder laid out like one).
public struct StudentCourse: Sendable {
    /// The repository root (holds Package.swift).
    public let root: URL

    /// A course rooted at `root`.
    public init(root: URL) { self.root = root }

    /// Finds the root: `start` or the nearest folder above it holding Exercises/Kindling.
    public static func find(from start: URL) -> StudentCourse? {
        var dir = start.standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Exercises/Kindling").path) {
                return StudentCourse(root: dir)
            }
            if dir.path == "/" { return nil }
            dir.deleteLastPathComponent()
        }
    }

    /// The learner's library.
    public var workspace: URL { root.appendingPathComponent("Exercises/Kindling") }
    /// The visible tests.
    public var testsFolder: URL { root.appendingPathComponent("Tests/LessonTests") }
    /// Where the runner keeps its state and backups.
    public var stateFolder: URL { root.appendingPathComponent(".course") }
    var stateFile: URL { stateFolder.appendingPathComponent("state.json") }

    // MARK: - Exercises

    /// Every exercise of the workspace in lesson order, or the damaged markers
    /// (a learner who deleted an END line needs to hear exactly where).
    public func exercises() throws -> [StudentExercise] {
        var found: [StudentExercise] = [], problems: [MarkerProblem] = []
        for file in Course.swiftFiles(under: workspace) {
            let text = try String(contentsOf: workspace.appendingPathComponent(file), encoding: .utf8)
            let scan = scanRegions(in: text, file: "Exercises/Kindling/" + file)
            found += scan.regions.map { StudentExercise(region: $0, path: $0.file) }
            problems += scan.problems
        }
        guard problems.isEmpty else { throw GraderError.markers(problems) }
        return found.sorted { $0.id < $1.id }
    }

    /// A fingerprint per exercise of everything its tests can depend on: its
    /// own code and every earlier exercise's (an exercise's tests use only it
    /// and earlier ones — `grader verify` checks that), the workspace outside
    /// the regions, and the visible tests. When it is unchanged since the
    /// tests passed, they need not run again.
    public func fingerprints(of exercises: [StudentExercise]) throws -> [ExerciseID: String] {
        var shared = FNV1a()
        for file in Course.swiftFiles(under: workspace) {
            let text = try String(contentsOf: workspace.appendingPathComponent(file), encoding: .utf8)
            shared.add(file)
            shared.add(rewriteRegions(in: text, file: file) { _ in [] })
        }
        for file in Course.swiftFiles(under: testsFolder) {
            shared.add(file)
            shared.add((try? String(contentsOf: testsFolder.appendingPathComponent(file), encoding: .utf8)) ?? "")
        }
        var running = shared
        var result: [ExerciseID: String] = [:]
        for exercise in exercises.sorted(by: { $0.id < $1.id }) {
            running.add(exercise.id.description)
            running.add(exercise.region.body.joined(separator: "\n"))
            result[exercise.id] = running.hex
        }
        return result
    }

    // MARK: - State

    /// The saved state, or an empty one (a missing or unreadable file only
    /// means the tests run again).
    public func loadState() -> CourseState {
        guard let data = try? Data(contentsOf: stateFile),
              let state = try? JSONDecoder().decode(CourseState.self, from: data) else { return CourseState() }
        return state
    }

    /// Saves `state` (written whole, then renamed into place).
    public func saveState(_ state: CourseState) throws {
        try FileManager.default.createDirectory(at: stateFolder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(state).write(to: stateFile, options: .atomic)
    }

    // MARK: - Hints

    /// The lesson text's hints for `exercise`, in order: the paragraphs that
    /// start `*Hint.*` or `*Hint N.*` in its "### Exercise N.M" section.
    public func hints(for exercise: StudentExercise) -> [String] {
        let url = root.appendingPathComponent(exercise.region.lessonFile)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return lessonHints(in: text, exercise: exercise.id)
    }

    // MARK: - Reset

    /// Puts exercise `id`'s stub back in place of the learner's code. The
    /// code it replaces is first saved under `.course/backup/` (returned),
    /// so nothing is ever lost.
    @discardableResult
    public func reset(_ id: ExerciseID) throws -> URL {
        guard let exercise = try exercises().first(where: { $0.id == id }) else {
            throw GraderError.message("there is no exercise \(id) in Exercises/Kindling")
        }
        let url = root.appendingPathComponent(exercise.path)
        let text = try String(contentsOf: url, encoding: .utf8)
        let backups = stateFolder.appendingPathComponent("backup")
        try FileManager.default.createDirectory(at: backups, withIntermediateDirectories: true)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
        let backup = backups.appendingPathComponent("\(id)-\(stamp).swift")
        try ([exercise.region.beginMarker] + exercise.region.body + [exercise.region.endMarker])
            .joined(separator: "\n").appending("\n").write(to: backup, atomically: true, encoding: .utf8)
        let restored = rewriteRegions(in: text, file: exercise.path) { $0.id == id ? $0.stub : nil }
        try restored.write(to: url, atomically: true, encoding: .utf8)
        return backup
    }
}

/// The hints of exercise `id` in a lesson's Markdown: the paragraphs that
/// start `*Hint.*` or `*Hint N.*` between its `### Exercise N.M` heading and
/// the next heading, each joined into one line of text.
public func lessonHints(in markdown: String, exercise id: ExerciseID) -> [String] {
    var hints: [String] = []
    var inSection = false
    var paragraph: [String] = []
    func flush() {
        defer { paragraph = [] }
        guard let first = paragraph.first else { return }
        let isHint = first.hasPrefix("*Hint.*") || (first.hasPrefix("*Hint ") && first.contains(".*"))
        if isHint { hints.append(paragraph.joined(separator: " ")) }
    }
    for raw in markdown.components(separatedBy: "\n") {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.hasPrefix("#") {
            flush()
            if inSection { break }
            let words = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            inSection = words.hasPrefix("Exercise \(id) ") || words == "Exercise \(id)"
            continue
        }
        guard inSection else { continue }
        if line.isEmpty { flush() } else { paragraph.append(line) }
    }
    flush()
    return hints
}

/// 64-bit FNV-1a: a small, stable fingerprint (not for security).
struct FNV1a {
    private var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        value = (value ^ 0xff) &* 0x0000_0100_0000_01b3  // a separator: "ab","c" ≠ "a","bc"
    }

    var hex: String { String(value, radix: 16) }
}
