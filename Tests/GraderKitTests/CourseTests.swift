import Foundation
import Testing
@testable import GraderKit

/// A throwaway course on disk: a reference library with two exercises.
private func makeCourse() throws -> Course {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("course-\(UUID().uuidString)")
    let lib = root.appendingPathComponent("Sources/Kindling/Math")
    try FileManager.default.createDirectory(at: lib, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: root.appendingPathComponent("Lessons"), withIntermediateDirectories: true)
    try """
    /// Doubles.
    public func double(_ x: Int) -> Int {
        // BEGIN EXERCISE 1.1 — double a number (Lessons/01-basics.md)
        return x * 2
        // END EXERCISE 1.1
    }

    /// Squares.
    public func square(_ x: Int) -> Int {
        // BEGIN EXERCISE 1.2 — square a number (Lessons/01-basics.md)
        let y = x * x
        return y
        // END EXERCISE 1.2
    }
    """.write(to: lib.appendingPathComponent("Basics.swift"), atomically: true, encoding: .utf8)
    try "public let answer = 42\n".write(to: root.appendingPathComponent("Sources/Kindling/Plain.swift"), atomically: true, encoding: .utf8)
    try """
    # Basics

    ```swift
    let x = 1 + 1
    #expect(x == 2)
    ```

    ```text
    not code
    ```
    """.write(to: root.appendingPathComponent("Lessons/01-basics.md"), atomically: true, encoding: .utf8)
    return Course(root: root)
}

@Suite struct MarkerTests {
    @Test func regionsAreFoundWithTheirLines() {
        let text = """
        func f() {
            // BEGIN EXERCISE 2.3 — a title (Lessons/02-x.md)
            let a = 1
            return
            // END EXERCISE 2.3
        }
        """
        let scan = scanRegions(in: text, file: "F.swift")
        #expect(scan.problems.isEmpty)
        let region = try! #require(scan.regions.first)
        #expect(region.id == ExerciseID(lesson: 2, number: 3))
        #expect(region.title == "a title")
        #expect(region.lessonFile == "Lessons/02-x.md")
        #expect(region.body == ["    let a = 1", "    return"])
        #expect((region.beginLine, region.endLine) == (2, 5))
        #expect(region.stub == [#"    fatalError("Exercise 2.3 is not done yet: a title — see Lessons/02-x.md")"#])
    }

    @Test(arguments: [
        ("// BEGIN EXERCISE 1.1 — t (Lessons/a.md)\nx", "has no END EXERCISE 1.1"),
        ("x\n// END EXERCISE 1.1", "has no matching BEGIN"),
        ("// BEGIN EXERCISE 1.1 — t (Lessons/a.md)\n// END EXERCISE 1.2", "the ids must match"),
        ("// BEGIN EXERCISE 1.1 — t (Lessons/a.md)\n// BEGIN EXERCISE 1.2 — u (Lessons/a.md)\n// END EXERCISE 1.2", "cannot nest"),
        ("// BEGIN EXERCISE one — t (Lessons/a.md)", "invalid exercise id"),
        ("// BEGIN EXERCISE 1.1 without a title", "unreadable exercise marker"),
    ])
    func damagedMarkersAreExplained(text: String, expected: String) {
        let scan = scanRegions(in: text, file: "F.swift")
        #expect(scan.problems.contains { $0.message.contains(expected) }, "\(scan.problems)")
    }

