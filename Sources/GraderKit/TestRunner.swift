// Runs one Swift Testing test of a compiled test binary in a sandboxed child
// process and turns what happened into a verdict (which the grader then checks
// against the reference's run: see below).
//
// On Linux a SwiftPM test product (`.build/debug/NamePackageTests.xctest`) is
// an executable. One test runs with
//
//     BINARY --testing-library swift-testing --quiet --filter REGEX
//            --event-stream-output-path /dev/fd/3 --event-stream-version 0
//
// The result channel is that event stream (JSON lines), written to descriptor
// 3 — a pipe only the grader reads. The student's `print`s go to stdout and
// stderr, which the runner shows as output but never parses for results, so
// a printed "✔ Test passed" or a fake JSON event changes nothing. Passing
// needs the test's own `testEnded` event with no issue *and* a normal exit
// with status 0; everything else is failed, crashed, timed out, out of
// memory or not run, with a message saying why.
//
// That is only this process's side of it: the student's code shares the
// process and can write a stream that says anything. So the grader (Grade.swift)
// also compares what the test observed (descriptor 4) with the reference's
// run, and a "pass" with the wrong values is a tampered channel, not a pass.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One test's outcome from `runTests`.
public struct RunnerResult: Sendable {
    /// The test id it was asked to run, e.g. `HiddenTests.Exercise_1_2/largeInputs()`.
    public var testID: String
    /// How it ended.
    public var verdict: Verdict
    /// Why, for anything but `.passed`: the failed expectations with their
    /// source locations, the crash signal and trap message, the limit hit.
    public var message: String
    /// The test's own standard output and error (without Swift Testing's
    /// progress lines), truncated.
    public var output: String
    /// Wall-clock seconds the test process ran.
    public var seconds: Double
    /// What the test observed (hidden tests; see Observations.swift).
    public var observations: [Observation] = []
    /// Why the run's result channel cannot be what the test wrote (events
    /// for tests that were not asked for, a second end), or nil.
    public var tampering: String? = nil
    /// Whether the test ran in namespaces of its own.
    public var isolated: Bool = false

    /// A result.
    public init(testID: String, verdict: Verdict, message: String, output: String, seconds: Double) {
        self.testID = testID
        self.verdict = verdict
        self.message = message
        self.output = output
        self.seconds = seconds
    }
}

/// The environment every sandboxed test gets, before the caller's additions
/// (and `HOME`/`TMPDIR`, which point at its private working folder):
/// no colours, Swift's crash backtracer on (non-interactive, crashed thread
/// only — it names the student's file and line), `MALLOC_ARENA_MAX=2` and
/// `OPENBLAS_NUM_THREADS=1` (fewer reserved gigabytes under the address-space
/// limit, and no BLAS threads competing with the parallel test runs).
public let runnerBaseEnvironment: [String: String] = [
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "SWIFT_BACKTRACE": "enable=yes,interactive=no,color=no,threads=crashed,registers=none,images=none,limit=16,top=0",
    "MALLOC_ARENA_MAX": "2",
    "OPENBLAS_NUM_THREADS": "1",
    // Where hidden tests write what they observe (Tests/HiddenTests/Support/Observe.swift).
    "KINDLING_OBSERVATIONS_FD": "4",
]

/// The `--filter` regular expression that selects exactly the test `testID`
/// (`Module.Suite/test()`, or without the module: `Suite/test()`).
///
/// Swift Testing matches the filter against each test's id, which for a
/// function ends in its source location (`Module.Suite/test()/File.swift:12:4`),
/// and running a suite runs all its tests; so the pattern is anchored at the
/// start and must be followed by `/` or the end. `Suite/test()` therefore
/// does not also select `Suite/test2()`, and an id with its module
/// (`HiddenTests.Suite/test()`) selects no test of another module, such as a
/// `HiddenTests.Suite` declared inside the student's `Kindling`
/// (`Kindling.HiddenTests.Suite/test()`). An id without a module may follow
/// any module's dot.
public func runnerFilterPattern(for testID: String) -> String {
    let special = Set("\\^$.|?*+()[]{}")
    var escaped = ""
    for character in testID {
        if special.contains(character) { escaped.append("\\") }
        escaped.append(character)
    }
    let hasModule = testID.split(separator: "/").first?.contains(".") == true
    return (hasModule ? "^" : "(^|\\.)") + escaped + "(/|$)"
}

