// Writing a grade report: the formats, the atomic write that never leaves a
// half-written report behind, the fallback when rendering itself fails, and
// the exit codes scripts can rely on.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The ways `grader grade` can write its report.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// For people, the default: totals, lessons and exercises, then every
    /// failing test with its message, output and the command that reproduces
    /// it; ends with the line `N passed, M failed`. Fits an 80-column terminal.
    case text
    /// The `GradeReport` itself as JSON (sorted keys, pretty-printed), plus
    /// the computed `score` and `maxScore`; decodes back into a `GradeReport`.
    case json
    /// Gradescope's `results.json` (DESIGN §5): one entry per test, plus a
    /// zero-point entry per exercise note (compile error, damaged marker).
    case gradescope
    /// JUnit XML for CI dashboards: a `<testsuite>` per lesson, a
    /// `<testcase>` per test.
    case junit
}

/// Renders the report in the format.
///
/// - Parameter useColor: ANSI colours in the text format (ignored by the
///   others); pass `true` only when writing to a terminal.
/// - Throws: `EncodingError` when a number in the report is not finite
///   (JSON cannot express NaN or infinity). ``writeReport(_:format:to:useColor:)``
///   then writes a minimal report stating the error instead.
public func render(_ report: GradeReport, as format: ReportFormat, useColor: Bool = false) throws -> String {
    switch format {
    case .text: return renderText(report, useColor: useColor)
    case .json: return try renderJSON(report)
    case .gradescope: return try renderGradescope(report)
    case .junit: return renderJUnit(report)
    }
}

