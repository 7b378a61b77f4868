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
    /// Local constants and variables of the enclosing function, declared
    /// before the region and read nowhere outside it. The stub reads them
    /// (`_ = name;`) so that a stubbed workspace compiles without
    /// "never used" warnings (see `unusedOutsideRegion`).
    public var stubUses: [String] = []

    /// The BEGIN marker line.
    public var beginMarker: String { "\(indentation)// BEGIN EXERCISE \(id) — \(title) (\(lessonFile))" }
    /// The END marker line.
    public var endMarker: String { "\(indentation)// END EXERCISE \(id)" }

    /// The stub a learner starts from: compiles anywhere a statement may
    /// stand, and fails loudly, naming the exercise and where to read.
    /// One line, so that it can stand inside braces too; it first reads the
    /// locals only the region's code reads (`stubUses`), so that a stubbed
    /// library builds without a single warning.
    public var stub: [String] {
        let uses = stubUses.isEmpty ? ""
            : "_ = " + (stubUses.count == 1 ? stubUses[0] : "(" + stubUses.joined(separator: ", ") + ")") + "; "
        return ["\(indentation)\(uses)fatalError(\"Exercise \(id) is not done yet: \(title.replacingOccurrences(of: "\"", with: "'")) — see \(lessonFile)\")"]
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
        let begin = groups(beginPattern, line)
        if let g = begin, let id = ExerciseID(g[1]) {
            if let current = open {
                problems.append(.init(file: file, line: number, id: current.id,
                                      message: "BEGIN EXERCISE \(id) appears before END EXERCISE \(current.id) (opened at line \(current.beginLine)); regions cannot nest"))
            }
            open = Region(id: id, title: g[2], lessonFile: g[3], file: file, body: [], indentation: g[0],
                          beginLine: number, endLine: number)
            continue
        }
        if let g = groups(endPattern, line) {
            if let current = open {
                if ExerciseID(g[0]) != current.id {
                    problems.append(.init(file: file, line: number, id: current.id,
                                          message: "END EXERCISE \(g[0]) closes BEGIN EXERCISE \(current.id) (line \(current.beginLine)); the ids must match"))
                } else {
                    var done = current
                    done.endLine = number
                    regions.append(done)
                }
                open = nil
            } else {
                problems.append(.init(file: file, line: number, id: ExerciseID(g[0]),
                                      message: "END EXERCISE \(g[0]) has no matching BEGIN marker above it"))
            }
            continue
        }
        // Any other line. A damaged marker is reported; and inside a region,
        // every line that does not close it belongs to its body, damaged
        // markers too, so that the body is exactly the lines between the markers.
        if let g = begin {
            problems.append(.init(file: file, line: number, id: nil, message: "BEGIN marker has an invalid exercise id '\(g[1])' (expected LESSON.N, e.g. 1.2)"))
        } else if anyMarker.firstMatch(in: line, range: NSRange(location: 0, length: (line as NSString).length)) != nil {
            problems.append(.init(file: file, line: number, id: nil,
                                  message: "unreadable exercise marker: expected '// BEGIN EXERCISE N.M — title (Lessons/…)' or '// END EXERCISE N.M'"))
        }
        open?.body.append(line)
    }
    if let current = open {
        problems.append(.init(file: file, line: current.beginLine, id: current.id,
                              message: "BEGIN EXERCISE \(current.id) has no END EXERCISE \(current.id) marker"))
    }
    for index in regions.indices {
        regions[index].stubUses = unusedOutsideRegion(regions[index], lines: lines)
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

private let localDeclaration = try! NSRegularExpression(
    pattern: #"^(?:guard\s+)?(?:let|var)\s+(?:([A-Za-z_][A-Za-z0-9_]*)|\(([^)]*)\))"#)
private let functionStart = try! NSRegularExpression(
    pattern: #"^(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|open|static|class|final|override|mutating|nonmutating|convenience|required)\s+)*(?:func|init|deinit|subscript)\b|^(?:(?:public|private|fileprivate|internal|open|static|class|final|override)\s+)*var\s+\w+\s*:.*\{\s*$"#)

private func indentWidth(_ line: String) -> Int { line.prefix { $0 == " " || $0 == "\t" }.count }

/// The locals a stub must read so that its file compiles without warnings:
/// constants and variables of the enclosing function (in the region's scope
/// or one enclosing it, up to the `func`) declared before the region, that
/// the function's code outside the region never reads. With the region
/// stubbed, the compiler would say "never used" about each of them.
///
/// A line-based reading of well-formatted code (one statement a line, nested
/// scopes indented deeper), which the reference library is; `swift build`
/// of the stubbed workspace is the proof, and the course tests check it.
func unusedOutsideRegion(_ region: Region, lines: [String]) -> [String] {
    func code(_ line: String) -> String {
        // Drop a trailing `//` comment (good enough: the library's string literals hold no `//`).
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("//") { return "" }
        if let range = trimmed.range(of: " //") { return String(trimmed[..<range.lowerBound]) }
        return trimmed
    }
    // Walk up from the BEGIN marker to the function that holds the region,
    // collecting declarations at the level of each enclosing scope.
    var level = indentWidth(region.indentation)
    var declared: [(name: String, line: Int)] = []
    var functionLine: Int?
    var signatureEnd = false  // the last opener was `) -> T {`: a signature spread over lines
    var index = region.beginLine - 2  // 0-based line just above the BEGIN marker
    while index >= 0 {
        let line = lines[index], text = code(line)
        defer { index -= 1 }
        if text.isEmpty { continue }
        let width = indentWidth(line), ns = text as NSString
        if width < level || (width == level && signatureEnd) {
            level = width  // an enclosing scope's opening line
            if functionStart.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) != nil {
                functionLine = index
                break
            }
            signatureEnd = text.hasPrefix(")")
            if signatureEnd { continue }
        }
        guard width == level else { continue }
        guard let m = localDeclaration.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) else { continue }
        let names = m.range(at: 1).location != NSNotFound
            ? [ns.substring(with: m.range(at: 1))]
            : ns.substring(with: m.range(at: 2)).split(separator: ",").map {
                String($0.trimmingCharacters(in: .whitespaces).prefix { $0.isLetter || $0.isNumber || $0 == "_" })
            }.filter { !$0.isEmpty && $0 != "_" }
        for name in names where !declared.contains(where: { $0.name == name }) { declared.append((name, index)) }
    }
    guard let functionLine else { return [] }
    // The function's lines outside the region: to its closing brace.
    let functionWidth = indentWidth(lines[functionLine])
    var end = region.endLine  // 0-based line just below the END marker
    while end < lines.count {
        let line = lines[end]
        if !code(line).isEmpty, indentWidth(line) <= functionWidth { break }
        end += 1
    }
    let outside = Array((functionLine + 1)..<(region.beginLine - 1)) + Array(region.endLine..<min(end + 1, lines.count))
    return declared.reversed().compactMap { declaration in
        let name = declaration.name
        let word = try! NSRegularExpression(pattern: "(?<![A-Za-z0-9_.$])" + NSRegularExpression.escapedPattern(for: name) + "(?![A-Za-z0-9_])")
        let assignment = try! NSRegularExpression(pattern: "^" + NSRegularExpression.escapedPattern(for: name) + "\\s*=[^=]")
        let read = outside.contains { lineIndex in
            guard lineIndex != declaration.line else { return false }
            let text = code(lines[lineIndex]), ns = text as NSString
            if assignment.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) != nil { return false }
            return word.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) != nil
        }
        return read ? nil : name
    }
}