/// Runs the one Swift Testing test `testID` of the test binary `binary` in
/// a sandbox (see `runSandboxed`) and judges it.
///
/// Verdicts, decided in this order:
/// 1. `.notRun` — the binary could not be started (the reason is given).
/// 2. `.timedOut` — the wall-clock limit (the sandbox killed the process
///    group) or the CPU limit (SIGXCPU/SIGKILL from the kernel) was hit; the
///    message names the limit and its value.
/// 3. `.notRun` — no test by that name (nothing planned, exit 0 or 69).
/// 4. When the test's `testEnded` arrived on the result channel: `.notRun`
///    if skipped or cancelled; `.failed` with every failed expectation
///    (text, comments, `File.swift:line:column`, the arguments of a
///    parameterized case) if any unknown issue was recorded; `.passed` if
///    none and the process exited with status 0; `.crashed` otherwise
///    ("reported success, but then exited with status N / crashed").
/// 5. The test never reported its end: `.outOfMemory` if the runtime
///    reported an allocation failure (or SIGKILL/SIGSEGV with resident
///    memory ≥ 90 % of the limit), naming the limit; else `.crashed` — for a
///    signal with its name and meaning (a Swift trap shows as SIGILL or
///    SIGTRAP), the runtime's "Fatal error: …" line and the first backtrace
///    frame with a source location (the student's file and line); for an
///    exit, even with status 0, "exited before the test finished".
/// Issues recorded before a crash or timeout are listed after its message.
///
/// - Parameters:
///   - binary: path of the test executable (e.g. `.build/debug/KindlingPackageTests.xctest`).
///     When `user` is set, it and its folders must be readable and
///     executable by that user.
///   - testID: the test, as `--list-tests` prints it: `Module.Suite/test()`.
///   - limits: resource limits for the test process.
///   - user: who runs it; by default `nobody` when this process is root.
///   - environment: extra variables on top of `runnerBaseEnvironment`.
///   - workingDirectory: where it runs; `nil` for a fresh empty folder.
/// - Returns: the verdict, its message, the test's output and its wall-clock seconds.
public func runTest(binary: String, testID: String, limits: SandboxLimits = SandboxLimits(),
                    user: SandboxUser? = SandboxUser.automatic, environment: [String: String] = [:],
                    workingDirectory: String? = nil,
                    isolation: SandboxIsolation = .automatic) -> (verdict: Verdict, message: String, output: String, seconds: Double) {
    let result = runOneTest(binary: binary, testID: testID, limits: limits, user: user,
                            environment: environment, workingDirectory: workingDirectory, isolation: isolation)
    return (result.verdict, result.message, result.output, result.seconds)
}

