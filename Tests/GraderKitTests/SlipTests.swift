import Foundation
import Testing
@testable import GraderKit

// The slip catalogue (Tests/Slips/slips.json) and how the switchable
// workspace compiles each slip behind `graderSlip("…")`. No builds here:
// `grader verify` compiles and runs them.

/// A throwaway course: one void and one value-returning region, and a catalogue.
private func makeCourse(slips: String?) throws -> Course {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("slips-\(UUID().uuidString)")
    let lib = root.appendingPathComponent("Sources/Kindling")
    try FileManager.default.createDirectory(at: lib, withIntermediateDirectories: true)
    try """
    public func double(_ x: Int) -> Int {
        // BEGIN EXERCISE 1.1 — double a number (Lessons/01-basics.md)
        let y = x * 2
        return y
        // END EXERCISE 1.1
    }

    public func bump(_ x: inout Int) {
        // BEGIN EXERCISE 1.2 — add one (Lessons/01-basics.md)
        x += 1
        // END EXERCISE 1.2
    }
    """.write(to: lib.appendingPathComponent("Basics.swift"), atomically: true, encoding: .utf8)
    if let slips {
        let folder = root.appendingPathComponent("Tests/Slips")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try slips.write(to: folder.appendingPathComponent("slips.json"), atomically: true, encoding: .utf8)
    }
    return Course(root: root)
}

private let catalogue = """
[
 {"id": "1.1-add", "exercise": "1.1", "lesson": "double, not add", "find": "x * 2", "replace": "x + 2", "expect": "not x + 2"},
 {"id": "1.1-triple", "exercise": "1.1", "lesson": "", "find": "x * 2", "replace": "x * 3", "expect": "triple", "pointsAtFix": false},
 {"id": "1.2-missing", "exercise": "1.2", "lesson": "", "find": "x -= 1", "replace": "x = 0", "expect": "never"}
]
"""

@Suite struct SlipTests {
    @Test func theCatalogueIsReadAndAMissingOneIsEmpty() throws {
        let course = try makeCourse(slips: catalogue)
        defer { try? FileManager.default.removeItem(at: course.root) }
        let slips = try course.slips()
        #expect(slips.map(\.id) == ["1.1-add", "1.1-triple", "1.2-missing"])
        #expect(slips[0].mustPointAtFix && !slips[1].mustPointAtFix)
        let none = try makeCourse(slips: nil)
        defer { try? FileManager.default.removeItem(at: none.root) }
        #expect(try none.slips().isEmpty)
    }

    @Test func aMutationMustFindItsTextExactlyOnce() throws {
        let region = Region(id: ExerciseID(lesson: 1, number: 1), title: "t", lessonFile: "Lessons/01-basics.md", file: "B.swift",
                            body: ["    let y = x * 2", "    return y * 2"], indentation: "    ", beginLine: 1, endLine: 4)
        let slip = Slip(id: "1.1-a", exercise: "1.1", lesson: "", find: "let y = x", replace: "let y = 0 -", expect: "e")
        #expect(try slip.mutatedBody(region) == ["    let y = 0 - * 2", "    return y * 2"])
        var twice = slip
        twice.find = "* 2"
        #expect(throws: GraderError.self) { try twice.mutatedBody(region) }
        var absent = slip
        absent.find = "z"
        #expect(throws: GraderError.self) { try absent.mutatedBody(region) }
    }

    @Test func eachSlipIsABranchAndTheReferenceTheLastElse() throws {
        let course = try makeCourse(slips: catalogue)
        defer { try? FileManager.default.removeItem(at: course.root) }
        let workspace = Workspace(course: course, directory: course.root.appendingPathComponent("work"))
        try workspace.write { _ in .switchable }
        let text = try String(contentsOf: workspace.directory.appendingPathComponent("Sources/Kindling/Basics.swift"), encoding: .utf8)
        let double = """
            // BEGIN EXERCISE 1.1 — double a number (Lessons/01-basics.md)
            if graderStubbed("1.1") { fatalError("Exercise 1.1 is not done yet: double a number — see Lessons/01-basics.md") }
            if graderSlip("1.1-add") {
            let y = x + 2
            return y
            } else if graderSlip("1.1-triple") {
            let y = x * 3
            return y
            } else {
            let y = x * 2
            return y
            }
            // END EXERCISE 1.1
        """
        #expect(text.contains(double), "got:\n\(text)")
        // A slip whose text is not in the region is left out (verify names it); the region stays as it was.
        #expect(text.contains("""
                if graderStubbed("1.2") { fatalError("Exercise 1.2 is not done yet: add one — see Lessons/01-basics.md") }
                x += 1
                // END EXERCISE 1.2
            """), "got:\n\(text)")
        let switchFile = try String(contentsOf: workspace.directory.appendingPathComponent("Sources/Kindling/_GraderStubSwitch.swift"), encoding: .utf8)
        #expect(switchFile.contains("KINDLING_GRADER_SLIP") && switchFile.contains("func graderSlip(_ id: String) -> Bool"))
    }
}
