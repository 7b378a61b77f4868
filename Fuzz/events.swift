// Fuzz target `events`: what a test process writes, as the grader reads it.
//
// A test process runs the student's code, so everything it writes is
// untrusted: the event stream (descriptor 3, RunnerEventStream), the
// observations (descriptor 4, Observation.parse) and its standard output and
// error (crash details, output for the report). Reading and judging them must
// never trap, hang or take memory out of proportion to the input.
//
// An input is up to three sections separated by NUL bytes:
//
//     event stream ␀ observations ␀ standard output and error
//
// and is judged as one of four endings of the process (by its length: exit
// status 0, status 1, SIGILL, or SIGKILL at the memory limit).

import Foundation
import GraderKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Data(bytes: data, count: size)
    let sections = input.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false).map { Data($0) }
    let channel = sections[0]
    let observationBytes = sections.count > 1 ? sections[1] : Data()
    let output = sections.count > 2 ? sections[2] : Data()

    let stream = RunnerEventStream(channel)
    _ = stream.issueText()
    check(Set(stream.functions).count == stream.functions.count, "a planned function is listed twice")

    // The observations, compared with a list that differs from them.
    let observed = Observation.parse(observationBytes)
    _ = compareObservations(observed, reference: observed.reversed())
    _ = compareObservations(Array(observed.dropFirst()), reference: observed)

    // The test asked for: the first planned one without its source location.
    let testID = stream.functions.first.map { id -> String in
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count > 1 ? parts.dropLast().joined(separator: "/") : id
    } ?? "Module.Suite/test()"
    // One of four endings of the process, chosen by the input's length.
    let endings: [SandboxTermination] = [.exited(0), .exited(1), .signaled(SIGILL), .signaled(SIGKILL)]
    let ending = size % endings.count
    let outcome = SandboxOutcome(termination: endings[ending], stdout: output, stderr: output, channel: channel,
                                 observations: observationBytes, wallSeconds: 0.5, cpuSeconds: 0.25,
                                 maxResidentBytes: ending == 3 ? 1 << 30 : 1 << 20)
    let result = judgeTestRun(testID: testID, outcome: outcome)
    // Only a clean exit can pass, and only with an end event for a planned test.
    if result.verdict == .passed {
        check(outcome.termination == .exited(0), "passed although the process ended with \(outcome.termination)")
        check(!stream.functions.isEmpty && !stream.ended.isEmpty, "passed without a plan and an end")
    }
    return 0
}

/// Stops with `message` unless `condition` holds. (`precondition` would do,
/// but an optimized build drops its message; `fatalError` keeps it.)
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