/// Runs many tests of one binary, each alone in its own sandboxed process
/// (see `runTest`), at most `parallelism` at a time. A crash, timeout or
/// runaway process in one test never touches another's result.
///
/// - Parameters:
///   - binary: the test executable.
///   - testIDs: the tests; the results come back in the same order.
///   - limits: resource limits per test.
///   - parallelism: how many tests run at once (default 2). When `users` is
///     not empty, at most one worker per user.
///   - users: one user per worker. `nil` (default): when this process is
///     root, a dedicated uid per worker, leased for the duration of the call
///     (`SandboxUserLease`), so the process limit is per test and leftovers
///     are swept by uid (`nobody` for all when every uid is leased
///     elsewhere); when not root, the current user. `[]`: the current user.
///     Dedicated users passed here must not be in use elsewhere.
///   - environment: extra environment variables for every test.
///   - retryWallTimeouts: run a test that hit the wall-clock limit once
///     more, alone, after the others — on a busy machine a slow test can be
///     starved; the CPU limit needs no retry. The second result counts.
///   - progress: called (from a worker thread) as each result arrives.
/// - Returns: one result per test id, in order.
public func runTests(binary: String, testIDs: [String], limits: SandboxLimits = SandboxLimits(),
                     parallelism: Int = 2, users: [SandboxUser]? = nil, environment: [String: String] = [:],
                     retryWallTimeouts: Bool = true, isolation: SandboxIsolation = .automatic,
                     progress: (@Sendable (RunnerResult) -> Void)? = nil) -> [RunnerResult] {
    let workers = max(1, parallelism)
    var workerUsers: [SandboxUser?]
    // Held until the end of this function: each worker's uid is ours alone.
    var leases: [SandboxUserLease] = []
    if let users {
        workerUsers = users.isEmpty ? Array(repeating: nil, count: workers) : Array(users.prefix(workers))
    } else if geteuid() == 0 {
        leases = SandboxUserLease.acquire(count: workers)
        workerUsers = leases.map(\.user)
        // Every dedicated uid is taken by other graders: share `nobody`.
        if workerUsers.isEmpty { workerUsers = Array(repeating: SandboxUser.nobody, count: workers) }
    } else {
        workerUsers = Array(repeating: nil, count: workers)
    }
    defer { withExtendedLifetime(leases) {} }
    let state = RunnerQueue(count: testIDs.count)

    // Runs the tests whose indices `next()` hands out, one worker per user.
    func work(_ indices: @escaping @Sendable () -> Int?, workers: [SandboxUser?], alone: Bool) {
        let group = DispatchGroup()
        for user in workers {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                while let index = indices() {
                    var result = runOneTest(binary: binary, testID: testIDs[index], limits: limits, user: user,
                                            environment: environment, workingDirectory: nil, isolation: isolation)
                    if alone, result.verdict == .timedOut {
                        result.message += "\n(It was run twice, alongside other tests and then alone; it timed out both times.)"
                    }
                    state.store(result, at: index)
                    if !(retryWallTimeouts && !alone && hitWallLimit(result)) { progress?(result) }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
    }

    work({ state.next() }, workers: workerUsers, alone: false)
    if retryWallTimeouts {
        let retry = RunnerQueue(indices: (0..<testIDs.count).filter { state.result($0).map(hitWallLimit) ?? false })
        if retry.remaining > 0 {
            work({ retry.next() }, workers: [workerUsers[0]], alone: true)
        }
    }
    return (0..<testIDs.count).map { state.result($0)! }
}

// MARK: - One run

/// Marks a result as a wall-clock timeout (so `runTests` may retry it).
private let wallLimitMarker = "wall-clock limit"

private func hitWallLimit(_ result: RunnerResult) -> Bool {
    result.verdict == .timedOut && result.message.contains(wallLimitMarker)
}

/// `runTest` returning a `RunnerResult`.
func runOneTest(binary: String, testID: String, limits: SandboxLimits, user: SandboxUser?,
                environment: [String: String], workingDirectory: String?,
                isolation: SandboxIsolation = .none) -> RunnerResult {
    guard let outcome = runTestBinary(binary, filters: [runnerFilterPattern(for: testID)], limits: limits, user: user,
                                      environment: environment, workingDirectory: workingDirectory, isolation: isolation) else {
        return RunnerResult(testID: testID, verdict: .notRun,
                            message: "The grader could not create a working folder: \(String(cString: strerror(errno)))",
                            output: "", seconds: 0)
    }
    var result = judgeTestRun(testID: testID, outcome: outcome)
    result.observations = Observation.parse(outcome.observations)
    result.isolated = outcome.isolated
    return result
}

/// Runs the Swift Testing tests of `binary` that match any of `filters`,
/// one after another, in the sandbox: the event stream on descriptor 3, the
/// observations on 4, `HOME` and `TMPDIR` its working folder (its private
/// `/tmp` when isolated; otherwise `workingDirectory` or a fresh folder of
/// `user`'s, removed afterwards). Nil when that folder cannot be made.
func runTestBinary(_ binary: String, filters: [String], limits: SandboxLimits, user: SandboxUser?,
                   environment: [String: String], workingDirectory: String? = nil,
                   isolation: SandboxIsolation) -> SandboxOutcome? {
    var directory = workingDirectory
    var ownDirectory: String? = nil
    if case .namespaces = isolation {
        directory = directory ?? "/tmp"  // its private /tmp
    } else if directory == nil {
        guard let made = sandboxTemporaryDirectory(prefix: "kindling-test") else { return nil }
        if let user { _ = chown(made, user.uid, user.gid) }
        directory = made
        ownDirectory = made
    }
    defer { if let ownDirectory { sandboxRemoveTree(ownDirectory) } }

    var env = runnerBaseEnvironment
    env["HOME"] = directory
    env["TMPDIR"] = directory
    if limits.stackWhenStopped, let backtrace = env["SWIFT_BACKTRACE"] {
        // Stopped for running too long, the program's own thread is not the
        // one the signal lands on: print them all (crashDetails takes the
        // first frame with a source file). The backtracer's default is all
        // threads; "threads=all" written out prints only one (Swift 6.3).
        env["SWIFT_BACKTRACE"] = backtrace.replacingOccurrences(of: "threads=crashed,", with: "")
    }
    env.merge(environment) { _, new in new }
    var arguments = [
        "--testing-library", "swift-testing",
        "--quiet",
        // The cases of a parameterized test one after another, so that
        // their observations come in the same order as the reference's.
        "--no-parallel",
        "--event-stream-output-path", "/dev/fd/3",  // KINDLING_CHANNEL_FD
        "--event-stream-version", "0",
    ]
    for filter in filters { arguments += ["--filter", filter] }
    return runSandboxed(executable: binary, arguments: arguments, environment: env,
                        workingDirectory: directory, limits: limits, user: user, isolation: isolation)
}

/// Turns a sandboxed run of one test into a verdict (the rules are listed at
/// `runTest`). Everything in `outcome` but its termination, times and limits
/// was written by the student's process and is read as untrusted.
public func judgeTestRun(testID: String, outcome: SandboxOutcome) -> RunnerResult {
    let stream = RunnerEventStream(outcome.channel)
    let stderrText = String(decoding: outcome.stderr, as: UTF8.self)
    let output = runnerOutput(outcome)
    let limits = outcome.limits
    func result(_ verdict: Verdict, _ message: String) -> RunnerResult {
        RunnerResult(testID: testID, verdict: verdict, message: message, output: output, seconds: outcome.wallSeconds)
    }
    // Issues recorded before the end, worth mentioning after a crash or timeout.
    let earlier = stream.issues.isEmpty ? "" : "\nBefore that, it recorded:\n" + stream.issueText()

    if case .failedToStart(let reason) = outcome.termination {
        return result(.notRun, "The grader could not start the test binary: \(reason)")
    }
    if outcome.hitWallLimit {
        // Where it was, when it was asked before being stopped (`SandboxLimits.stackWhenStopped`).
        // Only then: otherwise a frame in stderr is whatever the program printed.
        let place = !limits.stackWhenStopped ? "" : crashDetails(stderr: stderrText)
            .filter { $0.hasPrefix("in ") }.first.map { "\nIt was stopped " + $0 } ?? ""
        return result(.timedOut, "Timed out: still running at the \(wallLimitMarker) of \(formatSeconds(limits.wallSeconds)) "
            + "(it had used \(formatSeconds(outcome.cpuSeconds)) of CPU time), so it was stopped. "
            + "Is it waiting, sleeping or looping forever?" + place + earlier)
    }
    if outcome.hitCPULimit {
        return result(.timedOut, "Timed out: used up the CPU-time limit of \(limits.cpuSeconds) s, so it was stopped. "
            + "Is there an infinite loop, or is it far too slow?" + earlier)
    }
    if stream.functions.isEmpty {
        if case .exited(let status) = outcome.termination, status == 0 || status == 69 {
            return result(.notRun, "No test named \(testID) is in the test binary.")
        }
        // Otherwise it died before Swift Testing could even plan the run.
    }
    let planned = stream.functions
    // Only the one test asked for may run. Anything else in the stream — a
    // test the student's code declared under a matching name, an event for a
    // test that was never planned, a second end — was not written by the test.
    var tampering: [String] = []
    // An id without its module may be any module's (see runnerFilterPattern).
    let hasModule = testID.split(separator: "/").first?.contains(".") == true
    func asked(_ id: String) -> Bool {
        id == testID || id.hasPrefix(testID + "/")
            || (!hasModule && (id.hasSuffix("." + testID) || id.contains("." + testID + "/")))
    }
    let unasked = planned.filter { !asked($0) }
    if !unasked.isEmpty { tampering.append("tests that were not asked for ran: " + unasked.prefix(3).joined(separator: ", ")) }
    let isPlanned = plannedLookup(planned)
    let strangers = stream.endedOrder.filter { !isPlanned($0) }
    if !strangers.isEmpty { tampering.append("end events for tests that were never planned: " + strangers.prefix(3).joined(separator: ", ")) }
    let repeated = Dictionary(grouping: stream.endedOrder, by: { $0 }).filter { $0.value.count > 1 }.keys
    if !repeated.isEmpty { tampering.append("a test ended more than once: " + repeated.sorted().prefix(3).joined(separator: ", ")) }
    if !tampering.isEmpty {
        var tampered = result(.failed, "The result channel was tampered with: " + tampering.joined(separator: "; ")
            + ". The stream is not what the test wrote, so the test did not pass.")
        tampered.tampering = tampering.joined(separator: "; ")
        return tampered
    }
    let ended = planned.allSatisfy { stream.ended.contains($0) || stream.skipped[$0] != nil }
    if !planned.isEmpty && ended {
        if planned.allSatisfy({ stream.skipped[$0] != nil }) {
            let reasons = planned.compactMap { stream.skipped[$0] }.filter { !$0.isEmpty }
            return result(.notRun, "Skipped" + (reasons.isEmpty ? "." : ": " + reasons.joined(separator: "; ")))
        }
        if !stream.issues.isEmpty {
            var message = stream.issueText()
            if case .signaled(let signal) = outcome.termination {
                message += "\n(The process then crashed with \(signalName(signal)).)"
            }
            return result(.failed, message)
        }
        switch outcome.termination {
        case .exited(0):
            let cancelled = planned.compactMap { stream.cancelled[$0] }
            if !cancelled.isEmpty {
                let reasons = cancelled.filter { !$0.isEmpty }
                return result(.notRun, "Cancelled" + (reasons.isEmpty ? "." : ": " + reasons.joined(separator: "; ")))
            }
            return result(.passed, "")
        case .exited(let status):
            return result(.crashed, "The test reported success, but the process then exited with status \(status).")
        case .signaled(let signal):
            return result(.crashed, "The test reported success, but the process then crashed: "
                + crashDescription(signal: signal, stderr: stderrText))
        case .failedToStart:
            return result(.notRun, "")  // handled above
        }
    }

    // The test never reported its end.
    if let memory = outOfMemoryEvidence(outcome, stderr: stderrText) {
        return result(.outOfMemory, "Out of memory: went past the memory limit of \(formatBytes(limits.memoryBytes)) "
            + "(address space; peak resident memory \(formatBytes(outcome.maxResidentBytes))). \(memory)" + earlier)
    }
    switch outcome.termination {
    case .signaled(let signal):
        let message = "Crashed: " + crashDescription(signal: signal, stderr: stderrText) + earlier
        return RunnerResult(testID: testID, verdict: .crashed, message: message,
                            output: crashOutput(output, quotedIn: message), seconds: outcome.wallSeconds)
    case .exited(let status):
        return result(.crashed, "The test process exited (status \(status)) before the test finished, so it did not pass. "
            + "Does the code call exit()?" + earlier)
    case .failedToStart:
        return result(.notRun, "")  // handled above
    }
}

/// A function that tells whether an id is a planned test, or a suite that
/// holds one (`id` + "/" starts a planned id). The stream is the student's
/// and may plan a million tests and end a million more, so this sorts once
/// and then binary-searches, instead of scanning the plan for every end.
private func plannedLookup(_ planned: [String]) -> (String) -> Bool {
    let exact = Set(planned)
    // By UTF-8 bytes, under which every id starting with a given prefix sorts
    // together, right after the prefix itself.
    let sorted = planned.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
    return { id in
        if exact.contains(id) { return true }
        let prefix = Array((id + "/").utf8)
        var low = 0, high = sorted.count  // the first planned id not below `prefix`
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle].lexicographicallyPrecedes(prefix) { low = middle + 1 } else { high = middle }
        }
        return low < sorted.count && sorted[low].starts(with: prefix)
    }
}

