// Fuzz target `markers`: the exercise regions of a submitted file.
//
// The grader reads a submitted file as UTF-8 (a file that is not is ignored
// and reported), then scanRegions finds its regions and rewriteRegions
// splices code into them. Any text must scan without trapping, and:
//
// * each region's body is exactly the lines between its markers;
// * rewriting every region with its own body, or leaving it alone, gives
//   back the text unchanged;
// * replacing every body with its stub keeps the same regions.

import Foundation
import GraderKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = String(data: Data(bytes: data, count: size), encoding: .utf8) else { return 0 }
    let file = "Kindling/Fuzz.swift"
    let scan = scanRegions(in: text, file: file)
    let lines = text.components(separatedBy: "\n")

    var previousEnd = 0
    for region in scan.regions {
        check(previousEnd < region.beginLine && region.beginLine < region.endLine && region.endLine <= lines.count,
                     "region \(region.id) at lines \(region.beginLine)–\(region.endLine) of \(lines.count), after \(previousEnd)")
        let between = Array(lines[region.beginLine..<(region.endLine - 1)])
        check(region.body == between,
                     "region \(region.id): body \(region.body) is not the lines between its markers, \(between)")
        _ = region.stub
        previousEnd = region.endLine
    }
    for problem in scan.problems {
        check(problem.file == file && problem.line >= 1 && problem.line <= lines.count, "\(problem)")
    }

    check(rewriteRegions(in: text, file: file) { _ in nil } == text, "rewriting nothing changed the text")
    check(rewriteRegions(in: text, file: file) { $0.body } == text, "rewriting each body with itself changed the text")
    let stubbed = rewriteRegions(in: text, file: file) { $0.stub }
    let again = scanRegions(in: stubbed, file: file)
    check(again.regions.map(\.id) == scan.regions.map(\.id),
                 "stubbing changed the regions: \(scan.regions.map(\.id)) → \(again.regions.map(\.id))")
    return 0
}

/// Stops with `message` unless `condition` holds. (`precondition` would do,
/// but an optimized build drops its message; `fatalError` keeps it.)
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
