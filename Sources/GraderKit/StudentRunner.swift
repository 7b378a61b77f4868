import Foundation
#if canImport(Glibc)
import Glibc
#endif

// The `course` runner's loop: build the learner's package, find the first
// exercise whose tests do not pass, run only that exercise's visible tests —
// each in a process of its own, through the same sandbox the grader uses, so
// a trap or an endless loop in one test never takes another down — and say
// what happened in a few calm lines.
//
// Time goes to three places, in this order: `swift build` (an edit to one
// file of Exercises/Kindling recompiles that module and relinks the test
// binary), starting one test process per test, and the tests themselves.
// Exercises whose code (and every earlier exercise's) is unchanged since
// their tests passed are not run again: the fingerprints in
// `.course/state.json` say so.

/// How the runner's build ended.
public struct StudentBuild: Sendable {
    /// Whether the build succeeded.
    public var succeeded: Bool
    /// The compiler's errors, as the learner should read them: each
    /// `file:line:col: error: …` line with the source line and caret after it,
    /// paths relative to the repository root.
    public var errors: [String]
    /// The whole log (for `--verbose`).
    public var log: String
    /// Wall-clock seconds.
    public var seconds: Double
    /// Stopped for making no progress or running too long.
    public var timedOut: Bool
}

/// Options of a runner session.
public struct StudentRunOptions: Sendable {
    /// Limits for each test process: a test that loops forever is stopped
    /// after `wallSeconds`.
    public var limits: SandboxLimits = {
        // The wall limit comes first (the CPU limit is a backstop), so that an
        // endless loop is asked where it is before it is stopped.
        var limits = SandboxLimits(wallSeconds: 10, cpuSeconds: 30, memoryBytes: 2 << 30)
        limits.stackWhenStopped = true
        return limits
    }()
    /// Test processes at once.
    public var parallelism = 2
    /// The `swift` command.
    public var swift = "swift"
    /// A build that prints nothing for this long is stopped (a hang is a bug).
    public var buildStallSeconds: Double = 900

    /// Defaults.
    public init() {}
}

/// One exercise's run: its results and what they mean.
public struct ExerciseRun: Sendable {
    /// The exercise.
    public var exercise: StudentExercise
    /// One result per visible test, in the tests' order.
    public var results: [RunnerResult]

    /// Done, failing, or not started: its tests stop at a stub's "not done
    /// yet" — its own, or an earlier exercise's that it cannot run without.
    public var status: ExerciseStatus {
        if !results.isEmpty && results.allSatisfy({ $0.verdict == .passed }) { return .done }
        let stub = try! Regex(#"Exercise [0-9]+\.[0-9]+ is not done yet"#)
        if !results.isEmpty, results.allSatisfy({
            $0.verdict == .passed || $0.message.contains(stub) || $0.output.contains(stub)
        }) {
            return .notStarted
        }
        return .failing
    }
}

extension StudentCourse {
    // MARK: - Building

    /// The test binary SwiftPM builds: `.build/debug/<Package>PackageTests.xctest`.
    public var testBinary: URL? {
        let folder = root.appendingPathComponent(".build/debug")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.first { $0.hasSuffix("PackageTests.xctest") }.map { folder.appendingPathComponent($0) }
    }

    /// Builds the package and its tests. `progress` receives `(done, total)`
    /// as SwiftPM reports its steps.
    public func build(options: StudentRunOptions = StudentRunOptions(),
                      progress: @escaping (Int, Int) -> Void = { _, _ in }) throws -> StudentBuild {
        let started = Date()
        let run = try runStreaming("/usr/bin/env", [options.swift, "build", "--build-tests"],
                                   directory: root, stallSeconds: options.buildStallSeconds) { line in
            // "[12/345] Compiling Kindling Tensor.swift"
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return }
            let parts = line[line.index(after: line.startIndex)..<close].split(separator: "/")
            if parts.count == 2, let done = Int(parts[0]), let total = Int(parts[1]) { progress(done, total) }
        }
        let errors = run.status == 0 ? [] : compilerErrorLines(run.output, root: root.path)
        return StudentBuild(succeeded: run.status == 0 && !run.timedOut, errors: errors, log: run.output,
                            seconds: Date().timeIntervalSince(started), timedOut: run.timedOut)
    }