// MARK: - Reading the event stream

/// What the event stream (JSON lines, version 0) said about the run.
///
/// The stream is untrusted: the process that writes it runs the student's
/// code, which can write anything to it. Reading it never traps, and takes
/// time and memory in proportion to its length, whatever it holds (the
/// sandbox keeps at most 64 MiB of it); what it claims is checked by
/// `judgeTestRun`.
public struct RunnerEventStream: Sendable {
    /// One recorded issue, ready to show.
    public struct Issue: Sendable {
        public var location: String
        public var lines: [String]
        public var testCase: String?
    }

    /// Ids of the test functions in the run's plan (suites excluded), each once, in order.
    public var functions: [String] = []
    /// Test (and suite) ids with a `testEnded` event.
    public var ended: Set<String> = []
    /// Every `testEnded` event's id, in order, repeats included.
    public var endedOrder: [String] = []
    /// Tests that recorded an issue that counts.
    public var failedTests: Set<String> = []
    /// Skipped tests and their reasons.
    public var skipped: [String: String] = [:]
    /// Cancelled tests and their reasons.
    public var cancelled: [String: String] = [:]
    /// Issues that count: not known issues, not warnings.
    public var issues: [Issue] = []

    /// Reads a stream; lines that are not JSON events are skipped.
    public init(_ data: Data) {
        var planned: Set<String> = []  // `functions`, for a lookup that does not grow with the plan
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let payload = object["payload"] as? [String: Any] else { continue }
            let kind = object["kind"] as? String
            let payloadKind = payload["kind"] as? String
            if kind == "test" {
                if payloadKind == "function", let id = payload["id"] as? String, planned.insert(id).inserted {
                    functions.append(id)
                }
                continue
            }
            guard kind == "event" else { continue }
            let testID = payload["testID"] as? String
            let comments = (payload["_comments"] as? [String]) ?? []
            switch payloadKind {
            case "testEnded":
                if let testID {
                    ended.insert(testID)
                    endedOrder.append(testID)
                }
            case "testSkipped":
                if let testID { skipped[testID] = comments.joined(separator: "; ") }
            case "testCancelled":
                if let testID { cancelled[testID] = comments.joined(separator: "; ") }
            case "issueRecorded":
                let issue = payload["issue"] as? [String: Any] ?? [:]
                if (issue["isKnown"] as? Bool) == true { continue }
                if let severity = issue["severity"] as? String, severity != "error" { continue }
                if (issue["isFailure"] as? Bool) == false { continue }
                if let testID { failedTests.insert(testID) }
                let messages = (payload["messages"] as? [[String: Any]]) ?? []
                var lines = messages.compactMap { $0["text"] as? String }
                if lines.isEmpty { lines = comments.isEmpty ? ["An issue was recorded."] : comments }
                let place = (issue["sourceLocation"] as? [String: Any]) ?? (payload["_sourceLocation"] as? [String: Any])
                var location = ""
                if let place, let file = (place["fileID"] as? String) ?? (place["_filePath"] as? String) {
                    location = "\(file):\(place["line"] as? Int ?? 0):\(place["column"] as? Int ?? 0)"
                }
                let testCase = (payload["_testCase"] as? [String: Any])?["displayName"] as? String
                issues.append(Issue(location: location, lines: lines, testCase: testCase))
            default:
                break
            }
        }
    }

    /// The issues as a student reads them: `File.swift:7:35: Expectation failed: …`
    /// with comments indented below; at most 10.
    public func issueText() -> String {
        var blocks: [String] = []
        for issue in issues.prefix(10) {
            var first = issue.lines.first ?? ""
            if let testCase = issue.testCase { first += " [arguments: \(testCase)]" }
            var block = issue.location.isEmpty ? first : "\(issue.location): \(first)"
            for line in issue.lines.dropFirst() { block += "\n    " + line }
            blocks.append(block)
        }
        if issues.count > 10 { blocks.append("… and \(issues.count - 10) more issues") }
        return blocks.joined(separator: "\n")
    }
}

