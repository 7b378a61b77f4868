// What a student gets, checked on this repository's own course: the stubbed
// library builds without a warning, and the released texts point only at
// files the release holds and speak of no tool the student lacks.
import Foundation
import Testing
@testable import GraderKit

private let repository = Course(root: URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent())

/// Runs `arguments` through `/usr/bin/env`; returns the exit status and the output (both streams).
private func run(_ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
}

@Suite struct StubTests {
    @Test func stubsReadTheLocalsOnlyTheRegionReads() {
        let text = """
        public func backward(_ gradient: Tensor? = nil) {
            require(requiresGrad, "backward: // not a comment")
            let seed: Tensor
            let order = topologicalOrder()
            if let gradient {
                seed = gradient
            } else {
                seed = Tensor.ones(shape)
            }
            print(order)
            // BEGIN EXERCISE 6.5 — backward (Lessons/06-x.md)
            walk(order, seed)
            // END EXERCISE 6.5
        }

        public func tanh(
            scale: Float
        ) -> Tensor {
            let out = map(self) { tanhf($0) }
            let y = out.detach(), (p, q) = (1, 2)
            return record(out, inputs: [self]) { g in
                // BEGIN EXERCISE 6.8 — tanh (Lessons/06-x.md)
                [g * (1 - y * y) * scale * p]
                // END EXERCISE 6.8
            }
        }

        extension Tensor {
            public var isEmpty: Bool { count == 0 }
            // BEGIN EXERCISE 6.9 — a whole method (Lessons/06-x.md)
            public func relu() -> Tensor { self }
            // END EXERCISE 6.9
        }
        """
        let regions = scanRegions(in: text, file: "F.swift").regions
        #expect(regions.map(\.stubUses) == [["seed"], ["y"], []])
        #expect(regions[0].stub == [#"    _ = seed; fatalError("Exercise 6.5 is not done yet: backward — see Lessons/06-x.md")"#])
        #expect(regions[2].stub == [#"    fatalError("Exercise 6.9 is not done yet: a whole method — see Lessons/06-x.md")"#])
    }

    /// The guard: the stubs `grader sync` writes for this repository's library
    /// compile without one warning (a learner reads every warning as their own
    /// fault). `-emit-sil` runs the same diagnostics as a build; about 5 s.
    @Test func theStubbedLibraryCompilesWithoutWarnings() throws {
        let stubbed = try repository.generatedFiles().filter { $0.path.hasPrefix("Exercises/Kindling/") }
        #expect(stubbed.count > 20)
        // The stubs of this library do need their `_ = name;` reads.
        #expect(stubbed.contains { $0.text.contains(#"_ = seed; fatalError("Exercise"#) })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stubs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in stubbed {
            let url = folder.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try file.text.write(to: url, atomically: true, encoding: .utf8)
        }
        let sources = stubbed.map { folder.appendingPathComponent($0.path).path }
        let (status, output) = try run([
            "swiftc", "-emit-sil", "-wmo", "-o", "/dev/null", "-swift-version", "6", "-parse-as-library",
            "-module-name", "Kindling",
            "-I", repository.root.appendingPathComponent("Sources/CBLAS").path,
            "-I", repository.root.appendingPathComponent("Sources/CZlib").path,
        ] + sources)
        let diagnostics = Set(output.components(separatedBy: "\n").filter { $0.hasPrefix("/") && ($0.contains(" warning: ") || $0.contains(" error: ")) })
            .map { $0.replacingOccurrences(of: folder.path + "/", with: "") }.sorted()
        #expect(status == 0 && diagnostics.isEmpty, "the stubbed library does not compile cleanly:\n\(diagnostics.joined(separator: "\n"))\(status != 0 && diagnostics.isEmpty ? output : "")")
    }
}

@Suite struct StudentReleaseTests {
    @Test func instructorPassagesAreLeftOut() throws {
        let text = """
        Run `swift test`.
        <!-- instructor -->
        In the repository, add `KINDLING_WORKSPACE=exercises`.
        <!-- /instructor -->

        - a <!-- instructor -->(see `Sources/Kindling`)<!-- /instructor --> b
        """
        #expect(try Course.studentMarkdown(text, file: "x.md") == "Run `swift test`.\n\n- a  b")
        #expect(throws: GraderError.self) { try Course.studentMarkdown("<!-- instructor -->\nopen", file: "x.md") }
        #expect(throws: GraderError.self) { try Course.studentMarkdown("x <!-- /instructor -->", file: "x.md") }
    }

