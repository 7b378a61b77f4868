import ArgumentParser
import Foundation
import GraderKit
#if canImport(Glibc)
import Glibc
#endif

/// `course`: the learner's companion. It builds their framework, finds the
/// next exercise to do, runs only that exercise's tests (each in a process of
/// its own) and says what happened — calmly, in a few lines.
@main
struct CourseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "course",
        abstract: "Work through the Kindling course: the next exercise, its tests, hints and progress.",
        discussion: """
        `swift run course` builds your framework and runs the tests of the first exercise that does \
        not pass yet. Exercises that passed and whose code (and every earlier exercise's) has not \
        changed since are not run again.
        """,
        subcommands: [Next.self, Watch.self, List.self, Hint.self, Reset.self, Diagnose.self],
        defaultSubcommand: Next.self
    )
}

// MARK: - Shared

/// The learner's repository, found from the current folder.
func studentCourse() throws -> StudentCourse {
    let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    guard let course = StudentCourse.find(from: here) else {
        throw ValidationError("no Exercises/Kindling here or above: run `swift run course` inside your Kindling folder")
    }
    // The course's own source repository builds the reference library unless
    // told to build the workspace.
    if FileManager.default.fileExists(atPath: course.root.appendingPathComponent("Sources/Kindling").path),
       ProcessInfo.processInfo.environment["KINDLING_WORKSPACE"] != "exercises" {
        throw ValidationError("this is the course's source repository: run the course in a student release "
                              + "(`swift run grader release OUT`), or here with KINDLING_WORKSPACE=exercises")
    }
    return course
}

let standardErrorIsTerminal = isatty(STDERR_FILENO) == 1
let standardOutputIsTerminal = isatty(STDOUT_FILENO) == 1

/// A line that rewrites itself on a terminal (progress), or nothing elsewhere.
func status(_ text: String) {
    guard standardErrorIsTerminal else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
}

func clearStatus() {
    guard standardErrorIsTerminal else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
}

func say(_ text: String) {
    print(text)
    fflush(nil)
}

/// Builds the learner's package, with a progress line. Nil (after printing
/// the compiler's errors) when it does not build.
func buildOrExplain(_ course: StudentCourse) throws -> URL? {
    let first = course.testBinary == nil
    if first {
        say("""
        First build: this compiles your framework, its tools and the lesson tests — a few minutes
        (about 3 on two cores). Later builds only recompile what you changed: a few seconds.
        """)
    }
    var lastShown = -1
    let build = try course.build { done, total in
        let percent = total > 0 ? done * 100 / total : 0
        if standardErrorIsTerminal {
            status("Building… [\(done)/\(total)] \(percent)%")
        } else if first, percent / 10 > lastShown {
            lastShown = percent / 10
            say("Building… \(percent)%")
        }
    }
    clearStatus()
    guard build.succeeded, let binary = course.testBinary else {
        if build.timedOut {
            say("The build printed nothing for 15 minutes, so it was stopped. Run `swift build` to see it.")
            return nil
        }
        say("Your code does not compile yet:\n")
        for error in build.errors.prefix(5) { say(error + "\n") }
        if build.errors.count > 5 { say("… and \(build.errors.count - 5) more errors (`swift build` shows them all).") }
        if build.errors.isEmpty { say(String(build.log.suffix(3000))) }
        return nil
    }
    if first { say(String(format: "Built in %.0f s.", build.seconds)) }
    return binary
}

/// Runs one exercise's visible tests, with a status line.
func runner(_ course: StudentCourse, binary: URL, tests: [ExerciseID: [String]]) -> (StudentExercise) -> ExerciseRun {
    { exercise in
        status("Running the tests of exercise \(exercise.id)…")
        defer { clearStatus() }
        return course.run(exercise, tests: tests[exercise.id] ?? [], binary: binary)
    }
}

/// `course next`'s work, shared with `watch`. Returns whether every exercise is done.
@discardableResult
func runNext(_ course: StudentCourse) throws -> Bool {
    let started = Date()
    let exercises = try course.exercises()
    let fingerprints = try course.fingerprints(of: exercises)  // of the code the build will see
    guard let binary = try buildOrExplain(course) else { return false }
    let built = Date()
    let tests = try course.visibleTests(in: binary)
    var state = course.loadState()
    let result = course.next(exercises: exercises, fingerprints: fingerprints, state: &state,
                             run: runner(course, binary: binary, tests: tests))
    try course.saveState(state)
    let done = state.results.filter { id, r in r.status == .done && fingerprints[ExerciseID(id) ?? .init(lesson: 0, number: 0)] == r.fingerprint }.count
    let passedNow = result.ran.filter { $0.status == .done }.map(\.exercise.id)
    if !passedNow.isEmpty {
        say("✓ " + (passedNow.count == 1 ? "Exercise \(passedNow[0]) passes." : "Exercises \(passedNow.map(\.description).joined(separator: ", ")) pass."))
        say("")
    }
    let timing = String(format: "(build %.1f s, tests %.1f s)", built.timeIntervalSince(started), Date().timeIntervalSince(built))
    guard let current = result.current else {
        say("Every exercise passes its tests: \(exercises.count) of \(exercises.count). \(timing)")
        say("Your framework is complete — train a network on it: `make demo`.")
        return true
    }
    say(exerciseReport(current, root: course.root.path, doneCount: done, total: exercises.count,
                       hints: course.hints(for: current.exercise).count,
                       hintsShown: state.hintsShown[current.exercise.id.description] ?? 0))
    say(timing)
    return false
}

// MARK: - Commands