    // MARK: - Running

    /// The visible tests in `binary`, by exercise, in the order the lesson's
    /// test file declares them. A lesson's milestone (a suite that is not an
    /// exercise's, such as `TinyNeuron`) needs every exercise of the lesson:
    /// its tests count as the last exercise's, after that exercise's own.
    public func visibleTests(in binary: URL) throws -> [ExerciseID: [String]] {
        let listing = try runStreaming(binary.path, ["--testing-library", "swift-testing", "--list-tests"],
                                       directory: root, stallSeconds: 60) { _ in }
        guard listing.status == 0 else {
            throw GraderError.message("could not list the tests of \(binary.path):\n\(listing.output.suffix(2000))")
        }
        var tests: [ExerciseID: [String]] = [:]
        var milestones: [Int: [String]] = [:]
        for line in listing.output.components(separatedBy: "\n") {
            let name = line.trimmingCharacters(in: .whitespaces)
            if let test = GradedTest.parse(name) {
                if test.visible { tests[test.exercise, default: []].append(name) }
            } else if let lesson = lessonOfVisibleTest(name) {
                milestones[lesson, default: []].append(name)
            }
        }
        for (lesson, names) in milestones {
            guard let last = tests.keys.filter({ $0.lesson == lesson }).max() else { continue }
            tests[last, default: []] += names
        }
        // The binary lists them by name; the learner reads them in the file's order.
        for (exercise, names) in tests {
            let file = root.appendingPathComponent(String(format: "Tests/LessonTests/Lesson%02dTests.swift", exercise.lesson))
            let source = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            tests[exercise] = names.sorted { sourcePosition(of: $0, in: source) < sourcePosition(of: $1, in: source) }
        }
        return tests
    }

    /// Runs `tests` (of one exercise), each alone in its own process, as the
    /// learner (no other user, no namespaces: it is their machine).
    public func run(_ exercise: StudentExercise, tests: [String], binary: URL,
                    options: StudentRunOptions = StudentRunOptions()) -> ExerciseRun {
        guard !tests.isEmpty else {
            let missing = RunnerResult(testID: "Exercise_\(exercise.id.lesson)_\(exercise.id.number)", verdict: .notRun,
                                       message: "No visible test of exercise \(exercise.id) is in the test binary.",
                                       output: "", seconds: 0)
            return ExerciseRun(exercise: exercise, results: [missing])
        }
        // A milestone trains a model: it may take longer than one exercise's test.
        let own = tests.filter { GradedTest.parse($0) != nil }, milestone = tests.filter { GradedTest.parse($0) == nil }
        var milestoneLimits = options.limits
        milestoneLimits.wallSeconds *= 6
        milestoneLimits.cpuSeconds *= 6
        var results = runTests(binary: binary.path, testIDs: own, limits: options.limits,
                               parallelism: options.parallelism, users: [], retryWallTimeouts: false,
                               isolation: .none)
        if !milestone.isEmpty {
            results += runTests(binary: binary.path, testIDs: milestone, limits: milestoneLimits,
                                parallelism: options.parallelism, users: [], retryWallTimeouts: false,
                                isolation: .none)
        }
        return ExerciseRun(exercise: exercise, results: results)
    }
}

// MARK: - Saying it calmly

/// A test's name as a learner reads it: `LessonTests.Lesson01/Exercise_1_1/mixesWithPlainNumbers()`
/// → "mixes with plain numbers".
public func readableTestName(_ id: String) -> String {
    // A lesson's milestone: "milestone: loss falls".
    let milestone = lessonOfVisibleTest(id) != nil && GradedTest.parse(id) == nil
    var name = String(id.split(separator: "/").last ?? Substring(id))
    if let paren = name.firstIndex(of: "(") { name = String(name[..<paren]) }
    var words = ""
    for character in name {
        if character.isUppercase, !words.isEmpty, words.last != " " { words.append(" ") }
        words.append(character == "_" ? " " : Character(character.lowercased()))
    }
    return milestone ? "milestone: " + words : words
}

