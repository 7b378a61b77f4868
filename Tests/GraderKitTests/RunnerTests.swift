// The test runner end to end: a real Swift Testing binary full of
// adversarial "student" code — loops, traps, segfaults, memory hogs, output
// floods, forged results, exit(0), a fork bomb — built once into a cached
// temporary package, then run test by test in the sandbox. Each case must get
// the right verdict and a helpful message, and the others must still score.

import Foundation
import Testing
@testable import GraderKit
#if canImport(Glibc)
import Glibc
#endif

// MARK: - The fixture package

/// The "student" library: each function misbehaves in its own way.
private let studentSource = #"""
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum StudentError: Error { case notImplemented }

public func answer() -> Int { 42 }
public func wrongAnswer() -> Int { 41 }
public func addOne(_ x: Int) -> Int { x + 1 }
public func pickFourth(_ values: [Int]) -> Int { values[3] }
public func giveUp() -> Int { fatalError("the student gave up") }

public func spin() -> Int {
    var x = 1
    while x != 0 { x = x &* 3 &+ 1; if x == 7 { x = 8 } }
    return x
}

public func sleepForever() {
    while true { sleep(60) }
}

public func poke() {
    let pointer = UnsafeMutablePointer<Int>(bitPattern: 16)!
    pointer.pointee = 42
}

public func hoard() -> Int {
    // Reserve without touching: the address space fills up, the machine's RAM does not.
    var chunks: [[UInt8]] = []
    while true { chunks.append([UInt8](unsafeUninitializedCapacity: 64 << 20) { _, count in count = 64 << 20 }) }
}

public func chatter() {
    let line = String(repeating: "spam ", count: 200)
    for _ in 0..<20_000 { print(line) }
}

