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
// - every slip of Tests/Slips/slips.json (a mistake a lesson warns about,
//   written as a mutation of the reference region) fails a visible test of
//   its exercise whose message names the mistake, so a learner who makes it
//   is told what to fix, not only "got X".
//
// All of it takes ONE build: each region is compiled as
// `if graderStubbed("1.2") { <stub> }` followed by its reference code (and,
// for a region with slips, `if graderSlip("1.3-recursive") { <mutated> }
// else if … else { <reference> }`), and the test process's environment
// picks which exercise is stubbed or which slip is made.

/// A mistake a learner is likely to make in one exercise, as a mutation of
/// the reference region's body, and the words the failing visible test must
/// say about it. The catalogue is `Tests/Slips/slips.json`: it holds pieces
/// of the solutions, so it is never part of a test target or the release.
public struct Slip: Sendable, Codable, Equatable {
    /// E.g. `"3.1-max"`: the exercise, a dash, a short name.
    public var id: String
    /// The exercise, e.g. `"3.1"`.
    public var exercise: String
    /// The lesson's words that warn about it ("" when no lesson does).
    public var lesson: String
    /// Text that occurs exactly once in the reference region's body…
    public var find: String
    /// …and what the learner wrote instead.
    public var replace: String
    /// A phrase the failing visible test's message (or its output, for a
    /// crash) must contain: it names the mistake or points at the fix.
    public var expect: String
    /// `false` for a slip no message can name (it must still fail a test).
    public var pointsAtFix: Bool?

    /// Whether the failing message must contain `expect`.
    public var mustPointAtFix: Bool { pointsAtFix ?? true }

    /// The region's body with this slip made, or why it cannot be made.
    public func mutatedBody(_ region: Region) throws -> [String] {
        let body = region.body.joined(separator: "\n")
        let count = body.components(separatedBy: find).count - 1
        guard !find.isEmpty, count == 1 else {
            throw GraderError.message("slip \(id): its `find` text occurs \(count) times in the body of exercise \(region.id) "
                                      + "(\(region.file)), not exactly once: \(find.debugDescription.prefix(120))")
        }
        let mutated = body.replacingOccurrences(of: find, with: replace)
        guard mutated != body else { throw GraderError.message("slip \(id): replacing its `find` text changes nothing") }
        return mutated.components(separatedBy: "\n")
    }
}

extension Course {
    /// The slip catalogue.
    public var slipsFile: URL { root.appendingPathComponent("Tests/Slips/slips.json") }

    /// The slips of `Tests/Slips/slips.json` (none when there is no file).
    public func slips() throws -> [Slip] {
        guard FileManager.default.fileExists(atPath: slipsFile.path) else { return [] }
        do {
            return try JSONDecoder().decode([Slip].self, from: Data(contentsOf: slipsFile))
        } catch {
            throw GraderError.message("Tests/Slips/slips.json cannot be read: \(error)")
        }
    }
}

/// How one slip fared against its exercise's visible tests.
public struct SlipOutcome: Sendable {
    /// The slip.
    public var slip: Slip
    /// The visible tests that failed with it made, with their results.
    public var failing: [(test: GradedTest, result: RunnerResult)]
    /// The failing test whose message (or output) holds `expect`, if any.
    public var naming: (test: GradedTest, result: RunnerResult)?
    /// Why it could not be run (unknown exercise, `find` not found once…), or nil.
    public var problem: String?

