import Foundation
import Testing
@testable import GraderKit

// The comparison that decides a verdict (Observations.swift), the grader's
// judgement of a run against the reference's observations, and the lock that
// keeps two grades out of one workspace.

private func numbers(_ what: String, _ values: [String], shape: [Int]? = nil, atol: Double = 0, rtol: Double = 0) -> Observation {
    Observation(kind: "numbers", what: what, shape: shape ?? [values.count], values: values, atol: atol, rtol: rtol, test: "T")
}

@Suite struct ObservationTests {
    @Test func parsesWhatTestsWrite() {
        let line = #"{"atol":0.001,"kind":"numbers","rtol":0,"shape":[2],"test":"M.S/t()/F.swift:1:2","values":["1.0","nan"],"what":"g"}"#
        let parsed = Observation.parse(Data((line + "\nnot json\n").utf8))
        #expect(parsed == [numbers("g", ["1.0", "nan"], atol: 0.001)].map { var o = $0; o.test = "M.S/t()/F.swift:1:2"; return o })
    }

    @Test func theReferencesToleranceDecidesNotTheSubmissions() {
        let reference = [numbers("g", ["1.0", "2.0"], atol: 1e-3)]
        #expect(compareObservations([numbers("g", ["1.0005", "2.0"])], reference: reference).matched)
        // A submission that claims a huge tolerance gains nothing.
        let wide = compareObservations([numbers("g", ["1.5", "2.0"], atol: 1e9)], reference: reference)
        #expect(!wide.matched)
        #expect(wide.differences.first?.contains("the worst is at [0]: expected 1.0, got 1.5") == true, "\(wide.differences)")
    }

    @Test func nanAndInfinityMatchOnlyThemselves() {
        let reference = [numbers("x", ["nan", "inf", "-inf"], atol: 1)]
        #expect(compareObservations([numbers("x", ["nan", "inf", "-inf"])], reference: reference).matched)
        #expect(!compareObservations([numbers("x", ["0.0", "inf", "-inf"])], reference: reference).matched)
        #expect(!compareObservations([numbers("x", ["nan", "-inf", "-inf"])], reference: reference).matched)
    }

    @Test func missingExtraOrRelabelledObservationsDoNotMatch() {
        let reference = [numbers("a", ["1.0"]), numbers("b", ["2.0"])]
        let short = compareObservations([numbers("a", ["1.0"])], reference: reference)
        #expect(!short.matched && short.differences[0].contains("stopped before observing it"))
        #expect(!compareObservations(reference + [numbers("c", ["3.0"])], reference: reference).matched)
        #expect(!compareObservations([numbers("a", ["1.0"]), numbers("z", ["2.0"])], reference: reference).matched)
        #expect(!compareObservations([], reference: reference).matched)
        let text = Observation(kind: "text", what: "op", shape: [], values: ["*"], atol: 0, rtol: 0, test: "")
        var wrong = text
        wrong.values = ["+"]
        #expect(compareObservations([wrong], reference: [text]).differences == [#"op: expected "*", got "+""#])
    }

    @Test func aPassWithWrongValuesIsTamperingAndFails() {
        let grader = Grader(course: Course(root: URL(fileURLWithPath: "/nonexistent")), execute: { _, _, _ in [] })
        let reference = [numbers("g", ["1.0"])]
        var run = RunnerResult(testID: "T", verdict: .passed, message: "", output: "", seconds: 0)
        run.observations = [numbers("g", ["1.0"])]
        #expect(grader.judge(run, reference: reference).0 == .passed)
        run.observations = []  // an end event, and nothing observed
        let forged = grader.judge(run, reference: reference)
        #expect(forged.0 == .failed && forged.2, "\(forged)")
        // Nothing to compare with: never a pass.
        #expect(grader.judge(run, reference: []).0 == .notRun)
        // A genuine failure keeps its message and adds the comparison.
        var failed = RunnerResult(testID: "T", verdict: .failed, message: "Expectation failed", output: "", seconds: 0)
        failed.observations = [numbers("g", ["3.0"])]
        let judged = grader.judge(failed, reference: reference)
        #expect(judged.0 == .failed && !judged.2 && judged.1.contains("Compared with the reference"))
    }

    @Test func twoGradesNeverShareAWorkspace() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-locks-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let workspace = Workspace(course: Course(root: folder), directory: folder.appendingPathComponent("work"))
        var first: WorkspaceLock? = try WorkspaceLock.acquire(workspace, pool: 2)
        let second = try WorkspaceLock.acquire(workspace, pool: 2)
        #expect(first?.workspace.directory.lastPathComponent == "work")
        #expect(second.workspace.directory.lastPathComponent == "work-2")
        #expect(throws: GraderError.self) { try WorkspaceLock.acquire(workspace, pool: 2, waitSeconds: 0.3) }
        first = nil  // released: its folder is free again
        let again = try WorkspaceLock.acquire(workspace, pool: 2, waitSeconds: 1)
        #expect(again.workspace.directory.lastPathComponent == "work")
        withExtendedLifetime(second) {}
    }

    @Test func theRegionBehindABuildFailureIsFoundByHalves() throws {
        let ids = (1...7).map { ExerciseID(lesson: 3, number: $0) }
        func build(_ failing: @escaping ([ExerciseID]) -> Bool, timedOut: Bool) -> ([ExerciseID]) -> BuildResult {
            { chosen in
                let fails = failing(chosen)
                return BuildResult(succeeded: !fails, errors: [], timedOut: fails && timedOut, log: "")
            }
        }
        // One culprit, a time-out: found, and only time-outs count.
        var probes = 0
        let one = try bisectBuildFailure(ids, timedOut: true) { chosen in
            probes += 1
            return build({ $0.contains(ids[4]) }, timedOut: true)(chosen)
        }
        #expect(one == [ids[4]])
        #expect(probes <= 7, "halving, not one build per region: \(probes) builds")
        // Two regions that clash only together: both blamed (and no others
        // beyond the half they were found in).
        let pair = try bisectBuildFailure(ids, timedOut: false,
                                          build: build({ $0.contains(ids[1]) && $0.contains(ids[5]) }, timedOut: false))
        #expect(pair.contains(ids[1]) && pair.contains(ids[5]))
        // A build that fails with no region submitted blames none.
        #expect(try bisectBuildFailure(ids, timedOut: false, build: build({ _ in true }, timedOut: false)).isEmpty)
    }
}

