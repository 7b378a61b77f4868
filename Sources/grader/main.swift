import ArgumentParser
import Foundation
import GraderKit

/// `grader`: the course machinery — generate the workspace and answer key,
/// and (in later subcommands) grade submissions.
@main
struct GraderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grader",
        abstract: "Kindling's course tools: grade submissions, check the course, make the student release.",
        discussion: """
        Exit codes of `grader grade`: 0 full marks; 1 points lost; 2 usage error; 3 the submission \
        could not be read; 4 the grader itself failed (the report says why); 5 the report could not be written.
        """,
        subcommands: [Grade.self, Verify.self, Slips.self, Sync.self, Apply.self, Release.self, GradescopeBundle.self]
    )
}

/// Finds the repository root: the given folder, or the nearest folder upward
/// from the current one that holds Sources/Kindling.
func courseRoot(_ given: String?) throws -> Course {
    if let given { return Course(root: URL(fileURLWithPath: given)) }
    var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    while dir.path != "/" {
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Sources/Kindling").path) {
            return Course(root: dir)
        }
        dir.deleteLastPathComponent()
    }
    throw ValidationError("no Sources/Kindling found here or above; pass --root")
}

/// `grader sync`: regenerate Exercises/ and Solutions/ from the reference.
struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Regenerate Exercises/ and Solutions/ from the exercise regions in Sources/Kindling.")

    @Flag(help: "Change nothing; fail (exit 1) listing the files that are out of date.")
    var check = false

    @OptionGroup var root: CourseOption

    func run() throws {
        let course = try root.course()
        do {
            if check {
                let stale = try course.staleFiles()
                guard stale.isEmpty else {
                    print("Out of date (run `swift run grader sync`):")
                    stale.forEach { print("  \($0)") }
                    throw ExitCode.failure
                }
                print("Exercises/ and Solutions/ are up to date.")
            } else {
                let changed = try course.sync()
                print(changed.isEmpty ? "Already up to date." : "Updated \(changed.count) files:\n" + changed.map { "  \($0)" }.joined(separator: "\n"))
            }
        } catch let error as GraderError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// Options shared by the commands that build and run tests.
struct RunOptions: ParsableArguments {
    @Option(help: "Tests run at the same time (default: 2).")
    var jobs: Int = 2

    @Option(help: "CPU seconds each test may use; the wall-clock limit is three times this.")
    var timeout: Int = 10

    @Option(help: "Address-space limit per test, in MiB.")
    var memory: Int = 1024

    @Option(help: "The private build folder (default: .build-grader/work in the course root). Keep it for warm builds.")
    var workspace: String?

    @Option(help: "Seconds a build may take; past it, the submitted region that makes it slow is found and graded as its stub.")
    var buildTimeout: Int = 900

    @Option(help: "CPU seconds each compiler job may use; a region the compiler chokes on is graded as its stub.")
    var compileCPU: Int = 600
}

extension RunOptions {
    /// A grader for `course` with the sandboxed test runner, the limits and
    /// the workspace these options ask for; progress lines go to standard error.
    func grader(for course: Course) -> Grader {
        let limits = SandboxLimits(wallSeconds: Double(timeout * 3), cpuSeconds: timeout, memoryBytes: memory << 20)
        return Grader(course: course,
                      workspace: workspace.map { Workspace(course: course, directory: URL(fileURLWithPath: $0)) },
                      execute: sandboxedTestExecutor(limits: limits, parallelism: max(1, jobs)),
                      progress: stderrProgress, buildSeconds: Double(buildTimeout),
                      compileCPUSeconds: compileCPU)
    }
}

/// The `--root` option every command shares.
struct CourseOption: ParsableArguments {
    @Option(help: "The course repository root (default: found from the current folder).")
    var root: String?

    /// The course at `--root`, or found from the current folder.
    func course() throws -> Course { try courseRoot(root) }
}

/// Progress lines on standard error.
let stderrProgress: ProgressReporter = { line in
    FileHandle.standardError.write(Data("grader: \(line)\n".utf8))
}

/// `grader grade SUBMISSION`.
struct Grade: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Grade a submission: a workspace or any folder of files holding exercise regions.",
        discussion: "Only exercise regions are graded; everything else is ignored and listed in the report.")

    @Argument(help: "The submission: e.g. Exercises, a student's repository, or Solutions.")
    var submission: String

    @Option(help: "Grade one lesson only.")
    var lesson: Int?

    @Option(help: "Report format: text, json, gradescope or junit.")
    var format: String = "text"

    @Option(help: "Write the report here (atomically) instead of standard output.")
    var out: String?

    @OptionGroup var root: CourseOption

    @OptionGroup var limits: RunOptions

    func validate() throws {
        guard ReportFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be one of: " + ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

    func run() throws {
        let format = ReportFormat(rawValue: self.format)!
        var report = GradeReport(submission: submission)
        var code: GraderExitCode?
        do {
            let course = try root.course()
            let grader = limits.grader(for: course)
            report = try grader.grade(URL(fileURLWithPath: submission), lesson: lesson)
        } catch let error as GraderError where error.description.hasPrefix("submission not found") {
            report.error = error.description
            code = .submissionUnreadable
        } catch {
            report.error = "\(error)"
            code = .internalError
        }
        do {
            let written = try writeReport(report, format: format, to: out,
                                          useColor: out == nil && standardOutputSupportsColor())
            throw ExitCode((code ?? written).rawValue)
        } catch let error as ReportWriteError {
            FileHandle.standardError.write(Data("grader: \(error)\n".utf8))
            throw ExitCode(GraderExitCode.reportNotWritten.rawValue)
        }
    }
}

