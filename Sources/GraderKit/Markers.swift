import Foundation

// Exercise regions live once, in the reference library, between two marker
// comments:
//
//     // BEGIN EXERCISE 1.2 — the product rule (Lessons/01-scalar-autograd.md)
//     … reference code …
//     // END EXERCISE 1.2
//
// Everything the course machinery does — stubs, solutions, splicing a
// student's code into the reference — starts from parsing these markers.

/// One exercise region found in a source file.
public struct Region: Sendable, Equatable {
    /// The exercise id from the markers.
    public var id: ExerciseID
    /// The short title after the dash.
    public var title: String
    /// The lesson text that explains it, e.g. `Lessons/01-scalar-autograd.md`.
    public var lessonFile: String
    /// The file it was found in, relative to the folder that was scanned.
    public var file: String
    /// The lines between the markers (without the markers).
    public var body: [String]
    /// The BEGIN marker's leading whitespace; stubs are indented to match.
    public var indentation: String
    /// 1-based line numbers of the BEGIN and END markers.
    public var beginLine: Int, endLine: Int

    /// The BEGIN marker line.
    public var beginMarker: String { "\(indentation)// BEGIN EXERCISE \(id) — \(title) (\(lessonFile))" }
    /// The END marker line.
    public var endMarker: String { "\(indentation)// END EXERCISE \(id)" }

    /// The stub a learner starts from: compiles anywhere a statement may
    /// stand, and fails loudly, naming the exercise and where to read.
    public var stub: [String] {
        ["\(indentation)fatalError(\"Exercise \(id) is not done yet: \(title.replacingOccurrences(of: "\"", with: "'")) — see \(lessonFile)\")"]
    }
}

/// Something wrong with the markers of a file.
public struct MarkerProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, relative to the scanned folder.
    public var file: String
    /// The 1-based line.
    public var line: Int
    /// The exercise concerned, when known.
    public var id: ExerciseID?
    /// What is wrong, in words a student can act on.
    public var message: String

    public var description: String { "\(file):\(line): \(message)" }
}

/// The result of scanning one file's text for regions.
public struct MarkerScan: Sendable {
    /// Well-formed regions, in order.
    public var regions: [Region]
    /// Damaged markers: a BEGIN without END, an END without BEGIN, a nested
    /// BEGIN, mismatched ids, an unreadable marker.
    public var problems: [MarkerProblem]
}

private let beginPattern = try! NSRegularExpression(
    pattern: #"^(\s*)//\s*BEGIN EXERCISE\s+(\S+)\s+—\s+(.*?)\s+\((Lessons/[^)]+)\)\s*$"#)
private let endPattern = try! NSRegularExpression(pattern: #"^\s*//\s*END EXERCISE\s+(\S+)\s*$"#)
private let anyMarker = try! NSRegularExpression(pattern: #"^\s*//\s*(BEGIN|END)\s+EXERCISE\b"#)

private func groups(_ re: NSRegularExpression, _ line: String) -> [String]? {
    let ns = line as NSString
    guard let m = re.firstMatch(in: line, range: NSRange(location: 0, length: ns.length)) else { return nil }
    return (1..<m.numberOfRanges).map { m.range(at: $0).location == NSNotFound ? "" : ns.substring(with: m.range(at: $0)) }
}

/// Finds the exercise regions of one file's text.
public func scanRegions(in text: String, file: String) -> MarkerScan {
    let lines = text.components(separatedBy: "\n")
    var regions: [Region] = [], problems: [MarkerProblem] = []
    var open: Region?
    for (index, line) in lines.enumerated() {
        let number = index + 1
        if let g = groups(beginPattern, line) {
            guard let id = ExerciseID(g[1]) else {
                problems.append(.init(file: file, line: number, id: nil, message: "BEGIN marker has an invalid exercise id '\(g[1])' (expected LESSON.N, e.g. 1.2)"))
                continue
            }
            if let current = open {
                problems.append(.init(file: file, line: number, id: current.id,
                                      message: "BEGIN EXERCISE \(id) appears before END EXERCISE \(current.id) (opened at line \(current.beginLine)); regions cannot nest"))
            }
            open = Region(id: id, title: g[2], lessonFile: g[3], file: file, body: [], indentation: g[0],
                          beginLine: number, endLine: number)
        } else if let g = groups(endPattern, line) {
            guard let current = open else {
                problems.append(.init(file: file, line: number, id: ExerciseID(g[0]),
                                      message: "END EXERCISE \(g[0]) has no matching BEGIN marker above it"))
                continue
            }
            if ExerciseID(g[0]) != current.id {
                problems.append(.init(file: file, line: number, id: current.id,
                                      message: "END EXERCISE \(g[0]) closes BEGIN EXERCISE \(current.id) (line \(current.beginLine)); the ids must match"))
            } else {
                var done = current
                done.endLine = number
                regions.append(done)
            }
            open = nil
        } else if anyMarker.firstMatch(in: line, range: NSRange(location: 0, length: (line as NSString).length)) != nil {
            problems.append(.init(file: file, line: number, id: nil,
                                  message: "unreadable exercise marker: expected '// BEGIN EXERCISE N.M — title (Lessons/…)' or '// END EXERCISE N.M'"))
        } else if open != nil {
            open!.body.append(line)
        }
    }
    if let current = open {
        problems.append(.init(file: file, line: current.beginLine, id: current.id,
                              message: "BEGIN EXERCISE \(current.id) has no END EXERCISE \(current.id) marker"))
    }
    return MarkerScan(regions: regions, problems: problems)
}

/// Replaces the body of every region in `text` using `replacement` (given the
/// region, returns the new body lines; `nil` keeps the current body).
public func rewriteRegions(in text: String, file: String, _ replacement: (Region) -> [String]?) -> String {
    let scan = scanRegions(in: text, file: file)
    var lines = text.components(separatedBy: "\n")
    // Work from the bottom so earlier line numbers stay valid.
    for region in scan.regions.reversed() {
        guard let body = replacement(region) else { continue }
        lines.replaceSubrange(region.beginLine..<(region.endLine - 1), with: body)
    }
    return lines.joined(separator: "\n")
}