/// The lesson of a visible test `LessonTests.Lesson01/Suite/test()`, from its suite.
func lessonOfVisibleTest(_ id: String) -> Int? {
    guard id.hasPrefix("LessonTests.Lesson"), id.contains("/") else { return nil }
    return Int(id.dropFirst("LessonTests.Lesson".count).prefix { $0.isNumber })
}

/// What one test's result says, for a learner: a line with ✓ or ✗ and the
/// test's name, then (when it did not pass) why, indented — the failed
/// expectations with their lines, a crash's last words and the learner's
/// own file:line (no registers, no backtrace), a loop that was stopped.
public func describe(_ result: RunnerResult, root: String) -> [String] {
    let name = readableTestName(result.testID)
    if result.verdict == .passed { return ["  ✓ \(name)"] }
    var lines: [String]
    var detail: [String] = []
    switch result.verdict {
    case .timedOut:
        lines = ["  ✗ \(name) — still running after \(formatSeconds(result.seconds.rounded())), so it was stopped"]
        detail = ["Is there a loop that never ends (an index that is never advanced, a `while` whose condition stays true)?"]
        // "It was stopped in Toy.countdown(_:) at /…/Toy.swift:36:9"
        if let line = result.message.components(separatedBy: "\n").first(where: { $0.hasPrefix("It was stopped in ") }),
           let at = line.range(of: " at ", options: .backwards) {
            detail.append("It was stopped at " + line[at.upperBound...] + " (in " + line.dropFirst("It was stopped in ".count).prefix(upTo: at.lowerBound) + ")")
        }
    case .outOfMemory:
        lines = ["  ✗ \(name) — ran out of memory"]
        detail = ["It used more memory than it may: is something growing without end?"]
    case .crashed:
        lines = ["  ✗ \(name) — crashed"]
        detail = crashLines(result.message)
    case .failed:
        lines = ["  ✗ \(name)"]
        // Swift Testing's diff of two arrays ("inserted [2.0], removed [2.0]") reads as
        // nonsense when only the order differs; the expectation line shows both arrays.
        detail = result.message.components(separatedBy: "\n").filter {
            $0.range(of: #"^\s*(inserted \[.*\])?(, )?(removed \[.*\])?$"#, options: .regularExpression) == nil
                || $0.trimmingCharacters(in: .whitespaces).isEmpty
        }
    case .notRun:
        lines = ["  ✗ \(name) — did not run"]
        detail = result.message.components(separatedBy: "\n")
    case .passed:
        lines = []
    }
    let output = result.output.components(separatedBy: "\n")
        .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && $0 != backtraceMarker }
    if !output.isEmpty {
        detail.append("It printed:")
        detail += output.prefix(8).map { "  " + $0 }
        if output.count > 8 { detail.append("  … (\(output.count - 8) more lines)") }
    }
    return lines + detail.map { "      " + shortenPaths($0, root: root) }
}

/// A crash message without what a learner cannot use: the generic meaning of
/// SIGILL when the runtime's own "Fatal error" line says more.
func crashLines(_ message: String) -> [String] {
    var lines = message.components(separatedBy: "\n")
    guard let first = lines.first else { return [] }
    let rest = Array(lines.dropFirst())
    if first.hasPrefix("Crashed: SIGILL") || first.hasPrefix("Crashed: SIGTRAP"),
       rest.contains(where: { $0.contains("Fatal error") || $0.contains("Swift runtime failure") || $0.contains("failed") }) {
        lines = rest
    } else if first.hasPrefix("Crashed: ") {
        lines[0] = String(first.dropFirst("Crashed: ".count))
    }
    // "in Tensor.sum() at /…/Exercises/Kindling/Ops/Reduce.swift:10:5" → "at …:10:5 (in Tensor.sum())":
    // where to look first, then what was running.
    return lines.map { line in
        guard line.hasPrefix("in "), let at = line.range(of: " at ", options: .backwards) else { return line }
        return "at " + line[at.upperBound...] + " (in " + line[line.index(line.startIndex, offsetBy: 3)..<at.lowerBound] + ")"
    }
}