    /// Found by the `markers` fuzz target: a damaged marker inside a region
    /// was reported but left out of the region's body, so the body was not
    /// the lines between the markers, and splicing it back lost a line.
    @Test func aDamagedMarkerInsideARegionStaysInItsBody() {
        let text = """
        func f() {
            // BEGIN EXERCISE 1.1 — t (Lessons/a.md)
            let a = 1
            // BEGIN EXERCISE 1.1 without a title
            // BEGIN EXERCISE one — t (Lessons/a.md)
            return a
            // END EXERCISE 1.1
        }
        """
        let scan = scanRegions(in: text, file: "F.swift")
        #expect(scan.regions.map(\.id) == [ExerciseID(lesson: 1, number: 1)])
        #expect(scan.regions.first?.body == ["    let a = 1", "    // BEGIN EXERCISE 1.1 without a title",
                                             "    // BEGIN EXERCISE one — t (Lessons/a.md)", "    return a"])
        #expect(scan.problems.map(\.line) == [4, 5], "both damaged markers are still reported: \(scan.problems)")
        #expect(rewriteRegions(in: text, file: "F.swift") { $0.body } == text)
    }

    @Test func rewritingKeepsMarkersAndOtherLines() {
        let text = "a\n  // BEGIN EXERCISE 1.1 — t (Lessons/a.md)\n  old\n  // END EXERCISE 1.1\nb"
        let out = rewriteRegions(in: text, file: "F.swift") { _ in ["  new1", "  new2"] }
        #expect(out == "a\n  // BEGIN EXERCISE 1.1 — t (Lessons/a.md)\n  new1\n  new2\n  // END EXERCISE 1.1\nb")
    }
}

@Suite struct SyncTests {
    @Test func syncWritesStubsSolutionsAndCodeBlockTests() throws {
        let course = try makeCourse()
        defer { try? FileManager.default.removeItem(at: course.root) }
        #expect(try course.staleFiles().contains("Exercises/Kindling/Math/Basics.swift"))
        try course.sync()
        #expect(try course.staleFiles().isEmpty)

        let stubbed = try String(contentsOf: course.exercises.appendingPathComponent("Math/Basics.swift"), encoding: .utf8)
        #expect(stubbed.contains(#"fatalError("Exercise 1.1 is not done yet: double a number — see Lessons/01-basics.md")"#))
        #expect(!stubbed.contains("return x * 2"))
        #expect(!stubbed.contains("x * x"))
        #expect(try String(contentsOf: course.exercises.appendingPathComponent("Plain.swift"), encoding: .utf8) == "public let answer = 42\n")

        let solutions = try String(contentsOf: course.solutions.appendingPathComponent("01-basics.swift"), encoding: .utf8)
        #expect(solutions.contains("return x * 2") && solutions.contains("let y = x * x"))
        #expect(scanRegions(in: solutions, file: "s").regions.map(\.id.description) == ["1.1", "1.2"])

        let blocks = try String(contentsOf: course.root.appendingPathComponent(Course.codeBlocksPath), encoding: .utf8)
        #expect(blocks.contains("let x = 1 + 1"))
        #expect(!blocks.contains("not code"))
    }

    @Test func checkNoticesHandEditsAndLeftovers() throws {
        let course = try makeCourse()
        defer { try? FileManager.default.removeItem(at: course.root) }
        try course.sync()
        let stub = course.exercises.appendingPathComponent("Math/Basics.swift")
        try (try String(contentsOf: stub, encoding: .utf8) + "\n// edited").write(to: stub, atomically: true, encoding: .utf8)
        try "x".write(to: course.solutions.appendingPathComponent("99-gone.swift"), atomically: true, encoding: .utf8)
        #expect(try course.staleFiles() == ["Exercises/Kindling/Math/Basics.swift", "Solutions/99-gone.swift"])
        try course.sync()
        #expect(try course.staleFiles().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: course.solutions.appendingPathComponent("99-gone.swift").path))
    }

    @Test func duplicateIdsInTheReferenceAreRefused() throws {
        let course = try makeCourse()
        defer { try? FileManager.default.removeItem(at: course.root) }
        try """
        func again() {
            // BEGIN EXERCISE 1.1 — again (Lessons/01-basics.md)
            return
            // END EXERCISE 1.1
        }
        """.write(to: course.reference.appendingPathComponent("Again.swift"), atomically: true, encoding: .utf8)
        #expect(throws: GraderError.self) { try course.generatedFiles() }
    }
}

