import ArgumentParser
import Foundation
import GraderKit

/// `grader`: the course machinery — generate the workspace and answer key,
/// and (in later subcommands) grade submissions.
@main
struct GraderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grader",
        abstract: "Kindling's course tools: keep exercises and solutions in sync with the reference.",
        subcommands: [Sync.self]
    )
}

/// Finds the repository root: the given folder, or the nearest folder upward
/// from the current one that holds Sources/Kindling.
func courseRoot(_ given: String?) throws -> Course {
    if let given { return Course(root: URL(fileURLWithPath: given)) }
    var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    while dir.path != "/" {
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Sources/Kindling").path) {
            return Course(root: dir)
        }
        dir.deleteLastPathComponent()
    }
    throw ValidationError("no Sources/Kindling found here or above; pass --root")
}

/// `grader sync`: regenerate Exercises/ and Solutions/ from the reference.
struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Regenerate Exercises/ and Solutions/ from the exercise regions in Sources/Kindling.")

    @Flag(help: "Change nothing; fail (exit 1) listing the files that are out of date.")
    var check = false

    @Option(help: "The repository root (default: found from the current folder).")
    var root: String?

    func run() throws {
        let course = try courseRoot(root)
        do {
            if check {
                let stale = try course.staleFiles()
                guard stale.isEmpty else {
                    print("Out of date (run `swift run grader sync`):")
                    stale.forEach { print("  \($0)") }
                    throw ExitCode.failure
                }
                print("Exercises/ and Solutions/ are up to date.")
            } else {
                let changed = try course.sync()
                print(changed.isEmpty ? "Already up to date." : "Updated \(changed.count) files:\n" + changed.map { "  \($0)" }.joined(separator: "\n"))
            }
        } catch let error as GraderError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
