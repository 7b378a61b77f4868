// Every ```swift block of Lessons/*.md must compile exactly as a learner
// runs it: pasted into Sources/scratch/main.swift in place of its `print`
// line — top-level code of a main.swift, in the Swift 6 language mode, with
// the imports that file has. (LessonCodeBlocksTests runs each block too, but
// inside a test function, where main-actor isolation of top-level variables
// and missing imports cannot show.)
//
// Each block is type-checked by `swiftc -typecheck` against the Kindling
// module this test run was built with, and must give no error and no warning.
// About a tenth of a second per block; the cases run in parallel.
import Foundation
import GraderKit
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// One code block of a lesson, named for the test report.
struct LessonBlock: CustomTestStringConvertible, Sendable {
    var lesson: String, line: Int, code: [String]
    var testDescription: String { "Lessons/\(lesson) line \(line)" }
}

private let lessonBlocks: [LessonBlock] = {
    let lessons = packageRoot.appendingPathComponent("Lessons")
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: lessons.path)) ?? []).filter { $0.hasSuffix(".md") }.sorted()
    return names.flatMap { name in
        let text = (try? String(contentsOf: lessons.appendingPathComponent(name), encoding: .utf8)) ?? ""
        return swiftCodeBlocks(in: text).map { LessonBlock(lesson: name, line: $0.line, code: $0.code) }
    }
}()

/// The folder holding the built `Kindling.swiftmodule`: `Modules` next to
/// this test executable (SwiftPM's `<scratch>/debug/Modules`).
private func builtModules() -> URL? {
    guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
    let modules = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("Modules")
    return FileManager.default.fileExists(atPath: modules.appendingPathComponent("Kindling.swiftmodule").path) ? modules : nil
}

/// `Sources/scratch/main.swift` with `block` in place of its `print` line.
func scratchMain(with block: [String]) throws -> String {
    let scratch = try String(contentsOf: packageRoot.appendingPathComponent("Sources/scratch/main.swift"), encoding: .utf8)
    var lines = scratch.components(separatedBy: "\n")
    if let at = lines.lastIndex(where: { $0.hasPrefix("print(") }) {
        lines.replaceSubrange(at...at, with: block)
    } else {
        lines += block
    }
    return lines.joined(separator: "\n") + "\n"
}

@Suite("Lesson code blocks compile as Sources/scratch/main.swift") struct LessonScratchTests {
    @Test func everyLessonHasBlocks() {
        #expect(lessonBlocks.count >= 10, "found only \(lessonBlocks.count) ```swift blocks under \(packageRoot.path)/Lessons")
    }

    @Test(arguments: lessonBlocks) func compilesAsScratchMain(_ block: LessonBlock) throws {
        let modules = try #require(builtModules(), "no Kindling.swiftmodule next to the test executable")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scratch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let main = folder.appendingPathComponent("main.swift")
        try scratchMain(with: block.code).write(to: main, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "swiftc", "-typecheck", "-swift-version", "6", "-module-name", "scratch",
            "-I", modules.path,
            "-I", packageRoot.appendingPathComponent("Sources/CBLAS").path,
            "-I", packageRoot.appendingPathComponent("Sources/CZlib").path,
            main.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let diagnostics = text.components(separatedBy: "\n").filter { $0.hasPrefix(main.path) && ($0.contains(" error: ") || $0.contains(" warning: ")) }
        #expect(process.terminationStatus == 0 && diagnostics.isEmpty,
                "\(block.testDescription), pasted into Sources/scratch/main.swift, does not compile cleanly:\n\(diagnostics.isEmpty ? text : diagnostics.map { $0.replacingOccurrences(of: main.path, with: "main.swift") }.joined(separator: "\n"))")
    }
}