// MARK: - Crashes, memory, output

/// The runtime's last words and where the crash happened, from the stderr
/// of a crashed test: "Fatal error" lines (`fatalError`, `precondition`,
/// force-unwrapping nil, index out of range), the backtracer's
/// "*** Swift runtime failure: … ***" (overflow) or "*** Program crashed: … ***",
/// and the first backtrace frame with a source file (the student's line).
func crashDetails(stderr: String) -> [String] {
    var lastWords: [String] = []
    var programCrashed: String? = nil
    var frame: String? = nil
    for raw in stderr.split(separator: "\n", omittingEmptySubsequences: true) {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.hasPrefix("*** ") && line.hasSuffix(" ***") {
            let inner = String(line.dropFirst(4).dropLast(4))
            if inner.hasPrefix("Swift runtime failure") {
                if !lastWords.contains(inner) && lastWords.count < 3 { lastWords.append(inner) }
            } else if inner.hasPrefix("Program crashed"), programCrashed == nil {
                programCrashed = inner
            }
        } else if line.contains("Fatal error") || line.contains("Precondition failed") || line.contains("Assertion failed") {
            if !lastWords.contains(line) && lastWords.count < 3 { lastWords.append(line) }
        }
        // "  3 [ra]  0x… Ex.traps() + 235 in Tests.xctest at /path/T.swift:10:55"
        if frame == nil, let at = line.range(of: " at /", options: .backwards),
           !line[at.upperBound...].contains("<compiler-generated>"),
           !line.contains("swift-generated-sources"),
           let address = line.range(of: " 0x") {
            let location = String(line[line.index(after: at.lowerBound)...].dropFirst(3))
            var symbol = String(line[address.upperBound...])
            symbol = String(symbol.drop { $0.isHexDigit }).trimmingCharacters(in: .whitespaces)
            if let plus = symbol.range(of: " + ") { symbol = String(symbol[..<plus.lowerBound]) }
            else if let inRange = symbol.range(of: " in ") { symbol = String(symbol[..<inRange.lowerBound]) }
            frame = "in \(symbol) at \(location)"
        }
    }
    // "Program crashed: Illegal instruction at 0x…" adds nothing to a
    // "Fatal error" line, but explains a segfault ("Bad pointer dereference").
    var details = lastWords.isEmpty ? programCrashed.map { [$0] } ?? [] : lastWords
    if let frame { details.append(frame) }
    return details
}

