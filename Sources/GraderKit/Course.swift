import Foundation

/// The course's files, found from the repository root: the reference library
/// with its exercise regions, the generated workspace and answer key, the
/// lesson texts and the tests.
public struct Course: Sendable {
    /// The repository root (holds Package.swift).
    public let root: URL

    /// A course rooted at `root`.
    public init(root: URL) { self.root = root }

    /// The reference library: the single source of every exercise region.
    public var reference: URL { root.appendingPathComponent("Sources/Kindling") }
    /// The learner's workspace, generated: the library with stubs.
    public var exercises: URL { root.appendingPathComponent("Exercises/Kindling") }
    /// The answer key, generated: every region's reference code, one file per lesson.
    public var solutions: URL { root.appendingPathComponent("Solutions") }
    /// The lesson texts.
    public var lessons: URL { root.appendingPathComponent("Lessons") }

    /// Every `.swift` file under `folder`, as sorted relative paths.
    public static func swiftFiles(under folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        var files: [String] = []
        let base = folder.standardizedFileURL.path
        for case let url as URL in walker where url.pathExtension == "swift" {
            let path = url.standardizedFileURL.path
            files.append(String(path.dropFirst(base.count + 1)))
        }
        return files.sorted()
    }

    /// Every region of the reference library, with any marker problems.
    public func referenceRegions() throws -> (regions: [Region], problems: [MarkerProblem]) {
        var regions: [Region] = [], problems: [MarkerProblem] = []
        for file in Course.swiftFiles(under: reference) {
            let text = try String(contentsOf: reference.appendingPathComponent(file), encoding: .utf8)
            let scan = scanRegions(in: text, file: file)
            regions += scan.regions
            problems += scan.problems
        }
        var seen: [ExerciseID: Region] = [:]
        for r in regions {
            if let first = seen[r.id] {
                problems.append(.init(file: r.file, line: r.beginLine, id: r.id,
                                      message: "exercise \(r.id) is already defined at \(first.file):\(first.beginLine)"))
            }
            seen[r.id] = seen[r.id] ?? r
        }
        return (regions, problems)
    }

    /// The lesson files' titles by lesson number, from each file's first `# ` heading.
    public func lessonTitles() -> [Int: String] {
        var titles: [Int: String] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: lessons.path)) ?? []
        for name in names where name.hasSuffix(".md") {
            guard let number = Int(name.prefix(while: \.isNumber)) else { continue }
            let text = (try? String(contentsOf: lessons.appendingPathComponent(name), encoding: .utf8)) ?? ""
            let heading = text.components(separatedBy: "\n").first { $0.hasPrefix("# ") }
            var title = heading.map { String($0.dropFirst(2)) } ?? name
            // "Lesson 3 — Broadcasting" → "Broadcasting": the number is shown anyway.
            if let dash = title.range(of: " — "), title.hasPrefix("Lesson") { title = String(title[dash.upperBound...]) }
            titles[number] = title
        }
        return titles
    }
}