/// A minimal report in the format that states `error` — what is written when
/// the full report cannot be rendered. It cannot fail: it is built from the
/// submission's path, the error and the test counts only.
public func renderFallback(_ report: GradeReport, as format: ReportFormat, error: String) -> String {
    let message = "The grader could not write its full report: \(error)"
        + (report.error.map { "\nGrader error: \($0)" } ?? "")
    let counts = report.passFailCounts
    switch format {
    case .text:
        return """
            Kindling grader report
            Submission: \(ReportText.sanitized(report.submission, keepNewlines: false))

            !!! GRADER ERROR !!!
            \(ReportText.sanitized(message))

            \(counts.passed) passed, \(counts.failed) failed

            """
    case .json:
        return """
            {
              "error" : \(jsonString(message)),
              "submission" : \(jsonString(report.submission))
            }

            """
    case .gradescope:
        return """
            {
              "execution_time" : 0,
              "extra_data" : {

              },
              "leaderboard" : [

              ],
              "output" : \(jsonString(message + "\nYour score is 0 until the course staff regrade this submission.")),
              "output_format" : "text",
              "score" : 0,
              "stdout_visibility" : "hidden",
              "tests" : [

              ],
              "visibility" : "visible"
            }

            """
    case .junit:
        let text = xmlEscaped(message)
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="Kindling grader" tests="1" failures="0" errors="1" skipped="0" time="0">
              <testsuite name="Grader" tests="1" failures="0" errors="1" skipped="0" time="0">
                <testcase classname="Grader" name="report" time="0">
                  <error message="\(xmlEscaped(ReportText.clipped(message, to: 500), attribute: true))" type="grader error">\(text)</error>
                </testcase>
              </testsuite>
            </testsuites>

            """
    }
}

/// A JSON string literal for any text: quotes, backslashes and control
/// characters escaped. Never fails.
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

// MARK: - JSON

/// The report with its computed totals, for the `json` format.
private struct JSONEnvelope: Encodable {
    let report: GradeReport
    enum Totals: String, CodingKey { case score, maxScore }

    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var totals = encoder.container(keyedBy: Totals.self)
        try totals.encode(report.score, forKey: .score)
        try totals.encode(report.maxScore, forKey: .maxScore)
    }
}

func renderJSON(_ report: GradeReport) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(JSONEnvelope(report: report)), as: UTF8.self) + "\n"
}

// MARK: - Writing

/// Why a report could not be written.
public struct ReportWriteError: Error, CustomStringConvertible {
    /// The file being written.
    public var path: String
    /// What failed, with the system's reason.
    public var reason: String
    /// `cannot write PATH: REASON`.
    public var description: String { "cannot write \(path): \(reason)" }
}

/// Writes `text` to `path` so that a reader never sees half of it: the text
/// goes to a temporary file in the same folder, is flushed to disk, and is
/// then renamed over `path` (replacing any file there) in one step. A
/// symbolic link at `path` is followed, so the file it points to is replaced.
/// When `path` is not a regular file — `/dev/stdout`, a pipe — the text is
/// written to it directly.
///
/// - Throws: ``ReportWriteError`` when the folder is missing or not writable;
///   no temporary file is left behind.
public func writeAtomically(_ text: String, to path: String) throws {
    var target = path
    var info = stat()
    if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
        target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
    if stat(target, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw ReportWriteError(path: path, reason: "is a directory")
        }
        try writeAll(text, to: target, flags: O_WRONLY | O_APPEND, original: path)
        return
    }

    let url = URL(fileURLWithPath: target)
    let folder = url.deletingLastPathComponent().path
    let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    do {
        try writeAll(text, to: temporary, flags: O_WRONLY | O_CREAT | O_EXCL, original: path)
        guard rename(temporary, target) == 0 else {
            throw ReportWriteError(path: path, reason: String(cString: strerror(errno)))
        }
    } catch {
        unlink(temporary)
        throw error
    }
}

/// Opens `file`, writes every byte of `text` and flushes it to disk.
private func writeAll(_ text: String, to file: String, flags: Int32, original: String) throws {
    let fd = open(file, flags | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw ReportWriteError(path: original, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    try writeAll(text, to: fd, name: original)
    // fsync fails with EINVAL on pipes and terminals; that is fine there.
    if fsync(fd) != 0, errno != EINVAL, errno != EROFS {
        throw ReportWriteError(path: original, reason: String(cString: strerror(errno)))
    }
}

/// Writes every byte of `text` to an open file descriptor.
private func writeAll(_ text: String, to fd: Int32, name: String) throws {
    let bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw ReportWriteError(path: name, reason: String(cString: strerror(errno)))
        }
        written += n
    }
}

/// Renders the report and writes it to `path` atomically (see
/// ``writeAtomically(_:to:)``), or to standard output when `path` is `nil`
/// or `-`.
///
/// Something is always written: when rendering fails, a minimal report in the
/// same format states the error (see ``renderFallback(_:as:error:)``).
///
/// - Parameter useColor: colour the text report; honoured only when writing
///   to standard output (see ``standardOutputSupportsColor()``), never in a file.
/// - Returns: the exit code the run calls for — ``GraderExitCode/internalError``
///   when rendering failed, otherwise ``GraderExitCode/init(report:)``. A
///   caller that knows better (the submission could not be read) uses its own.
/// - Throws: ``ReportWriteError`` when the file cannot be written; the caller
///   should then exit with ``GraderExitCode/reportNotWritten``.
@discardableResult
public func writeReport(_ report: GradeReport, format: ReportFormat = .text, to path: String?,
                        useColor: Bool = false) throws -> GraderExitCode {
    var code = GraderExitCode(report: report)
    let toStandardOutput = path == nil || path == "-"
    let text: String
    do {
        text = try render(report, as: format, useColor: useColor && toStandardOutput)
    } catch {
        text = renderFallback(report, as: format, error: "\(error)")
        code = .internalError
    }
    if let path, !toStandardOutput {
        try writeAtomically(text, to: path)
    } else {
        try writeAll(text, to: STDOUT_FILENO, name: "standard output")
    }
    return code
}

/// Whether standard output is a terminal that wants colour: a TTY, `NO_COLOR`
/// unset, and `TERM` not `dumb`.
public func standardOutputSupportsColor() -> Bool {
    let environment = ProcessInfo.processInfo.environment
    return isatty(STDOUT_FILENO) == 1 && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
}

// MARK: - Exit codes

/// The exit status of `grader grade`, which scripts can rely on. Whatever
/// the code, a report has been written — except for `usage` (nothing was
/// graded) and `reportNotWritten`.
///
/// | code | meaning |
/// |------|---------|
/// | 0 | graded; every test passed, full marks |
/// | 1 | graded; some points were lost (a test failed, crashed, timed out, ran out of memory or did not run) |
/// | 2 | usage error: bad arguments or options; nothing graded, no report |
/// | 3 | the submission could not be read (missing, unreadable, or holding no exercise regions); a report saying so was written |
/// | 4 | the grader itself failed (could not build the tests, a bug); the report, possibly partial, was written with its `error` set |
/// | 5 | the report could not be written (its folder is missing or not writable) |
///
/// Gradescope and similar runners should ignore the code and read the
/// report: a student's lost points are not a failure of the run.
public enum GraderExitCode: Int32, Sendable, CaseIterable {
    /// Graded; every test passed, full marks.
    case success = 0
    /// Graded; some points were lost.
    case pointsLost = 1
    /// Bad command-line arguments; nothing graded.
    case usage = 2
    /// The submission could not be read; a report saying so was written.
    case submissionUnreadable = 3
    /// The grader itself failed; the report (possibly partial) was written.
    case internalError = 4
    /// The report could not be written.
    case reportNotWritten = 5

    /// The code a written report calls for: `internalError` when its `error`
    /// is set, `success` when every test passed and the score is full,
    /// otherwise `pointsLost`.
    public init(report: GradeReport) {
        if report.error != nil {
            self = .internalError
        } else if report.tests.allSatisfy({ $0.verdict == .passed }) && !(report.score < report.maxScore) {
            self = .success
        } else {
            self = .pointsLost
        }
    }
}