/// "SIGILL — a Swift runtime trap …" plus the details from stderr.
func crashDescription(signal: Int32, stderr: String) -> String {
    let name = signalName(signal)
    let meaning: String
    switch signal {
    case SIGILL, SIGTRAP:
        meaning = "a Swift runtime trap: fatalError, a failed precondition, force-unwrapping nil, "
            + "an index out of range or an arithmetic overflow"
    case SIGSEGV:
        meaning = "segmentation fault: a bad pointer, or a stack overflow from unbounded recursion"
    case SIGBUS: meaning = "bus error: a bad pointer"
    case SIGABRT: meaning = "abort(): a failed C assertion or a corrupted heap"
    case SIGFPE: meaning = "arithmetic error, such as an integer division by zero"
    case SIGKILL: meaning = "killed"
    case SIGXFSZ: meaning = "wrote a file past the size limit"
    case SIGPIPE: meaning = "wrote to a closed pipe"
    default: meaning = "ended by a signal"
    }
    var text = "\(name) (\(meaning))."
    let details = crashDetails(stderr: stderr)
    if !details.isEmpty { text += "\n" + details.joined(separator: "\n") }
    return text
}

/// Why this run looks like it ran out of memory, or nil. An allocation
/// failure under `RLIMIT_AS` reads "failed to allocate" (Swift),
/// "unable to allocate" (Foundation), "Cannot allocate memory", "bad_alloc"…;
/// a SIGKILL or SIGSEGV with resident memory near the limit counts too (the
/// kernel's OOM killer, or a stack guard hit while memory ran out).
func outOfMemoryEvidence(_ outcome: SandboxOutcome, stderr: String) -> String? {
    if case .exited(0) = outcome.termination { return nil }
    if case .failedToStart = outcome.termination { return nil }
    let markers = ["failed to allocate", "unable to allocate", "Could not allocate memory", "Cannot allocate memory",
                   "bad_alloc", "out of memory", "Out of memory", "memory exhausted"]
    for raw in stderr.split(separator: "\n") {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if markers.contains(where: { line.contains($0) }) {
            return "The runtime said: \(line)"
        }
    }
    if case .signaled(let signal) = outcome.termination, signal == SIGKILL || signal == SIGSEGV,
       outcome.limits.memoryBytes > 0, Double(outcome.maxResidentBytes) >= 0.9 * Double(outcome.limits.memoryBytes) {
        return "It was ended by \(signalName(signal)) with its memory at the limit."
    }
    return nil
}

