import Foundation

// The runner's two walks over the course: `next` (the first exercise whose
// tests do not pass, stopping there) and `survey` (every exercise, for
// `course list`). Both trust an earlier result only while the fingerprint of
// the code it ran on is unchanged, so the learner resumes where they left off
// in the time it takes to run one exercise's tests.

/// Where `next` stopped.
public struct NextResult: Sendable {
    /// Exercises whose earlier passing result still holds (not run again).
    public var unchanged: [ExerciseID] = []
    /// Exercises run this time, in order; the last is the one that stopped
    /// the walk unless every exercise is done.
    public var ran: [ExerciseRun] = []
    /// The exercise to work on, or nil when every exercise is done.
    public var current: ExerciseRun? { ran.last.flatMap { $0.status == .done ? nil : $0 } }
}

extension StudentCourse {
    /// Walks the exercises in lesson order and stops at the first one whose
    /// tests do not all pass. Exercises whose fingerprint is the one their
    /// tests last passed on are skipped; every result is saved in `state`.
    ///
    /// - Parameters:
    ///   - exercises: the workspace's exercises (`exercises()`).
    ///   - fingerprints: their fingerprints (`fingerprints(of:)`), computed
    ///     before the build the tests run on.
    ///   - run: runs one exercise's visible tests.
    ///   - willRun: told before each exercise runs (for a progress line).
    public func next(exercises: [StudentExercise], fingerprints: [ExerciseID: String], state: inout CourseState,
                     run: (StudentExercise) -> ExerciseRun,
                     willRun: (StudentExercise) -> Void = { _ in }) -> NextResult {
        var result = NextResult()
        for exercise in exercises.sorted(by: { $0.id < $1.id }) {
            let key = exercise.id.description
            let fingerprint = fingerprints[exercise.id] ?? ""
            if let last = state.results[key], last.status == .done, last.fingerprint == fingerprint {
                result.unchanged.append(exercise.id)
                continue
            }
            willRun(exercise)
            let outcome = run(exercise)
            state.results[key] = .init(status: outcome.status, fingerprint: fingerprint)
            result.ran.append(outcome)
            if outcome.status != .done {
                state.current = key
                return result
            }
        }
        state.current = nil
        return result
    }

    /// Every exercise's status, running the tests of those whose last result
    /// no longer holds (for `course list`). Results are saved in `state`.
    public func survey(exercises: [StudentExercise], fingerprints: [ExerciseID: String], state: inout CourseState,
                       run: (StudentExercise) -> ExerciseRun,
                       willRun: (StudentExercise) -> Void = { _ in }) -> [(StudentExercise, ExerciseStatus)] {
        var statuses: [(StudentExercise, ExerciseStatus)] = []
        for exercise in exercises.sorted(by: { $0.id < $1.id }) {
            let key = exercise.id.description
            let fingerprint = fingerprints[exercise.id] ?? ""
            if let last = state.results[key], last.fingerprint == fingerprint {
                statuses.append((exercise, last.status))
                continue
            }
            willRun(exercise)
            let status = run(exercise).status
            state.results[key] = .init(status: status, fingerprint: fingerprint)
            statuses.append((exercise, status))
        }
        return statuses
    }
}

// MARK: - What the learner reads

/// The report of the exercise that stopped the walk: its title and lesson,
/// each test's verdict (the why indented below a failure), and where to go.
public func exerciseReport(_ run: ExerciseRun, root: String, doneCount: Int, total: Int, hints: Int,
                           hintsShown: Int) -> String {
    let exercise = run.exercise
    let lesson = exercise.region.lessonFile
    var lines: [String] = []
    let location = "\(exercise.path):\(exercise.region.beginLine + 1)"
    switch run.status {
    case .notStarted:
        lines.append("Exercise \(exercise.id) — \(exercise.region.title): not started yet.")
        lines.append("")
        lines.append("  Read \(lesson), section \"Exercise \(exercise.id)\", then replace the `fatalError` line")
        lines.append("  between the markers at \(location) with your code.")
    case .done:
        lines.append("Exercise \(exercise.id) — \(exercise.region.title): every test passes.")
    case .failing:
        lines.append("Exercise \(exercise.id) — \(exercise.region.title)  (\(lesson))")
        lines.append("")
        // A crash that every test runs into is told once.
        var previous: [String] = []
        for result in run.results {
            let described = describe(result, root: root)
            let detail = Array(described.dropFirst()).filter { !$0.hasPrefix("      It printed:") && !$0.hasPrefix("        ") }
            if result.verdict == .crashed, !detail.isEmpty, detail == previous {
                lines.append(described[0] + ", the same way")
                if described.count > detail.count + 1 {
                    lines += described.dropFirst().filter { !detail.contains($0) }
                }
            } else {
                lines += described
            }
            previous = result.verdict == .crashed ? detail : []
        }
        let passing = run.results.filter { $0.verdict == .passed }.count
        lines.append("")
        lines.append("\(passing) of \(run.results.count) tests pass. Your code: \(location)")
    }
    lines.append("")
    if hints > 0 {
        let nextHint = min(hintsShown + 1, hints)
        lines.append("Stuck? `swift run course hint \(exercise.id)` shows hint \(nextHint) of \(hints).")
    }
    lines.append("Save and run `swift run course` again, or leave `swift run course watch` running.")
    lines.append("Progress: \(doneCount) of \(total) exercises done.")
    return lines.joined(separator: "\n")
}

/// `course list`: one line per lesson — a mark per exercise (✓ done, ✗
/// failing, · not started) and the counts.
public func progressTable(_ statuses: [(StudentExercise, ExerciseStatus)], titles: [Int: String]) -> String {
    var lines: [String] = []
    let byLesson = Dictionary(grouping: statuses, by: { $0.0.id.lesson })
    let width = (titles.values.map { $0.components(separatedBy: ":")[0].count }.max() ?? 10) + 14
    let markWidth = byLesson.values.map(\.count).max() ?? 0
    for lesson in byLesson.keys.sorted() {
        let entries = byLesson[lesson]!.sorted { $0.0.id < $1.0.id }
        let marks = entries.map { entry -> String in
            switch entry.1 {
            case .done: return "✓"
            case .failing: return "✗"
            case .notStarted: return "·"
            }
        }.joined()
        let done = entries.filter { $0.1 == .done }.count
        let failing = entries.filter { $0.1 == .failing }.map { $0.0.id.description }
        // "Scalar autograd: numbers that know their derivatives" → "Scalar autograd"
        let title = (titles[lesson] ?? "").components(separatedBy: ":")[0]
        var label = "Lesson \(lesson) — \(title)"
        label += String(repeating: " ", count: max(1, width - label.count))
        var line = label + marks.padding(toLength: markWidth, withPad: " ", startingAt: 0) + "  \(done)/\(entries.count) done"
        if !failing.isEmpty { line += ", failing: " + failing.joined(separator: ", ") }
        lines.append(line)
    }
    let done = statuses.filter { $0.1 == .done }.count
    lines.append("")
    if let next = statuses.first(where: { $0.1 != .done }) {
        lines.append("\(done) of \(statuses.count) exercises done. Next: \(next.0.id) — \(next.0.region.title) (`swift run course`).")
    } else {
        lines.append("All \(statuses.count) exercises done. Train on your own framework: `make demo` (the MLP) or `make demo-cnn` (the CNN).")
    }
    return lines.joined(separator: "\n")
}