    /// Paths a text points at: `Sources/…`, `Tests/…`, `Exercises/…`,
    /// `Lessons/…`, `scripts/…`, `Solutions/…`.
    static func pathsMentioned(in text: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"(?<![A-Za-z0-9_./-])(?:Sources|Tests|Exercises|Lessons|scripts|Solutions)/[A-Za-z0-9_./…-]*"#)
        let ns = text as NSString
        return pattern.matches(in: text, range: NSRange(location: 0, length: ns.length)).map {
            var path = ns.substring(with: $0.range)
            while let last = path.last, ".…-/".contains(last) { path.removeLast() }  // sentence ends, `Exercises/Kindling/…`
            return path
        }
    }

    /// The comments of a Swift file, one string per line of comment.
    static func comments(in swift: String) -> [String] {
        swift.components(separatedBy: "\n").compactMap { line in
            guard let range = line.range(of: "//") else { return nil }
            return String(line[range.lowerBound...])
        }
    }

    @Test func theReleaseSpeaksOnlyOfWhatItHolds() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("release-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let written = try repository.release(to: output)
        let present = Set(written + written.flatMap { name in
            // …and every folder on the way to a file.
            let parts = name.split(separator: "/")
            return (1..<max(parts.count, 1)).map { parts.prefix($0).joined(separator: "/") }
        })
        // What a student reads: the lessons and READMEs, the Makefile, and the
        // comments of the code they work in or run.
        let learnerCode = ["Exercises/", "Sources/scratch/", "Tests/LessonTests/"]
        var problems: [String] = []
        for name in written {
            let text = try String(contentsOf: output.appendingPathComponent(name), encoding: .utf8)
            let read: [String]
            if name.hasSuffix(".md") || name == "Makefile" {
                read = [text]
            } else if name.hasSuffix(".swift"), learnerCode.contains(where: name.hasPrefix) {
                read = StudentReleaseTests.comments(in: text)
            } else {
                continue
            }
            for piece in read {
                for path in StudentReleaseTests.pathsMentioned(in: piece) where !present.contains(path) {
                    problems.append("\(name) points at \(path), which the release does not have")
                }
                if piece.contains("KINDLING_WORKSPACE") { problems.append("\(name) speaks of KINDLING_WORKSPACE") }
                if piece.range(of: #"(swift run|make) grader|grader (sync|grade|verify|release|gradescope)\b"#, options: .regularExpression) != nil {
                    problems.append("\(name) gives a grader command")
                }
                if piece.contains("instructor -->") { problems.append("\(name) still holds an instructor mark") }
            }
        }
        #expect(written.contains { $0.hasPrefix("Lessons/") })
        // The course runner ships; the reference code, hidden tests, slips and the grader's command do not.
        #expect(written.contains("Sources/course/main.swift") && written.contains { $0.hasPrefix("Sources/GraderKit/") })
        let secret = ["Solutions/", "Sources/Kindling/", "Tests/HiddenTests/", "Tests/Slips/", "Sources/grader/"]
        #expect(!written.contains { name in secret.contains(where: name.hasPrefix) },
                "\(written.filter { name in secret.contains(where: name.hasPrefix) })")
        #expect(problems.isEmpty, "\(problems.count) problems in the student release:\n\(problems.sorted().joined(separator: "\n"))")
    }
}

/// The failure messages the lessons quote point at the lines of the tests
/// that print them, so a learner who looks finds the expectation there.
@Suite struct QuotedMessageTests {
    @Test func quotedTestLocationsAreExpectations() throws {
        let lessons = repository.root.appendingPathComponent("Lessons")
        let pattern = try Regex(#"(Lesson[0-9]+Tests\.swift):([0-9]+):([0-9]+): Expectation failed"#)
        var quoted = 0
        var problems: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: lessons.path).sorted() where name.hasSuffix(".md") {
            let text = try String(contentsOf: lessons.appendingPathComponent(name), encoding: .utf8)
            for match in text.matches(of: pattern) {
                let file = String(match.output[1].substring!)
                let line = Int(match.output[2].substring!)!, column = Int(match.output[3].substring!)!
                let source = try String(contentsOf: repository.root.appendingPathComponent("Tests/LessonTests/\(file)"), encoding: .utf8)
                    .components(separatedBy: "\n")
                quoted += 1
                guard line <= source.count else { problems.append("\(name): \(file):\(line) is past the file's end"); continue }
                let text = Array(source[line - 1])
                let at = column - 1 < text.count ? String(text[(column - 1)...]) : ""
                if !at.hasPrefix("#expect") {
                    problems.append("\(name) quotes \(file):\(line):\(column), which is not an #expect: \(source[line - 1])")
                }
            }
        }
        #expect(quoted >= 6)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