/// The test's output for the report: stdout, then stderr without Swift
/// Testing's own progress lines and without Swift's crash backtrace (the
/// verdict's message already names the crash and the line it came from),
/// each with a note when truncated.
func runnerOutput(_ outcome: SandboxOutcome) -> String {
    var text = String(decoding: outcome.stdout, as: UTF8.self)
    if outcome.stdoutTruncated { text += "\n[standard output truncated at \(formatBytes(outcome.limits.outputBytes))]" }
    // Swift Testing's console symbols (plain-text forms, as with NO_COLOR).
    let progressSymbols: Set<Character> = ["◇", "↳", "✔", "✘", "✖", "➜", "⚠", "⚠︎", "⊘", "⎙", "━", "±", "􀟈", "􀢄"]
    let errorLines = String(decoding: outcome.stderr, as: UTF8.self)
        .split(separator: "\n", omittingEmptySubsequences: false)
        .filter { line in
            guard let first = line.first, progressSymbols.contains(first) else { return true }
            return !line.dropFirst().hasPrefix(" ")  // "✔ Test …": Swift Testing's; keep anything else
        }
    var errors = withoutBacktrace(errorLines).joined(separator: "\n").trimmingCharacters(in: .newlines)
    if outcome.stderrTruncated { errors += "\n[standard error truncated at \(formatBytes(outcome.limits.outputBytes))]" }
    if !errors.isEmpty {
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        text += errors
    }
    return text
}