@Suite struct SubmissionTests {
    @Test func onlyRegionsAreTakenAndTheRestIsReported() throws {
        let course = try makeCourse()
        defer { try? FileManager.default.removeItem(at: course.root) }
        try course.sync()
        let folder = course.root.appendingPathComponent("submission")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try """
        // BEGIN EXERCISE 1.1 — double a number (Lessons/01-basics.md)
        return x + x
        // END EXERCISE 1.1
        // BEGIN EXERCISE 1.2 — square a number (Lessons/01-basics.md)
        return x * x
        """.write(to: folder.appendingPathComponent("Mine.swift"), atomically: true, encoding: .utf8)
        try "print(\"hello\")".write(to: folder.appendingPathComponent("Other.swift"), atomically: true, encoding: .utf8)
        let s = try collectSubmission(at: folder, exercises: [ExerciseID(lesson: 1, number: 1), ExerciseID(lesson: 1, number: 2)])
        #expect(s.regions[ExerciseID(lesson: 1, number: 1)]?.body == ["return x + x"])
        #expect(s.regions[ExerciseID(lesson: 1, number: 2)] == nil)
        #expect(s.problems[ExerciseID(lesson: 1, number: 2)]?.first?.contains("has no END EXERCISE 1.2") == true)
        #expect(s.ignored == ["Other.swift (no exercise regions)"])
    }

    @Test func editsOutsideRegionsOfAWorkspaceFileAreIgnoredAndSaid() throws {
        let course = try makeCourse()
        defer { try? FileManager.default.removeItem(at: course.root) }
        try course.sync()
        let copy = course.root.appendingPathComponent("workspace")
        try FileManager.default.copyItem(at: course.exercises, to: copy)
        let file = copy.appendingPathComponent("Math/Basics.swift")
        let edited = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "/// Doubles.", with: "/// Doubles!")
        try edited.write(to: file, atomically: true, encoding: .utf8)
        let generated = Dictionary(uniqueKeysWithValues: try course.generatedFiles()
            .filter { $0.path.hasPrefix("Exercises/Kindling/") }
            .map { (String($0.path.dropFirst("Exercises/Kindling/".count)), $0.text) })
        let s = try collectSubmission(at: copy, exercises: [ExerciseID(lesson: 1, number: 1), ExerciseID(lesson: 1, number: 2)],
                                      generated: generated)
        #expect(s.ignored.contains("Math/Basics.swift (changes outside exercise regions)"))
        #expect(s.regions.count == 2)
    }
}

@Suite struct ReleaseTests {
    @Test func theReleaseHoldsNoReferenceCode() throws {
        let course = try makeCourse()
        defer { try? FileManager.default.removeItem(at: course.root) }
        try course.sync()
        try FileManager.default.createDirectory(at: course.root.appendingPathComponent("Tests/HiddenTests"), withIntermediateDirectories: true)
        try "let hiddenTestBody7f3a = 1".write(to: course.root.appendingPathComponent("Tests/HiddenTests/H.swift"), atomically: true, encoding: .utf8)
        let out = course.root.appendingPathComponent("release")
        let written = try course.release(to: out)
        #expect(written.contains("Exercises/Kindling/Math/Basics.swift"))
        #expect(written.contains("Package.swift"))
        #expect(!written.contains { $0.hasPrefix("Solutions") || $0.hasPrefix("Sources/Kindling/") || $0.contains("HiddenTests") })
        let all = try FileManager.default.subpathsOfDirectory(atPath: out.path)
        for name in all where name.hasSuffix(".swift") {
            let text = try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)
            #expect(!text.contains("let y = x * x"), "\(name) leaks a solution")
        }
        let manifest = try String(contentsOf: out.appendingPathComponent("Package.swift"), encoding: .utf8)
        #expect(manifest.contains(#"path: "Exercises/Kindling""#))
        // The course runner (GraderKit, `course`) ships; the grader's command and what it grades with do not.
        #expect(!manifest.contains("HiddenTests") && !manifest.contains(#"name: "grader""#))
        #expect(!written.contains { $0.hasPrefix("Sources/grader/") || $0.hasPrefix("Tests/Slips") })
        for name in all {
            if let text = try? String(contentsOf: out.appendingPathComponent(name), encoding: .utf8) {
                #expect(!text.contains("hiddenTestBody7f3a"), "\(name) holds a hidden test's text")
            }
        }
        #expect(throws: GraderError.self) { try course.release(to: out) }  // not empty any more
    }
}
