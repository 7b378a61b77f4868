import Foundation

// `grader apply SUBMISSION --to DIR`: a learner's workspace with a
// submission's regions filled in — e.g. the answer key, to see the payoff of
// the course (the workspace training a network) without writing every
// exercise first.

extension Course {
    /// Writes the workspace (`Exercises/Kindling`'s files) to `output`, each
    /// region holding the submission's code where it has some and the stub
    /// elsewhere. Returns the exercises filled in.
    @discardableResult
    public func apply(_ submission: Submission, to output: URL) throws -> [ExerciseID] {
        let fm = FileManager.default
        var applied: [ExerciseID] = []
        for file in try generatedFiles() where file.path.hasPrefix("Exercises/Kindling/") {
            let relative = String(file.path.dropFirst("Exercises/Kindling/".count))
            let text = rewriteRegions(in: file.text, file: relative) { region in
                guard let mine = submission.regions[region.id], submission.problems[region.id] == nil else { return nil }
                applied.append(region.id)
                return mine.body
            }
            let url = output.appendingPathComponent(relative)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if (try? String(contentsOf: url, encoding: .utf8)) != text {
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
        }
        return applied.sorted()
    }
}