/// What stands in the output for the backtrace `withoutBacktrace` cut.
let backtraceMarker = "[crash backtrace left out]"

/// `lines` without the backtracer's report: from "*** Signal N: Backtracing …"
/// or "*** Program crashed: … ***" (or "💣 Program crashed") to "Backtrace
/// took …", replaced by `backtraceMarker`. A report cut off before its end is
/// dropped to the end.
func withoutBacktrace<Line: StringProtocol>(_ lines: [Line]) -> [String] {
    var kept: [String] = []
    var inside = false
    for line in lines {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if !inside, trimmed.hasPrefix("*** Signal ") || trimmed.hasPrefix("*** Program crashed")
            || trimmed.hasPrefix("💣 Program crashed") {
            inside = true
            kept.append(backtraceMarker)
        } else if inside {
            if trimmed.hasPrefix("Backtrace took") { inside = false }
        } else {
            kept.append(String(line))
        }
    }
    return kept
}

/// A crashed test's output without the lines its message already quotes
/// (the "Fatal error: …" line), and empty when nothing but the backtrace
/// marker would be left.
func crashOutput(_ output: String, quotedIn message: String) -> String {
    let quoted = Set(message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
    let kept = output.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || !quoted.contains(trimmed)
    }
    let text = kept.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    return text == backtraceMarker ? "" : text
}

/// "1 GiB", "512 MiB", "1.5 KiB", "100 bytes".
func formatBytes(_ bytes: Int) -> String {
    let units = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
    for (size, unit) in units where bytes >= size {
        let value = Double(bytes) / Double(size)
        return value == value.rounded() ? "\(Int(value)) \(unit)" : String(format: "%.1f", value) + " " + unit
    }
    return "\(bytes) bytes"
}

/// "10 s", "0.25 s".
func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.2f s", seconds)
}

// MARK: - Work queue

/// Hands out test indices to worker threads and collects their results.
private final class RunnerQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [Int]
    private var results: [Int: RunnerResult] = [:]

    init(count: Int) { pending = Array((0..<count).reversed()) }
    init(indices: [Int]) { pending = indices.reversed() }

    var remaining: Int { lock.withLock { pending.count } }
    func next() -> Int? { lock.withLock { pending.popLast() } }
    func store(_ result: RunnerResult, at index: Int) { lock.withLock { results[index] = result } }
    func result(_ index: Int) -> RunnerResult? { lock.withLock { results[index] } }
}