/// `grader verify`.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the course: in sync, every test passes on the reference, every exercise's tests fail on its stub.")

    @OptionGroup var root: CourseOption

    @OptionGroup var limits: RunOptions

    func run() throws {
        let course = try root.course()
        let grader = limits.grader(for: course)
        let result = try grader.verify()
        result.lines.forEach { print($0) }
        if !result.passed {
            print("\nProblems:")
            result.problems.forEach { print("  ✘ \($0)") }
            throw ExitCode.failure
        }
        print("The course is sound.")
    }
}

/// `grader slips`: what a learner reads after each catalogued mistake.
struct Slips: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make each mistake of Tests/Slips/slips.json and show what the visible tests tell the learner.",
        discussion: "One block per slip: its id, the lesson's warning, and the first lines of the failing test's message.")

    @Option(help: "Only the slips of this exercise (e.g. 3.1) or lesson (e.g. 3).")
    var only: String?

    @Option(help: "Lines of each failing message to show.")
    var lines: Int = 4

    @OptionGroup var root: CourseOption

    @OptionGroup var limits: RunOptions

    func run() throws {
        let course = try root.course()
        let grader = limits.grader(for: course)
        let outcomes: [SlipOutcome]
        do {
            outcomes = try grader.slipOutcomes { slip in
                only.map { slip.exercise == $0 || slip.exercise.hasPrefix($0 + ".") } ?? true
            }
        } catch let error as GraderError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        var pointing = 0
        for outcome in outcomes {
            let slip = outcome.slip
            let verdict: String
            if let problem = outcome.problem { verdict = "✘ " + problem }
            else if outcome.failing.isEmpty { verdict = "✘ no visible test fails" }
            else if !slip.mustPointAtFix { verdict = "· fails; its message cannot name it" }
            else if outcome.naming != nil { verdict = "✔ names “\(slip.expect)”"; pointing += 1 }
            else { verdict = "✘ does not say “\(slip.expect)”" }
            print("\(slip.id)  [\(slip.exercise)]  \(verdict)")
            print("  lesson: " + (slip.lesson.isEmpty ? "(no warning)" : slip.lesson))
            for line in outcome.message.split(separator: "\n", omittingEmptySubsequences: true).prefix(lines) {
                print("  │ " + line.prefix(240))
            }
            print("")
        }
        if !outcomes.isEmpty {
            print("\(pointing) of \(outcomes.count) slips point at the fix (\(Int((Double(pointing) / Double(outcomes.count) * 100).rounded())) %).")
        }
    }
}

/// `grader release OUT`.
struct Release: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the student repository: exercises, lessons, visible tests and tools; no solutions, no hidden tests.")

    @Argument(help: "A new (or empty) folder.")
    var output: String

    @OptionGroup var root: CourseOption

    func run() throws {
        let course = try root.course()
        let written = try course.release(to: URL(fileURLWithPath: output))
        print("Wrote \(written.count) files to \(output). Students run `swift run course` there (README.md).")
    }
}

/// `grader gradescope OUT`.
struct GradescopeBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradescope",
        abstract: "Write a Gradescope autograder bundle (setup.sh + run_autograder + the course) to a folder.")

    @Argument(help: "A new (or empty) folder; zip its contents and upload them as the autograder.")
    var output: String

    @OptionGroup var root: CourseOption

    func run() throws {
        let course = try root.course()
        let written = try course.gradescopeBundle(to: URL(fileURLWithPath: output))
        print("Wrote \(written.count) files to \(output). Upload a zip of its contents as the Gradescope autograder.")
    }
}

/// `grader apply SUBMISSION --to DIR`.
struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a workspace with a submission's exercise regions filled in (stubs elsewhere).",
        discussion: "E.g. `grader apply Solutions --to .build-payoff/Kindling`, then `KINDLING_WORKSPACE=.build-payoff/Kindling swift run kindling train`.")

    @Argument(help: "The submission (e.g. Solutions).")
    var submission: String

    @Option(help: "The folder to write (a Kindling source tree).")
    var to: String

    @OptionGroup var root: CourseOption

    func run() throws {
        let course = try root.course()
        let (regions, _) = try course.referenceRegions()
        let found = try collectSubmission(at: URL(fileURLWithPath: submission), exercises: Set(regions.map(\.id)))
        let applied = try course.apply(found, to: URL(fileURLWithPath: to))
        let missing = Set(regions.map(\.id)).subtracting(applied).sorted()
        print("Filled \(applied.count) of \(regions.count) exercises into \(to)"
              + (missing.isEmpty ? "." : "; still stubs: \(missing.map(\.description).joined(separator: ", "))."))
    }
}
