// Plugs the sandboxed runner into `Grader` as its `TestExecutor`.

import Foundation

/// A `TestExecutor` that runs every test alone in the sandbox via
/// `runTests` — at most `parallelism` at a time, as dedicated unprivileged
/// users when the grader is root — so that a crash, timeout or runaway
/// process in one test never costs another its result.
///
/// - Parameters:
///   - limits: resource limits per test.
///   - parallelism: tests run at once (default 2).
///   - progress: called with a line per finished test ("✔ name", "✘ name: crashed").
public func sandboxedTestExecutor(limits: SandboxLimits = SandboxLimits(), parallelism: Int = 2,
                                  progress: (@Sendable (String) -> Void)? = nil) -> TestExecutor {
    let onResult: (@Sendable (RunnerResult) -> Void)? = progress.map { report in
        { @Sendable result in
            report(result.verdict == .passed ? "✔ \(result.testID)" : "✘ \(result.testID): \(result.verdict.rawValue)")
        }
    }
    return { (binary: URL, tests: [GradedTest], environment: [String: String]) in
        runTests(binary: binary.path, testIDs: tests.map(\.name), limits: limits,
                 parallelism: parallelism, environment: environment, progress: onResult)
    }
}
