import Foundation

// Step 1 of grading: collect the exercise regions a student submitted.
// Only regions are taken. Everything else — edited tests, a changed
// Package.swift, helper files — is ignored and listed, so a student can see
// that it did not count (and cannot change what is being tested).

/// What a submission holds, as far as grading is concerned.
public struct Submission: Sendable {
    /// The folder that was scanned.
    public var path: String
    /// The submitted code of each exercise, by id (the first copy wins).
    public var regions: [ExerciseID: Region]
    /// Problems per exercise: damaged markers, duplicates.
    public var problems: [ExerciseID: [String]]
    /// Marker problems that cannot be tied to one exercise.
    public var generalProblems: [String]
    /// Files, or parts of files, that were ignored.
    public var ignored: [String]
}

/// Scans every `.swift` file under `folder` (skipping build folders) for
/// exercise regions. `exercises` are the course's known exercises; regions
/// with other ids are ignored. `generated` maps a relative path to the text
/// the course generated for it (the stubbed workspace), so edits outside the
/// regions of a workspace file can be reported as ignored.
public func collectSubmission(at folder: URL, exercises: Set<ExerciseID>,
                              generated: [String: String] = [:]) throws -> Submission {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
        throw GraderError.message("submission not found: \(folder.path)")
    }
    let files: [String]
    let base: URL
    if isDirectory.boolValue {
        base = folder
        files = Course.swiftFiles(under: folder).filter { !$0.split(separator: "/").contains { $0.hasPrefix(".build") } }
    } else {
        base = folder.deletingLastPathComponent()
        files = [folder.lastPathComponent]
    }
    var submission = Submission(path: folder.path, regions: [:], problems: [:], generalProblems: [], ignored: [])
    for file in files {
        // A link could point anywhere the grader can read — the reference,
        // another student's work. Only the submission's own files count.
        if let link = symbolicLinkOnPath(file, under: base) {
            submission.ignored.append("\(file) (\(link) is a symbolic link; links are not followed)")
            continue
        }
        guard let text = try? String(contentsOf: base.appendingPathComponent(file), encoding: .utf8) else {
            submission.ignored.append("\(file) (not readable as UTF-8 text)")
            continue
        }
        let scan = scanRegions(in: text, file: file)
        for problem in scan.problems {
            if let id = problem.id, exercises.contains(id) {
                submission.problems[id, default: []].append("damaged marker: \(problem)")
            } else {
                submission.generalProblems.append("damaged marker: \(problem)")
            }
        }
        if scan.regions.isEmpty && scan.problems.isEmpty {
            submission.ignored.append("\(file) (no exercise regions)")
            continue
        }
        for region in scan.regions {
            guard exercises.contains(region.id) else {
                submission.ignored.append("\(file):\(region.beginLine) (unknown exercise \(region.id))")
                continue
            }
            if let first = submission.regions[region.id] {
                submission.problems[region.id, default: []].append(
                    "exercise \(region.id) appears twice (\(first.file):\(first.beginLine) and \(file):\(region.beginLine)); the first was graded")
                continue
            }
            submission.regions[region.id] = region
        }
        // Edits outside the regions of a workspace file are not graded: say so.
        if let expected = matchingGenerated(file, generated) {
            let outside = rewriteRegions(in: text, file: file) { $0.stub }
            if outside != expected {
                submission.ignored.append("\(file) (changes outside exercise regions)")
            }
        }
    }
    // A region damaged in one place but intact in another still counts.
    for id in submission.regions.keys where submission.problems[id] != nil {
        submission.problems[id] = submission.problems[id]?.filter { !$0.hasPrefix("damaged marker") }
        if submission.problems[id]?.isEmpty == true { submission.problems[id] = nil }
    }
    submission.ignored.sort()
    return submission
}

/// The generated text for a submitted file, matched by the longest common path suffix.
private func matchingGenerated(_ file: String, _ generated: [String: String]) -> String? {
    if let exact = generated[file] { return exact }
    return generated.first { file.hasSuffix("/" + $0.key) || $0.key.hasSuffix("/" + file) }?.value
}

/// The first part of `relative` (a path under `base`) that is a symbolic
/// link, e.g. `Kindling/Scalar` or `Kindling/Scalar/Value.swift`; nil when
/// there is none.
func symbolicLinkOnPath(_ relative: String, under base: URL) -> String? {
    var path = base.path
    var shown: [Substring] = []
    for part in relative.split(separator: "/") {
        path += "/" + part
        shown.append(part)
        var info = stat()
        if lstat(path, &info) != 0 || (info.st_mode & S_IFMT) == S_IFLNK { return shown.joined(separator: "/") }
    }
    return nil
}