/// Absolute paths under `root` made relative; the test files' module-relative
/// locations (`LessonTests/Lesson01Tests.swift:27:13`) made repository-relative.
func shortenPaths(_ line: String, root: String) -> String {
    var text = line.replacingOccurrences(of: root.hasSuffix("/") ? root : root + "/", with: "")
    if text.hasPrefix("LessonTests/") { text = "Tests/" + text }
    return text
}

/// The compiler's errors from a build log, each with the source line and
/// caret that follow it; warnings and notes left out. Paths relative to `root`.
func compilerErrorLines(_ log: String, root: String) -> [String] {
    var errors: [String] = []
    let lines = log.components(separatedBy: "\n")
    var seen = Set<String>()
    var index = 0
    while index < lines.count {
        let line = lines[index]
        if line.contains(": error: ") && !seen.contains(line) {
            seen.insert(line)
            var block = [shortenPaths(line, root: root)]
            // The source line and its caret, when the compiler printed them.
            var next = index + 1
            while next < lines.count, next <= index + 8, !lines[next].contains(": error: "),
                  !lines[next].contains(": warning: "), !lines[next].contains(": note: "),
                  !lines[next].hasPrefix("["), !lines[next].trimmingCharacters(in: .whitespaces).isEmpty {
                block.append(lines[next])
                next += 1
            }
            errors.append(block.joined(separator: "\n"))
            index = next
            continue
        }
        index += 1
    }
    if errors.isEmpty, let last = lines.last(where: { $0.contains("error:") }) { errors = [shortenPaths(last, root: root)] }
    return errors
}

/// Where test `id` (`LessonTests.Lesson01/Exercise_1_1/mixes()`) is declared:
/// the offset of its `func` after its suite's `struct` (the end if not found).
func sourcePosition(of id: String, in sources: String) -> Int {
    let parts = id.split(separator: "/")
    guard parts.count >= 2, let suite = parts.dropLast().last, let function = parts.last?.split(separator: "(").first,
          let suiteStart = sources.range(of: "struct \(suite) ")?.upperBound,
          let found = sources.range(of: "func \(function)(", range: suiteStart..<sources.endIndex)
    else { return Int.max }
    return sources.distance(from: sources.startIndex, to: found.lowerBound)
}

// MARK: - A child process, its output read as it comes

/// Runs a program to its end, its output (stdout and stderr together) going
/// to a file that is read as it grows: each complete line goes to `onLine`.
/// The program and everything it started are killed when it prints nothing
/// for `stallSeconds`.
func runStreaming(_ executable: String, _ arguments: [String], directory: URL, stallSeconds: Double,
                  onLine: (String) -> Void) throws -> (status: Int32, output: String, timedOut: Bool) {
    guard let folder = sandboxTemporaryDirectory(prefix: "kindling-course") else {
        throw GraderError.message("cannot create a temporary folder: \(String(cString: strerror(errno)))")
    }
    defer { sandboxRemoveTree(folder) }
    let path = folder + "/output"
    guard FileManager.default.createFile(atPath: path, contents: nil),
          let writer = FileHandle(forWritingAtPath: path), let reader = FileHandle(forReadingAtPath: path) else {
        throw GraderError.message("cannot create \(path)")
    }
    defer { try? writer.close(); try? reader.close() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.standardOutput = writer
    process.standardError = writer
    process.standardInput = FileHandle.nullDevice
    try process.run()
    var all = Data(), pending = Data()
    var lastOutput = Date()
    var timedOut = false
    func readNew() {
        // A regular file hands out at most a buffer's worth per read: read to its current end.
        while true {
            let chunk = reader.availableData
            guard !chunk.isEmpty else { return }
            take(chunk)
        }
    }
    func take(_ chunk: Data) {
        lastOutput = Date()
        all.append(chunk)
        pending.append(chunk)
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            onLine(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
            pending = Data(pending[pending.index(after: newline)...])
        }
    }
    while process.isRunning {
        readNew()
        if Date().timeIntervalSince(lastOutput) > stallSeconds {
            timedOut = true
            killTree(process.processIdentifier)
            break
        }
        usleep(50_000)
    }
    process.waitUntilExit()
    readNew()
    if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
    return (timedOut ? -1 : process.terminationStatus, String(decoding: all, as: UTF8.self), timedOut)
}
