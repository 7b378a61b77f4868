import Foundation

// `grader verify`: proof that the course is sound, in the spirit of
// rustlings' `dev check`:
// - Exercises/ and Solutions/ are in sync with the reference;
// - every exercise has visible and hidden tests;
// - every test passes on the reference;
// - every exercise's tests fail when (only) that exercise is its stub, so no
//   test passes for free;
// - every exercise's tests pass when every LATER exercise is its stub, so
//   no test leans on code the learner has not written yet.
//
// All of it takes ONE build: each region is compiled as
// `if graderStubbed("1.2") { <stub> }` followed by its reference code, and
// the test process's environment picks which exercise is stubbed.

/// What `verify` found.
public struct VerifyResult: Sendable {
    /// One line per check, in order.
    public var lines: [String] = []
    /// The problems; empty when the course is sound.
    public var problems: [String] = []
    /// Whether every check passed.
    public var passed: Bool { problems.isEmpty }
}

extension Grader {
    /// Runs every check of `grader verify`.
    public func verify() throws -> VerifyResult {
        var result = VerifyResult()
        let stale = try course.staleFiles()
        if stale.isEmpty {
            result.lines.append("✔ Exercises/ and Solutions/ are in sync with Sources/Kindling")
        } else {
            result.problems.append("out of date (run `grader sync`): " + stale.joined(separator: ", "))
        }
        let (regions, _) = try course.referenceRegions()
        progress("Building the reference with switchable stubs…")
        let lock = try WorkspaceLock.acquire(referenceWorkspace, pool: 1, progress: progress)
        defer { withExtendedLifetime(lock) {} }
        try referenceWorkspace.write { _ in .switchable }
        let build = try referenceWorkspace.build(seconds: buildSeconds, cpuSeconds: compileCPUSeconds)
        guard build.succeeded else {
            result.problems += build.errors.prefix(10).map {
                "does not compile with switchable stubs (a region must end its block and use an explicit `return`): \($0.file):\($0.line): \($0.message)"
            }
            if build.errors.isEmpty { result.problems.append("the reference does not build: " + build.summary) }
            return result
        }
        result.lines.append("✔ the reference compiles with every stub in place")
        let tests = try listTests(referenceWorkspace.testBinary)
        let binary = try referenceWorkspace.publishTestBinary()
        defer { try? FileManager.default.removeItem(at: binary.deletingLastPathComponent()) }
        let byExercise = Dictionary(grouping: tests, by: \.exercise)
        for region in regions.sorted(by: { $0.id < $1.id }) {
            let mine = byExercise[region.id] ?? []
            let visible = mine.filter(\.visible).count, hidden = mine.count - visible
            if visible == 0 { result.problems.append("exercise \(region.id) has no visible test (suite Exercise_\(region.id.lesson)_\(region.id.number) in Tests/LessonTests)") }
            if hidden == 0 { result.problems.append("exercise \(region.id) has no hidden test (suite Exercise_\(region.id.lesson)_\(region.id.number) in Tests/HiddenTests)") }
        }
        let known = Set(regions.map(\.id))
        for test in tests where !known.contains(test.exercise) {
            result.problems.append("\(test.name) names exercise \(test.exercise), which has no region")
        }
        result.lines.append("✔ \(tests.count) tests for \(regions.count) exercises found")

        progress("Running \(tests.count) tests on the reference…")
        let outcomes = execute(binary, tests, [:])
        let failing = zip(tests, outcomes).filter { $0.1.verdict != .passed }
        for (test, outcome) in failing {
            result.problems.append("fails on the reference: \(test.name) — \(outcome.verdict.rawValue): \(outcome.message.prefix(300))")
        }
        if failing.isEmpty { result.lines.append("✔ every test passes on the reference") }

        // What the grader compares: every hidden test must observe values,
        // not only yes/no answers, and they must change with the grading
        // seed (or a stream recorded in another run would pass).
        let hidden = tests.filter { !$0.visible }
        progress("Running the \(hidden.count) hidden tests on the reference with two grading seeds…")
        let first = runReference(binary: binary, tests: hidden, seed: 1)
        let second = runReference(binary: binary, tests: hidden, seed: 2)
        result.problems += (first.failures + second.failures).map { "with a grading seed: \($0)" }
        var unobserved: [String] = [], onlyBool: [String] = [], seedless: [String] = []
        for test in hidden {
            let one = first.observations[test.name] ?? [], two = second.observations[test.name] ?? []
            if one.isEmpty { unobserved.append(test.name); continue }
            if one.allSatisfy({ $0.kind == "bool" }) { onlyBool.append(test.name) }
            if compareObservations(two, reference: one).matched { seedless.append(test.name) }
        }
        func list(_ names: [String]) -> String { names.prefix(10).joined(separator: ", ") + (names.count > 10 ? ", … (\(names.count))" : "") }
        if !unobserved.isEmpty { result.problems.append("hidden tests that observe nothing, so a forged result could not be told from a real one: " + list(unobserved)) }
        if !onlyBool.isEmpty { result.problems.append("hidden tests that observe only yes/no answers, which can be guessed: " + list(onlyBool)) }
        if !seedless.isEmpty { result.problems.append("hidden tests whose observations do not change with the grading seed, so a recorded stream would pass: " + list(seedless)) }
        if unobserved.isEmpty && onlyBool.isEmpty && seedless.isEmpty {
            result.lines.append("✔ every hidden test observes values that change with the grading seed")
        }

        progress("Running each exercise's tests against its stub…")
        for region in regions.sorted(by: { $0.id < $1.id }) {
            let mine = byExercise[region.id] ?? []
            guard !mine.isEmpty else { continue }
            let stubbed = execute(binary, mine, ["KINDLING_GRADER_STUB": region.id.description])
            let passing = zip(mine, stubbed).filter { $0.1.verdict == .passed }.map(\.0.name)
            if passing.isEmpty {
                result.lines.append("✔ \(region.id): all \(mine.count) tests fail on the stub")
            } else {
                result.problems.append("exercise \(region.id): these tests pass even with the stub in place: " + passing.joined(separator: ", "))
            }
            let withLaterStubs = execute(binary, mine, ["KINDLING_GRADER_STUB_AFTER": region.id.description])
            let leaning = zip(mine, withLaterStubs).filter { $0.1.verdict != .passed }
            if leaning.isEmpty {
                result.lines.append("✔ \(region.id): its tests need no later exercise")
            } else {
                result.problems += leaning.map {
                    "exercise \(region.id): \($0.0.name) fails when later exercises are stubs — it depends on code the learner has not written yet: \($0.1.message.prefix(200))"
                }
            }
        }
        return result
    }
}