struct Next: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build, then run the tests of the first exercise that does not pass yet (the default).")

    func run() throws {
        let course = try studentCourse()
        do {
            if try !runNext(course) { throw ExitCode.failure }
        } catch let error as GraderError {
            throw ValidationError(error.description)
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every lesson's progress: ✓ done, ✗ failing, · not started (from the tests' results).",
        discussion: "Runs every exercise whose code changed since its last run. Exits with status 1 until every exercise is done.")

    func run() throws {
        let course = try studentCourse()
        let exercises = try course.exercises()
        let fingerprints = try course.fingerprints(of: exercises)
        guard let binary = try buildOrExplain(course) else { throw ExitCode.failure }
        let tests = try course.visibleTests(in: binary)
        var state = course.loadState()
        let statuses = course.survey(exercises: exercises, fingerprints: fingerprints, state: &state,
                                     run: runner(course, binary: binary, tests: tests))
        try course.saveState(state)
        say(progressTable(statuses, titles: Course(root: course.root).lessonTitles()))
        if statuses.contains(where: { $0.1 != .done }) { throw ExitCode.failure }
    }
}

struct Hint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the next hint for an exercise (one at a time; the lesson holds them all).")

    @Argument(help: "The exercise, e.g. 3.4 (default: the one you are on).")
    var exercise: String?

    @Flag(help: "Show every hint shown so far again, and the next one.")
    var all = false

    func run() throws {
        let course = try studentCourse()
        var state = course.loadState()
        guard let id = ExerciseID(exercise ?? state.current ?? "") else {
            throw ValidationError(exercise == nil ? "which exercise? e.g. `swift run course hint 3.4`" : "not an exercise id: \(exercise!) (e.g. 3.4)")
        }
        guard let target = try course.exercises().first(where: { $0.id == id }) else {
            throw ValidationError("there is no exercise \(id)")
        }
        let hints = course.hints(for: target)
        guard !hints.isEmpty else {
            say("Exercise \(id) has no hints in \(target.region.lessonFile); its section there explains it.")
            return
        }
        let shown = state.hintsShown[id.description] ?? 0
        let index = min(shown, hints.count - 1)
        say("Exercise \(id) — \(target.region.title)  (\(target.region.lessonFile))\n")
        for earlier in (all ? 0 : index)..<index + 1 {
            say(wrap(hints[earlier]) + "\n")
        }
        if index + 1 < hints.count {
            say("(Hint \(index + 1) of \(hints.count). Run it again for the next.)")
        } else {
            say("(That is the last hint. The lesson's worked examples and `swift run course` messages say more.)")
        }
        state.hintsShown[id.description] = index + 1
        try course.saveState(state)
    }
}

/// Wraps a paragraph at about 96 columns.
func wrap(_ text: String, width: Int = 96) -> String {
    var lines: [String] = [], line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty && line.count + word.count + 1 > width {
            lines.append(line)
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { lines.append(line) }
    return lines.joined(separator: "\n")
}

struct Reset: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put an exercise's stub back in place of your code (your code is kept in .course/backup/).")

    @Argument(help: "The exercise, e.g. 3.4.")
    var exercise: String

    @Flag(name: .shortAndLong, help: "Do not ask for confirmation.")
    var yes = false

    func run() throws {
        let course = try studentCourse()
        guard let id = ExerciseID(exercise) else { throw ValidationError("not an exercise id: \(exercise) (e.g. 3.4)") }
        guard let target = try course.exercises().first(where: { $0.id == id }) else {
            throw ValidationError("there is no exercise \(id)")
        }
        let lines = target.region.body.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.count
        if !yes {
            FileHandle.standardOutput.write(Data("Replace your code for exercise \(id) (\(lines) lines in \(target.path)) with its stub? [y/N] ".utf8))
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
            guard answer == "y" || answer == "yes" else {
                say("Nothing changed.")
                return
            }
        }
        let backup = try course.reset(id)
        say("Exercise \(id) is its stub again. Your code was saved to \(backup.path.replacingOccurrences(of: course.root.path + "/", with: "")).")
    }
}

struct Diagnose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the first node of a graph whose gradient is wrong, and draw the graph with it in red.")

    @Argument(help: "The exercise whose backward rules to check, e.g. 6.5.")
    var exercise: String

    @Option(help: "Where to write the SVG (default: .course/diagnose-N.M.svg).")
    var out: String?

    func run() throws {
        let course = try studentCourse()
        guard let id = ExerciseID(exercise) else { throw ValidationError("not an exercise id: \(exercise) (e.g. 6.5)") }
        let path = out ?? course.stateFolder.appendingPathComponent("diagnose-\(id).svg").path
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "run", "--quiet", "kindling", "diagnose", "--exercise", id.description, "--out", path]
        process.currentDirectoryURL = course.root
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 { throw ExitCode(process.terminationStatus) }
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run again every time you save a file of Exercises/Kindling (keys: Enter runs again, h hint, l list, q quit).")

    func run() throws {
        let course = try studentCourse()
        let watcher = try FileWatcher(folder: course.workspace)
        func once() {
            if standardOutputIsTerminal { FileHandle.standardOutput.write(Data("\u{1B}[2J\u{1B}[H".utf8)) }
            do { try runNext(course) } catch { say("error: \(error)") }
            say("\nWatching Exercises/Kindling: save a file to run again. Enter: run again · h: hint · l: list · q: quit")
        }
        once()
        var keyboard = true
        while true {
            switch watcher.wait(readKeyboard: keyboard) {
            case .changed:
                once()
            case .key(let line):
                switch line.trimmingCharacters(in: .whitespaces).lowercased() {
                case "q", "quit": return
                case "h", "hint":
                    try? Hint.parse([]).run()
                case "l", "list":
                    try? List.parse([]).run()
                default:
                    once()
                }
            case .keyboardClosed:
                keyboard = false
            }
        }
    }
}