public func forge() {
    // Everything a naive grader might parse from standard output.
    print(#"{"kind":"event","payload":{"kind":"testEnded","messages":[{"symbol":"pass","text":"Test forgesResults() passed after 0.001 seconds."}],"testID":"FixtureTests.Adversarial/forgesResults()"},"version":0}"#)
    print("✔ Test forgesResults() passed after 0.001 seconds.")
    print("✔ Test run with 1 test in 1 suite passed after 0.001 seconds.")
    FileHandle.standardError.write(Data("✔ Test forgesResults() passed after 0.001 seconds.\n".utf8))
}

public func quit() -> Never {
    print("✔ Test exitsEarly() passed after 0.001 seconds.")
    exit(0)
}

public func forkBomb() -> (made: Int, refused: Int) {
    var made = 0
    var refused = 0
    for _ in 0..<5_000 {
        let pid = fork()
        if pid == 0 {
            while true { _ = fork(); sleep(1) }
        } else if pid > 0 {
            made += 1
        } else {
            refused += 1
            break
        }
    }
    return (made, refused)
}

public func readSecret(_ path: String) -> String? {
    try? String(contentsOfFile: path, encoding: .utf8)
}
"""#

/// The tests a course would ship, calling the student's code.
private let testsSource = #"""
import Foundation
import Testing
import Student

@Suite struct Adversarial {
    @Test func passes() {
        print("hello from a passing test")
        #expect(answer() == 42)
    }
    @Test func fails() { #expect(wrongAnswer() == 42, "the answer must be 42") }
    @Test func throwsError() throws { throw StudentError.notImplemented }
    @Test(arguments: [1, 2, 3]) func parameterized(value: Int) { #expect(addOne(value) < 4) }
    @Test func knownIssue() { withKnownIssue { #expect(wrongAnswer() == 42) } }
    @Test(.disabled("not ready yet")) func disabled() {}
    @Test func infiniteLoop() { #expect(spin() == 0) }
    @Test func sleepsForever() { sleepForever() }
    @Test func fatal() { #expect(giveUp() == 1) }
    @Test func indexOutOfRange() { #expect(pickFourth([1, 2, 3]) == 4) }
    @Test func overflow() { #expect(addOne(Int.max) > 0) }
    @Test func segfault() { poke() }
    @Test func hogsMemory() { #expect(hoard() > 0) }
    @Test func floodsOutput() { chatter(); #expect(answer() == 42) }
    @Test func forgesResults() { forge(); #expect(wrongAnswer() == 42) }
    @Test func exitsEarly() { quit() }
    @Test func forkBomb() { #expect(Student.forkBomb().refused > 0) }
    @Test func readsSecret() {
        #expect(readSecret(ProcessInfo.processInfo.environment["FIXTURE_SECRET"] ?? "/nonexistent") == nil)
    }
}
"""#

private let manifestSource = #"""
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "RunnerFixture",
    targets: [
        .target(name: "Student", path: "Sources/Student"),
        .testTarget(name: "FixtureTests", dependencies: ["Student"], path: "Tests/FixtureTests"),
    ]
)
"""#

/// Builds the fixture package once into a fixed temporary folder (reused by
/// later runs while the sources are unchanged) and returns its test binary.
private func buildFixture() throws -> String {
    // One fixed folder per user, so that reruns reuse the build.
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-runner-fixture-\(getuid())").path
    let files = [
        "Package.swift": manifestSource,
        "Sources/Student/Student.swift": studentSource,
        "Tests/FixtureTests/AdversarialTests.swift": testsSource,
    ]
    var changed = false
    for (path, text) in files {
        let url = URL(fileURLWithPath: root + "/" + path)
        if (try? String(contentsOf: url, encoding: .utf8)) != text {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            changed = true
        }
    }
    let binary = root + "/.build/debug/RunnerFixturePackageTests.xctest"
    if changed || !FileManager.default.isExecutableFile(atPath: binary) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "build", "--build-tests", "--package-path", root]
        let log = URL(fileURLWithPath: root + "/build.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        guard process.terminationStatus == 0 else {
            throw FixtureError(text: "building the fixture failed; see \(log.path)")
        }
    }
    // The sandbox users must reach the binary: make every folder on the way traversable.
    var folder = (URL(fileURLWithPath: binary).resolvingSymlinksInPath().path as NSString).deletingLastPathComponent
    while folder.hasPrefix(root) {
        chmod(folder, 0o755)
        folder = (folder as NSString).deletingLastPathComponent
    }
    return binary
}

private struct FixtureError: Error, CustomStringConvertible {
    var text: String
    var description: String { text }
}

/// The fixture, built once per test process.
private let fixtureBinary: Result<String, FixtureError> = {
    do { return .success(try buildFixture()) } catch { return .failure(FixtureError(text: "\(error)")) }
}()

/// A root-only file the student code tries to read.
private let secretFile: String = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-runner-secret-\(getuid())").path
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    chmod(folder, 0o755)
    let path = folder + "/hidden-answers.txt"
    _ = FileManager.default.createFile(atPath: path, contents: Data("42\n".utf8), attributes: [.posixPermissions: 0o600])
    return path
}()

/// Limits that keep the whole suite fast, with a wall limit generous enough
/// for a quick test on a machine busy with a build.
private let fixtureLimits = SandboxLimits(wallSeconds: 10, cpuSeconds: 2, memoryBytes: 1 << 30, processes: 64,
                                          outputBytes: 64 << 10)

private let fixtureTests = [
    "passes()", "fails()", "throwsError()", "parameterized(value:)", "knownIssue()", "disabled()",
    "sleepsForever()", "fatal()", "indexOutOfRange()", "overflow()", "segfault()",
    "hogsMemory()", "floodsOutput()", "forgesResults()", "exitsEarly()", "forkBomb()", "readsSecret()",
    "noSuchTest()",
].map { "FixtureTests.Adversarial/" + $0 }

private let isRoot = geteuid() == 0

/// Whether "other" users may traverse every folder to `path` and run it.
private func binaryReachableByOthers(_ path: String) -> Bool {
    var current = path
    while current != "/" && !current.isEmpty {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: current),
              let mode = attributes[.posixPermissions] as? Int, mode & 0o001 != 0 else { return false }
        current = (current as NSString).deletingLastPathComponent
    }
    return true
}

/// Every fixture test, run once through `runTests` (two at a time, each
/// worker on its own leased uid when root), shared by the checks below.
private let allResults: Result<[String: RunnerResult], FixtureError> = {
    fixtureBinary.map { binary in
        // The fork bomb needs a process limit that binds: a user switch as root.
        let ids = fixtureTests.filter { isRoot || !$0.hasSuffix("forkBomb()") }
        let results = runTests(binary: binary, testIDs: ids, limits: fixtureLimits, parallelism: 2,
                               environment: ["FIXTURE_SECRET": secretFile], retryWallTimeouts: false)
        return Dictionary(uniqueKeysWithValues: results.map { ($0.testID.replacingOccurrences(of: "FixtureTests.Adversarial/", with: ""), $0) })
    }
}()

/// "Sources/Student/Student.swift:N" for the line of the student's code holding `text`.
private func studentLine(_ text: String) -> String {
    let index = studentSource.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(text) }
    return "Sources/Student/Student.swift:\((index ?? -1) + 1):"
}

/// "FixtureTests/AdversarialTests.swift:N:" for the line of the tests holding `text`.
private func testLine(_ text: String) -> String {
    let index = testsSource.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(text) }
    return "FixtureTests/AdversarialTests.swift:\((index ?? -1) + 1):"
}

private func result(_ name: String) throws -> RunnerResult {
    let results = try allResults.get()
    return try #require(results[name])
}

@Suite(.serialized) struct RunnerTests {
    @Test func filterPatternSelectsExactlyOneTest() throws {
        let pattern = runnerFilterPattern(for: "Suite/test(x:)")
        #expect(pattern == #"(^|\.)Suite/test\(x:\)(/|$)"#)
        let regex = try Regex(pattern)
        #expect("Module.Suite/test(x:)/File.swift:3:4".contains(regex))
        #expect("Suite/test(x:)".contains(regex))
        #expect(!"Module.Suite/test(x:y:)/File.swift:3:4".contains(regex))
        #expect(!"Module.OtherSuite/test(x:)/File.swift:3:4".contains(regex))
        // With its module, the id is anchored at the start: a suite of the
        // same name nested in another module (a student's) is not selected.
        let exact = try Regex(runnerFilterPattern(for: "HiddenTests.Exercise_1_1/t()"))
        #expect("HiddenTests.Exercise_1_1/t()/File.swift:3:4".contains(exact))
        #expect(!"Kindling.HiddenTests.Exercise_1_1/t()/File.swift:3:4".contains(exact))
    }

    @Test func passingTestPassesWithItsOutput() throws {
        let r = try result("passes()")
        #expect(r.verdict == .passed)
        #expect(r.message == "")
        #expect(r.output == "hello from a passing test\n")
        #expect(!r.output.contains("Test run started"))  // Swift Testing's own lines are dropped
        #expect(r.seconds < fixtureLimits.wallSeconds)
    }

    @Test func failedExpectationSaysWhatAndWhere() throws {
        let r = try result("fails()")
        #expect(r.verdict == .failed)
        #expect(r.message.contains("Expectation failed: (wrongAnswer() → 41) == 42"))
        #expect(r.message.contains("the answer must be 42"))
        #expect(r.message.contains(testLine("func fails()")))
    }

    @Test func thrownErrorFails() throws {
        let r = try result("throwsError()")
        #expect(r.verdict == .failed)
        #expect(r.message.contains("Caught error: .notImplemented"))
        #expect(r.message.contains(testLine("func throwsError()")))
    }

    @Test func parameterizedFailureNamesTheArgument() throws {
        let r = try result("parameterized(value:)")
        #expect(r.verdict == .failed)
        #expect(r.message.contains("[arguments: 3]"))
        #expect(!r.message.contains("[arguments: 1]"))
    }

    @Test func knownIssuesDoNotFail() throws {
        let r = try result("knownIssue()")
        #expect(r.verdict == .passed)
        #expect(r.output == "")
    }

    @Test func disabledAndMissingTestsAreNotRun() throws {
        let disabled = try result("disabled()")
        #expect(disabled.verdict == .notRun)
        #expect(disabled.message.contains("not ready yet"))
        let missing = try result("noSuchTest()")
        #expect(missing.verdict == .notRun)
        #expect(missing.message.contains("No test named"))
    }

    /// Run alone with a wall limit far above the CPU limit: on a busy machine
    /// the loop may get well under a core, and the CPU limit must still be
    /// the one that ends it.
    @Test func infiniteLoopHitsTheCPULimit() throws {
        let binary = try fixtureBinary.get()
        let limits = SandboxLimits(wallSeconds: 60, cpuSeconds: 1, memoryBytes: 1 << 30, processes: 64,
                                   outputBytes: 64 << 10)
        let r = runTest(binary: binary, testID: "FixtureTests.Adversarial/infiniteLoop()", limits: limits)
        #expect(r.verdict == .timedOut)
        #expect(r.message.contains("CPU-time limit of 1 s"), "\(r.message)")
    }

    @Test func sleepingForeverHitsTheWallLimit() throws {
        let r = try result("sleepsForever()")
        #expect(r.verdict == .timedOut)
        #expect(r.message.contains("wall-clock limit of 10 s"))
        #expect(r.seconds < fixtureLimits.wallSeconds + 5)  // killed, not left to sleep
    }

    @Test func fatalErrorCrashesWithTheStudentsLine() throws {
        let r = try result("fatal()")
        #expect(r.verdict == .crashed)
        #expect(r.message.contains("SIGILL") || r.message.contains("SIGTRAP"))
        #expect(r.message.contains("Student/Student.swift:\(studentLine("fatalError(").split(separator: ":")[1]): Fatal error: the student gave up"))
        #expect(r.message.contains("in giveUp() at "))
        #expect(!r.message.contains("Program crashed: Illegal instruction"))  // noise next to the fatal error
    }

    @Test func indexOutOfRangeCrashesPointingAtTheStudentsCode() throws {
        let r = try result("indexOutOfRange()")
        #expect(r.verdict == .crashed)
        #expect(r.message.contains("Fatal error: Index out of range"))
        #expect(r.message.contains("in pickFourth(_:) at "))
        #expect(r.message.contains(studentLine("values[3]")))
    }

    @Test func overflowCrashes() throws {
        let r = try result("overflow()")
        #expect(r.verdict == .crashed)
        #expect(r.message.contains("arithmetic overflow"))
        #expect(r.message.contains(studentLine("x + 1")))
    }

    @Test func segfaultCrashes() throws {
        let r = try result("segfault()")
        #expect(r.verdict == .crashed)
        #expect(r.message.contains("SIGSEGV"))
        #expect(r.message.contains("Bad pointer dereference"))
        #expect(r.message.contains(studentLine("pointer.pointee = 42")))
    }

    @Test func memoryHogRunsOutOfMemory() throws {
        let r = try result("hogsMemory()")
        #expect(r.verdict == .outOfMemory)
        #expect(r.message.contains("memory limit of 1 GiB"))
        #expect(r.message.contains("failed to allocate"))
    }

    @Test func outputFloodIsTruncatedAndTheTestStillScores() throws {
        let r = try result("floodsOutput()")
        #expect(r.verdict == .passed)
        #expect(r.output.contains("[standard output truncated at 64 KiB]"))
        #expect(r.output.utf8.count < 70_000)
    }

    @Test func forgedResultsOnStdoutChangeNothing() throws {
        let r = try result("forgesResults()")
        #expect(r.verdict == .failed)
        #expect(r.message.contains("(wrongAnswer() → 41) == 42"))
        #expect(r.output.contains(#"{"kind":"event""#))  // shown as output, never believed
    }

    @Test func exitBeforeTheEndIsACrashNotAPass() throws {
        let r = try result("exitsEarly()")
        #expect(r.verdict == .crashed)
        #expect(r.message.contains("exited (status 0) before the test finished"))
    }

    @Test(.enabled(if: isRoot, "a binding process limit needs a user switch as root"))
    func forkBombIsContained() throws {
        // In the shared run, beside the others (which all scored, see above).
        let shared = try result("forkBomb()")
        #expect(shared.verdict == .passed || shared.verdict == .crashed)
        // Again on a uid leased here, to check that nothing of it is left.
        let binary = try fixtureBinary.get()
        let lease = try #require(SandboxUserLease.acquire())
        let r = try #require(runTests(binary: binary, testIDs: ["FixtureTests.Adversarial/forkBomb()"], limits: fixtureLimits,
                                      users: [lease.user]).first)
        // The bomb hit the process limit (the test passes: fork was refused)
        // or Swift Testing could not start a thread afterwards (crashed).
        #expect(r.verdict == .passed || r.verdict == .crashed)
        // SIGKILLed processes take a moment to go.
        var left: [String] = []
        for _ in 0..<100 {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            left = entries.filter { entry in
                guard let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8) else { return false }
                return status.contains("Uid:\t\(lease.user.uid)\t") && !status.contains("State:\tZ")
            }
            if left.isEmpty { break }
            usleep(20_000)
        }
        #expect(left.isEmpty)
    }

    @Test(.enabled(if: isRoot, "only root can switch to an unprivileged user"))
    func studentCodeCannotReadRootOnlyFiles() throws {
        #expect(try result("readsSecret()").verdict == .passed)
        // The same test as root and without namespaces fails: the secret is readable.
        let binary = try fixtureBinary.get()
        let asRoot = runTest(binary: binary, testID: "FixtureTests.Adversarial/readsSecret()", limits: fixtureLimits,
                             user: nil, environment: ["FIXTURE_SECRET": secretFile], isolation: .none)
        #expect(asRoot.verdict == .failed)
    }

    @Test func singleRunAsNobodyMatchesAndTimesAreHonest() throws {
        let binary = try fixtureBinary.get()
        let start = sandboxClock()
        let run = runTest(binary: binary, testID: "Adversarial/passes()", limits: fixtureLimits)
        #expect(run.verdict == .passed)
        #expect(run.seconds > 0 && run.seconds <= sandboxClock() - start)
    }

    @Test func wallTimeoutsAreRetriedAloneOnce() throws {
        let binary = try fixtureBinary.get()
        let limits = SandboxLimits(wallSeconds: 5, cpuSeconds: 2, memoryBytes: 1 << 30, processes: 64, outputBytes: 64 << 10)
        let results = runTests(binary: binary, testIDs: ["FixtureTests.Adversarial/sleepsForever()", "FixtureTests.Adversarial/passes()"],
                               limits: limits, parallelism: 2, retryWallTimeouts: true)
        #expect(results.map(\.verdict) == [.timedOut, .passed])
        #expect(results[0].message.contains("timed out both times"))
    }

    /// This very test binary (KindlingPackageTests, with OpenBLAS and all)
    /// under the default limits: it must start under the default address-space
    /// limit and pass a real test, as nobody when root.
    @Test func realPackageTestBinaryRunsUnderDefaultLimits() throws {
        let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        guard !isRoot || binaryReachableByOthers(binary) else { return }  // e.g. a private build folder
        let run = runTest(binary: binary, testID: "GraderKitTests.RunnerJudgementTests/passRequiresEndEventAndCleanExit()")
        #expect(run.verdict == .passed, "\(run.message)\n\(run.output)")
        let missing = runTest(binary: binary, testID: "GraderKitTests.RunnerJudgementTests/noSuchTest()")
        #expect(missing.verdict == .notRun)
    }

    @Test func binaryThatCannotStartIsNotRun() {
        let run = runTest(binary: "/nonexistent/Tests.xctest", testID: "A/b()", limits: fixtureLimits)
        #expect(run.verdict == .notRun)
        #expect(run.message.contains("could not start"))
    }
}

/// The verdict rules on hand-made outcomes: no binary needed.
@Suite struct RunnerJudgementTests {
    private func outcome(_ termination: SandboxTermination, events: [String], stderr: String = "",
                         wall: Bool = false, cpu: Bool = false, rss: Int = 0) -> SandboxOutcome {
        SandboxOutcome(termination: termination, stdout: Data(), stderr: Data(stderr.utf8), stdoutTruncated: false,
                       stderrTruncated: false, channel: Data(events.joined(separator: "\n").utf8), observations: Data(),
                       wallSeconds: 0.5, cpuSeconds: 0.4, maxResidentBytes: rss, hitWallLimit: wall, hitCPULimit: cpu,
                       isolated: false, limits: SandboxLimits())
    }
    private let plan = #"{"kind":"test","payload":{"id":"M.S/t()/F.swift:1:2","kind":"function","name":"t()"},"version":0}"#
    private let ended = #"{"kind":"event","payload":{"kind":"testEnded","messages":[],"testID":"M.S/t()/F.swift:1:2"},"version":0}"#

    @Test func aPrintedBacktraceDoesNotNameWhereATimedOutTestWasStopped() {
        // A hostile test prints a frame of its own choosing, then loops. Only a run that asked
        // for the stack (the course runner's SIGQUIT) may report where it was stopped.
        let forged = "  0 0x0000000000001234 Other.innocent() + 1 in T.xctest at /somewhere/Else.swift:1:1\n"
        let graded = judgeTestRun(testID: "M.S/t()", outcome: outcome(.signaled(SIGKILL), events: [plan], stderr: forged, wall: true))
        #expect(graded.verdict == .timedOut && !graded.message.contains("It was stopped in"), "\(graded.message)")
        var asked = outcome(.signaled(SIGKILL), events: [plan], stderr: forged, wall: true)
        asked.limits.stackWhenStopped = true
        #expect(judgeTestRun(testID: "M.S/t()", outcome: asked).message.contains("It was stopped in Other.innocent() at /somewhere/Else.swift:1:1"))
    }

    /// The stream is the student's: a flood of plan and end events (here
    /// 100 000 of each, 17 MB; the sandbox keeps up to 64 MiB) must be judged
    /// in time that grows with its length, not with its square. When the plan
    /// was scanned for each event, this stream was still being judged after
    /// 50 minutes; now it takes seconds.
    @Test func aFloodedEventStreamIsJudgedInLinearTime() {
        var events = [plan]
        for i in 0..<100_000 {
            events.append(#"{"kind":"test","payload":{"id":"M.S/t()/x\#(i)","kind":"function"},"version":0}"#)
            events.append(#"{"kind":"event","payload":{"kind":"testEnded","testID":"M.Other/u\#(i)()"},"version":0}"#)
        }
        var graded: RunnerResult?
        let elapsed = ContinuousClock().measure {
            graded = judgeTestRun(testID: "M.S/t()", outcome: outcome(.exited(0), events: events))
        }
        #expect(graded?.verdict == .failed)
        #expect(graded?.tampering?.contains("end events for tests that were never planned: M.Other/u0()") == true,
                "\(graded?.tampering ?? "no tampering")")
        #expect(elapsed < .seconds(60), "judging took \(elapsed)")
    }

    /// A suite's end event names a suite that holds the planned test: not a stranger.
    @Test func aSuiteEndIsNotAStranger() {
        let suiteEnded = #"{"kind":"event","payload":{"kind":"testEnded","testID":"M.S"},"version":0}"#
        let other = #"{"kind":"event","payload":{"kind":"testEnded","testID":"M.S/t"},"version":0}"#
        #expect(judgeTestRun(testID: "M.S/t()", outcome: outcome(.exited(0), events: [plan, ended, suiteEnded])).verdict == .passed)
        let graded = judgeTestRun(testID: "M.S/t()", outcome: outcome(.exited(0), events: [plan, ended, other]))
        #expect(graded.verdict == .failed && graded.tampering?.contains("M.S/t") == true)
    }

    @Test func passRequiresEndEventAndCleanExit() {
        #expect(judgeTestRun(testID: "M.S/t()", outcome: outcome(.exited(0), events: [plan, ended])).verdict == .passed)
        #expect(judgeTestRun(testID: "M.S/t()", outcome: outcome(.exited(0), events: [plan])).verdict == .crashed)
        #expect(judgeTestRun(testID: "M.S/t()", outcome: outcome(.exited(3), events: [plan, ended])).verdict == .crashed)
        #expect(judgeTestRun(testID: "M.S/t()", outcome: outcome(.signaled(SIGSEGV), events: [plan, ended])).verdict == .crashed)
        // Garbage on the channel is ignored, not fatal.
        #expect(judgeTestRun(testID: "M.S/t()", outcome: outcome(.exited(0), events: ["{not json", plan, ended])).verdict == .passed)
    }

    @Test func limitsComeFirst() {
        let wall = judgeTestRun(testID: "M.S/t()", outcome: outcome(.signaled(SIGKILL), events: [plan], wall: true))
        #expect(wall.verdict == .timedOut && wall.message.contains("wall-clock limit of 30 s"))
        let cpu = judgeTestRun(testID: "M.S/t()", outcome: outcome(.signaled(SIGXCPU), events: [plan], cpu: true))
        #expect(cpu.verdict == .timedOut && cpu.message.contains("CPU-time limit of 10 s"))
        let oom = judgeTestRun(testID: "M.S/t()", outcome: outcome(.signaled(SIGILL), events: [plan],
                                                                     stderr: "Fatal error: failed to allocate 64 bytes"))
        #expect(oom.verdict == .outOfMemory && oom.message.contains("1 GiB"))
        let killed = judgeTestRun(testID: "M.S/t()", outcome: outcome(.signaled(SIGKILL), events: [plan], rss: 1 << 30))
        #expect(killed.verdict == .outOfMemory)
        // A test that ended is judged by its issues, whatever it printed.
        let issue = #"{"kind":"event","payload":{"kind":"issueRecorded","issue":{"isKnown":false},"messages":[{"symbol":"fail","text":"Expectation failed: x"}],"testID":"M.S/t()/F.swift:1:2"},"version":0}"#
        let printed = judgeTestRun(testID: "M.S/t()", outcome: outcome(.exited(1), events: [plan, issue, ended],
                                                                         stderr: "error: Cannot allocate memory"))
        #expect(printed.verdict == .failed && printed.message == "Expectation failed: x")
    }

    @Test func crashMessagesNameSignalTrapAndPlace() {
        let stderr = """
            Student/Student.swift:12: Fatal error: the student gave up
            *** Program crashed: Illegal instruction at 0x00007f58eeef9361 ***
            Thread 2 crashed:
              0      0x00007f58eeef9361 _assertionFailure(_:_:file:line:flags:) + 225 in libswiftCore.so
              1 [ra] 0x000055dd20647322 giveUp() + 97 in Fixture.xctest at /tmp/f/Sources/Student/Student.swift:12:31
              2 [ra] 0x000055dd206438c7 closure in Fixture.xctest at /tmp/swift-generated-sources/@__swiftmacro_x.swift:5:143
            """
        let r = judgeTestRun(testID: "M.S/t()", outcome: outcome(.signaled(SIGILL), events: [plan], stderr: stderr))
        #expect(r.verdict == .crashed)
        #expect(r.message.hasPrefix("Crashed: SIGILL (a Swift runtime trap"))
        #expect(r.message.contains("Student/Student.swift:12: Fatal error: the student gave up"))
        #expect(r.message.contains("in giveUp() at "))
        #expect(!r.message.contains("Program crashed: Illegal instruction"))  // noise next to the fatal error
        #expect(r.message.contains("in giveUp() at /tmp/f/Sources/Student/Student.swift:12:31"))
        // The output holds neither the backtrace the message sums up nor the
        // line it quotes: here nothing is left.
        #expect(r.output == "", "got \(r.output)")
        let printed = judgeTestRun(testID: "M.S/t()", outcome: outcome(.signaled(SIGILL), events: [plan],
                                                                         stderr: "the student printed this\n" + stderr))
        #expect(printed.output == "the student printed this\n" + backtraceMarker, "got \(printed.output)")
    }

    @Test func backtraceIsCutFromStartToEnd() {
        let lines = ["printed before", "*** Signal 11: Backtracing from 0x0... done ***", "",
                     "*** Program crashed: Bad pointer dereference at 0x0 ***", "Thread 0 crashed:",
                     "  0 0x1 f() + 1 in T at /a.swift:1:1", "", "Backtrace took 0.21s", "printed after"]
        #expect(withoutBacktrace(lines) == ["printed before", backtraceMarker, "printed after"])
        // Cut off by the output limit: dropped to the end.
        #expect(withoutBacktrace(Array(lines.prefix(4))).count == 2)
        #expect(withoutBacktrace(["no crash here"]) == ["no crash here"])
    }
}