    /// The failing message a learner would read first: the one that names the mistake, else the first.
    public var message: String {
        guard let shown = naming ?? failing.first else { return "" }
        return shown.result.message + (shown.result.verdict == .crashed && !shown.result.output.isEmpty ? "\n" + shown.result.output : "")
    }
}

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
        // Read once, before the workspace is written: the build and the runs see the same catalogue.
        let slips: [Slip]
        do { slips = try course.slips() } catch {
            slips = []
            result.problems.append("\(error)")
        }
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
        let started = Date()
        let slipOutcomes = runSlips(slips, binary: binary, tests: tests, regions: regions)
        var pointing = 0
        for outcome in slipOutcomes {
            let slip = outcome.slip
            if let problem = outcome.problem { result.problems.append(problem); continue }
            if outcome.failing.isEmpty {
                result.problems.append("slip \(slip.id): no visible test of exercise \(slip.exercise) fails with it, "
                                       + "so a learner who makes it is told nothing")
            } else if !slip.mustPointAtFix {
                result.lines.append("✔ slip \(slip.id): \(outcome.failing.count) visible test(s) fail (no message can name it)")
            } else if outcome.naming != nil {
                pointing += 1
                result.lines.append("✔ slip \(slip.id): \(outcome.failing.count) visible test(s) fail, naming “\(slip.expect)”")
            } else {
                result.problems.append("slip \(slip.id): visible tests fail, but no message says “\(slip.expect)”; "
                                       + "the first says: \(outcome.message.prefix(300))")
            }
        }
        if !slipOutcomes.isEmpty {
            let share = Int((Double(pointing) / Double(slipOutcomes.count) * 100).rounded())
            result.lines.append("\(pointing) of \(slipOutcomes.count) slips point at the fix (\(share) %), "
                                + "checked in \(Int(Date().timeIntervalSince(started).rounded())) s")
            if pointing * 10 < slipOutcomes.count * 9 {
                result.problems.append("only \(pointing) of \(slipOutcomes.count) slips (\(share) %) have a visible test whose message "
                                       + "names the mistake; the course aims at 90 %")
            }
        }
        return result
    }

    /// Runs each slip's exercise's visible tests with the slip made.
    /// Slips that cannot be run come back with a `problem`.
    func runSlips(_ slips: [Slip], binary: URL, tests: [GradedTest], regions: [Region]) -> [SlipOutcome] {
        guard !slips.isEmpty else { return [] }
        progress("Running each of \(slips.count) slips against its exercise's visible tests…")
        let byID = Dictionary(regions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var seen = Set<String>()
        var outcomes: [SlipOutcome] = []
        for slip in slips {
            var outcome = SlipOutcome(slip: slip, failing: [], naming: nil, problem: nil)
            defer { outcomes.append(outcome) }
            guard seen.insert(slip.id).inserted else {
                outcome.problem = "slip \(slip.id): the id is used twice in Tests/Slips/slips.json"
                continue
            }
            guard let exercise = ExerciseID(slip.exercise), let region = byID[exercise] else {
                outcome.problem = "slip \(slip.id): exercise \(slip.exercise.debugDescription) has no region in Sources/Kindling"
                continue
            }
            guard slip.id.hasPrefix(slip.exercise + "-") else {
                outcome.problem = "slip \(slip.id): its id must start with its exercise, \(slip.exercise)-…"
                continue
            }
            do { _ = try slip.mutatedBody(region) } catch {
                outcome.problem = "\(error)"
                continue
            }
            let visible = tests.filter { $0.visible && $0.exercise == exercise }
            guard !visible.isEmpty else {
                outcome.problem = "slip \(slip.id): exercise \(slip.exercise) has no visible test"
                continue
            }
            let results = execute(binary, visible, ["KINDLING_GRADER_SLIP": slip.id])
            outcome.failing = zip(visible, results).filter { $0.1.verdict != .passed }.map { (test: $0.0, result: $0.1) }
            outcome.naming = outcome.failing.first { ($0.result.message + "\n" + $0.result.output).contains(slip.expect) }
        }
        return outcomes
    }

    /// Builds the reference with switchable stubs and slips, and runs every
    /// slip (`grader slips`: the table for the developers' notes).
    public func slipOutcomes(matching wanted: (Slip) -> Bool = { _ in true }) throws -> [SlipOutcome] {
        let (regions, _) = try course.referenceRegions()
        let slips = try course.slips().filter(wanted)
        progress("Building the reference with switchable stubs and slips…")
        let lock = try WorkspaceLock.acquire(referenceWorkspace, pool: 1, progress: progress)
        defer { withExtendedLifetime(lock) {} }
        try referenceWorkspace.write { _ in .switchable }
        let build = try referenceWorkspace.build(seconds: buildSeconds, cpuSeconds: compileCPUSeconds)
        guard build.succeeded else { throw GraderError.message("the reference does not build with its slips:\n" + build.summary) }
        let tests = try listTests(referenceWorkspace.testBinary)
        let binary = try referenceWorkspace.publishTestBinary()
        defer { try? FileManager.default.removeItem(at: binary.deletingLastPathComponent()) }
        return runSlips(slips, binary: binary, tests: tests, regions: regions)
    }
}
