import Foundation

// Steps 2 and 3 of grading: splice the submitted regions into a private copy
// of the reference library, and build it with the lesson and hidden tests.
//
// The copy lives in one fixed folder per course, so SwiftPM's build folder
// stays warm: between two submissions only the files whose regions changed
// are recompiled.

/// A compiler error, located.
public struct CompilerError: Sendable, Equatable {
    /// The file's path inside the workspace (relative to its Kindling folder when there).
    public var file: String
    /// 1-based line and column.
    public var line: Int, column: Int
    /// The compiler's message.
    public var message: String
}

/// Which code goes into each region when the workspace is written.
public enum RegionSource: Sendable, Equatable {
    /// The reference solution.
    case reference
    /// The stub (as in Exercises/).
    case stub
    /// Submitted code.
    case submitted([String])
    /// The reference, behind a runtime switch that turns it into the stub when
    /// the environment variable `KINDLING_GRADER_STUB` names this exercise
    /// (lets `grader verify` check every stub with a single build). A region
    /// with slips (Tests/Slips/slips.json) also holds each slip's mutated
    /// body, chosen when `KINDLING_GRADER_SLIP` names the slip.
    case switchable
}

/// The private package the grader builds and tests.
public struct Workspace: Sendable {
    /// The course whose reference and tests are copied.
    public let course: Course
    /// The workspace folder.
    public let directory: URL

    /// A workspace in `directory` (default: `.build-grader/work` in the course root).
    public init(course: Course, directory: URL? = nil) {
        self.course = course
        self.directory = directory ?? course.root.appendingPathComponent(".build-grader/work")
    }

    /// The test binary produced by `build()`.
    public var testBinary: URL { directory.appendingPathComponent(".build/debug/KindlingGradingPackageTests.xctest") }

    /// Where each region's code sits in the written files (for mapping compiler errors back).
    public typealias RegionLines = [ExerciseID: (file: String, lines: Range<Int>)]

    /// Writes the workspace: the reference library with each region's code
    /// chosen by `source`, the lesson and hidden tests, and a manifest.
    /// Files whose contents are unchanged are not touched (keeps builds incremental).
    @discardableResult
    public func write(_ source: (Region) -> RegionSource) throws -> RegionLines {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        // It holds the reference's regions and the hidden tests: this user's alone,
        // even when a grade runs without isolation.
        try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        var placed: RegionLines = [:]
        var wanted: [String: String] = ["Package.swift": Workspace.manifest]
        // Slips that cannot be applied are left out here; `grader verify` names them.
        let slips = Dictionary(grouping: (try? course.slips()) ?? [], by: \.exercise)
        for file in Course.swiftFiles(under: course.reference) {
            let text = try String(contentsOf: course.reference.appendingPathComponent(file), encoding: .utf8)
            var spliced = text.components(separatedBy: "\n")
            for region in scanRegions(in: text, file: file).regions.reversed() {
                let body: [String]
                switch source(region) {
                case .reference: body = region.body
                case .stub: body = region.stub
                case .submitted(let lines): body = lines
                case .switchable:
                    body = ["\(region.indentation)if graderStubbed(\"\(region.id)\") { \(region.stub[0].trimmingCharacters(in: .whitespaces)) }"]
                        + switchableSlips(region, slips[region.id.description] ?? [])
                }
                spliced.replaceSubrange(region.beginLine..<(region.endLine - 1), with: body)
                // Later regions moved by (new − old) lines; record this one's place now and fix up below.
                let delta = body.count - region.body.count
                for (id, p) in placed where p.file == file { placed[id] = (file, (p.lines.lowerBound + delta)..<(p.lines.upperBound + delta)) }
                placed[region.id] = (file, (region.beginLine + 1)..<(region.beginLine + 1 + body.count))
            }
            wanted["Sources/Kindling/" + file] = spliced.joined(separator: "\n")
        }
        wanted["Sources/Kindling/_GraderStubSwitch.swift"] = Workspace.stubSwitch
        for folder in ["Tests/LessonTests", "Tests/HiddenTests", "Sources/CBLAS", "Sources/CZlib"] {
            let from = course.root.appendingPathComponent(folder)
            for name in (try? fm.subpathsOfDirectory(atPath: from.path)) ?? [] {
                var isDirectory: ObjCBool = false
                let path = from.appendingPathComponent(name).path
                guard fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                wanted[folder + "/" + name] = try String(contentsOfFile: path, encoding: .utf8)
            }
        }
        // Write what changed; delete what is no longer wanted.
        for (path, text) in wanted {
            let url = directory.appendingPathComponent(path)
            if (try? String(contentsOf: url, encoding: .utf8)) == text { continue }
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        for top in ["Sources", "Tests"] {
            let root = directory.appendingPathComponent(top)
            for name in (try? fm.subpathsOfDirectory(atPath: root.path)) ?? [] {
                var isDirectory: ObjCBool = false
                let url = root.appendingPathComponent(name)
                if fm.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                   wanted[top + "/" + name] == nil {
                    try? fm.removeItem(at: url)
                }
            }
        }
        return placed
    }

    /// Copies the built test binary to a fresh folder of its own, readable by
    /// the unprivileged users that run student code, and closes the workspace
    /// (the reference code and the hidden tests' sources) to everyone but its
    /// owner: student code runs from a folder that holds no source.
    public func publishTestBinary() throws -> URL {
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        return try copyIntoFreshFolder(testBinary, readableByAll: true)
    }

    /// Builds the library and the test binary, stopping the build (and every
    /// compiler process under it) after `seconds`.
    ///
    /// Every process of the build (each compiler job) may also use at most
    /// `cpuSeconds` of CPU time and 8 GiB of address space: a region the
    /// compiler's work explodes on then ends its job with SIGXCPU, or an
    /// allocation failure, whose stack dump names the declaration it was
    /// working on ("While type-checking 'S6' (at …/Shape.swift:30:1)").
    public func build(seconds: Double = 900, cpuSeconds: Int = 600) throws -> BuildResult {
        let result = try runProcess("/usr/bin/prlimit", ["--cpu=\(cpuSeconds):\(cpuSeconds + 5)", "--as=\(8 << 30)", "--",
                                                         "/usr/bin/env", "swift", "build", "--build-tests",
                                                         "--package-path", directory.path,
                                                         "--scratch-path", directory.appendingPathComponent(".build").path],
                                    timeout: seconds)
        let root = directory.appendingPathComponent("Sources/Kindling").path
        var errors = parseCompilerErrors(result.output, root: root)
        if result.status != 0 && errors.isEmpty { errors = parseCompilerCrashes(result.output, root: root) }
        return BuildResult(succeeded: result.status == 0 && !result.timedOut, errors: result.status == 0 ? [] : errors,
                           timedOut: result.timedOut, log: result.output)
    }

    /// The manifest of the private package.
    static let manifest = """
    // swift-tools-version:6.0
    // Written by the grader: the reference library with a submission's exercise regions spliced in.
    import PackageDescription

    let package = Package(
        name: "KindlingGrading",
        targets: [
            .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas"),
            .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib"),
            .target(name: "Kindling", dependencies: ["CBLAS", "CZlib"], path: "Sources/Kindling"),
            .testTarget(name: "LessonTests", dependencies: ["Kindling"], path: "Tests/LessonTests"),
            .testTarget(name: "HiddenTests", dependencies: ["Kindling"], path: "Tests/HiddenTests",
                        exclude: ["points.json", "Points"]),
        ]
    )
    """

    /// The body of a switchable region after its stub line: the reference
    /// as it is when no slip applies; otherwise one branch per slip and the
    /// reference in the last `else`, so a mutated body never falls through
    /// into the reference (every region ends its block, so nothing after it
    /// needs its declarations).
    func switchableSlips(_ region: Region, _ slips: [Slip]) -> [String] {
        let mutated = slips.compactMap { slip in (try? slip.mutatedBody(region)).map { (slip.id, $0) } }
        guard !mutated.isEmpty else { return region.body }
        var lines: [String] = []
        for (index, (id, body)) in mutated.enumerated() {
            let quoted = id.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            lines.append("\(region.indentation)\(index == 0 ? "" : "} else ")if graderSlip(\"\(quoted)\") {")
            lines += body
        }
        return lines + ["\(region.indentation)} else {"] + region.body + ["\(region.indentation)}"]
    }

    /// The runtime switch `RegionSource.switchable` uses.
    static let stubSwitch = """
    // Written by the grader for `grader verify`.
    #if canImport(Glibc)
    import Glibc
    #endif

    /// Whether the environment asks for exercise `id` to behave as its stub:
    /// `KINDLING_GRADER_STUB` names it, or `KINDLING_GRADER_STUB_AFTER` names
    /// an earlier exercise (every later one is stubbed).
    func graderStubbed(_ id: String) -> Bool {
        if let value = getenv("KINDLING_GRADER_STUB"), String(cString: value) == id { return true }
        guard let value = getenv("KINDLING_GRADER_STUB_AFTER") else { return false }
        func parts(_ s: String) -> (Int, Int) {
            let p = s.split(separator: ".").compactMap { Int($0) }
            return p.count == 2 ? (p[0], p[1]) : (Int.max, Int.max)
        }
        return parts(id) > parts(String(cString: value))
    }

    /// The slip `KINDLING_GRADER_SLIP` names, read once.
    let graderSlipName: String? = getenv("KINDLING_GRADER_SLIP").map { String(cString: $0) }

    /// Whether the environment asks for the mutated body of slip `id`
    /// (Tests/Slips/slips.json) in place of the reference.
    func graderSlip(_ id: String) -> Bool { graderSlipName == id }
    """
}

/// Where a compiler job that crashed or was stopped (SIGXCPU, out of
/// memory) was working, from its stack dump: "N. While type-checking 'S6'
/// (at /…/Sources/Kindling/Tensor/Shape.swift:30:1)".
func parseCompilerCrashes(_ log: String, root: String) -> [CompilerError] {
    var errors: [CompilerError] = []
    for line in log.components(separatedBy: "\n") where line.contains("While ") {
        guard let at = line.range(of: "(at ", options: .backwards), line.hasSuffix(")") else { continue }
        let location = line[at.upperBound..<line.index(before: line.endIndex)].split(separator: ":")
        guard location.count >= 3, let l = Int(location[location.count - 2]), let c = Int(location[location.count - 1]) else { continue }
        var file = location[..<(location.count - 2)].joined(separator: ":")
        guard file.hasPrefix(root + "/") else { continue }
        file = String(file.dropFirst(root.count + 1))
        let what = line.trimmingCharacters(in: .whitespaces).drop { $0.isNumber || $0 == "." || $0 == " " }
        let error = CompilerError(file: file, line: l, column: c,
                                  message: "the compiler ran out of its CPU-time or memory limit here (\(what.prefix(200)))")
        if !errors.contains(error) { errors.append(error) }
    }
    return errors
}

/// The symbols a link failed on: "multiple definition of 'main'" (gold),
/// "duplicate symbol: main" (lld).
func parseLinkClashes(_ log: String) -> [String] {
    var symbols: [String] = []
    for line in log.components(separatedBy: "\n") {
        var symbol: Substring? = nil
        if let r = line.range(of: "multiple definition of ") {
            symbol = line[r.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "'`‘’ ")).prefix(300)
        } else if let r = line.range(of: "duplicate symbol: ") {
            symbol = line[r.upperBound...].prefix(300)
        }
        if let symbol, !symbol.isEmpty, !symbols.contains(String(symbol)) { symbols.append(String(symbol)) }
    }
    return symbols
}

/// Parses `path:line:column: error: message` lines; paths under `root` are
/// made relative to it.
func parseCompilerErrors(_ log: String, root: String) -> [CompilerError] {
    var errors: [CompilerError] = []
    var seen = Set<String>()
    for line in log.components(separatedBy: "\n") {
        guard let range = line.range(of: ": error: ") else { continue }
        let location = line[..<range.lowerBound].split(separator: ":")
        guard location.count >= 3, let l = Int(location[location.count - 2]), let c = Int(location[location.count - 1]) else { continue }
        var file = location[..<(location.count - 2)].joined(separator: ":")
        if file.hasPrefix(root + "/") { file = String(file.dropFirst(root.count + 1)) }
        let message = String(line[range.upperBound...])
        guard seen.insert("\(file):\(l):\(c):\(message)").inserted else { continue }
        errors.append(CompilerError(file: file, line: l, column: c, message: message))
    }
    return errors
}

/// How a build went.
public struct BuildResult: Sendable {
    /// It finished and produced the test binary.
    public var succeeded: Bool
    /// Compiler errors with a location (empty on success).
    public var errors: [CompilerError]
    /// It ran past its time limit and was stopped.
    public var timedOut: Bool
    /// Everything it printed.
    public var log: String

    /// The lines of the log worth showing when it failed: the errors (a
    /// linker's have no location), or its end.
    public var summary: String {
        if timedOut { return "the build was stopped at its time limit" }
        let lines = log.split(separator: "\n").filter { $0.contains("error") || $0.contains("multiple definition") || $0.contains("duplicate symbol") }
        return (lines.isEmpty ? log.split(separator: "\n").suffix(10) : lines.prefix(10)).joined(separator: "\n")
    }
}

/// Copies `file` into a new folder of its own and returns the copy's path:
/// a folder only this user can open (0700), or with `readableByAll` one the
/// sandbox users can read and run from (0755).
func copyIntoFreshFolder(_ file: URL, readableByAll: Bool = false) throws -> URL {
    let fm = FileManager.default
    guard let folder = sandboxTemporaryDirectory(prefix: "kindling-grader-copy") else {
        throw GraderError.message("cannot create a folder: \(String(cString: strerror(errno)))")
    }
    let copy = URL(fileURLWithPath: folder).appendingPathComponent(file.lastPathComponent)
    try fm.copyItem(at: file, to: copy)
    if readableByAll {
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy.path)
    }
    return copy
}

/// Runs a program to completion, returning its exit status and combined
/// output. With a `timeout`, the program and every process under it are
/// killed when it runs longer, and `timedOut` is set.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                directory: URL? = nil, timeout: Double? = nil) throws -> (status: Int32, output: String, timedOut: Bool) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = directory }
    let output = try outputFile()
    defer { try? output.close() }
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let pid = process.processIdentifier
    let deadline = timeout.map { Date().addingTimeInterval($0) }
    var timedOut = false
    while process.isRunning {
        if let deadline, Date() >= deadline {
            timedOut = true
            killTree(pid)  // the build and the compilers it started
            break
        }
        usleep(20_000)
    }
    process.waitUntilExit()
    try? output.seek(toOffset: 0)
    let data = (try? output.readToEnd()) ?? Data()
    return (timedOut ? -1 : process.terminationStatus, String(decoding: data, as: UTF8.self), timedOut)
}

/// A new, already unlinked file for a program's output (a file, not a pipe:
/// a compiler's grandchild that outlives it cannot keep the reader waiting).
private func outputFile() throws -> FileHandle {
    guard let folder = sandboxTemporaryDirectory(prefix: "kindling-grader-output") else {
        throw GraderError.message("cannot create a temporary folder: \(String(cString: strerror(errno)))")
    }
    defer { sandboxRemoveTree(folder) }
    let path = folder + "/output"
    guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
          let handle = FileHandle(forUpdatingAtPath: path) else {
        throw GraderError.message("cannot create \(path): \(String(cString: strerror(errno)))")
    }
    return handle
}

/// Exclusive use of a workspace folder, machine-wide: a `flock` on
/// `<folder>.lock` beside it, held until the lock is dropped (or the process
/// ends). Two grades at once never share a folder — one would build or test
/// the other's code — so a grade takes the first free folder of a small
/// pool (`work`, `work-2`, …), each kept warm for the next grade.
public final class WorkspaceLock: @unchecked Sendable {
    /// The folder this lock holds.
    public let workspace: Workspace
    private let descriptor: Int32

    private init(workspace: Workspace, descriptor: Int32) {
        self.workspace = workspace
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Takes the first free folder of `workspace`'s pool (`pool` folders:
    /// the folder itself, then `-2`, `-3`, …), waiting up to `waitSeconds`
    /// when all are held.
    public static func acquire(_ workspace: Workspace, pool: Int = 4, waitSeconds: Double = 3600,
                               progress: ProgressReporter = { _ in }) throws -> WorkspaceLock {
        let base = workspace.directory
        let candidates = (1...max(1, pool)).map { n in
            n == 1 ? workspace
                : Workspace(course: workspace.course,
                            directory: base.deletingLastPathComponent().appendingPathComponent("\(base.lastPathComponent)-\(n)"))
        }
        var descriptors: [Int32] = []
        defer { descriptors.filter { $0 >= 0 }.forEach { close($0) } }
        for candidate in candidates {
            let parent = candidate.directory.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
            let path = parent.appendingPathComponent(candidate.directory.lastPathComponent + ".lock").path
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { throw GraderError.message("cannot open the lock \(path): \(String(cString: strerror(errno)))") }
            descriptors.append(fd)
        }
        let giveUp = Date().addingTimeInterval(waitSeconds)
        var said = false
        while true {
            for (index, fd) in descriptors.enumerated() where flock(fd, LOCK_EX | LOCK_NB) == 0 {
                descriptors[index] = -1  // kept open by the lock
                return WorkspaceLock(workspace: candidates[index], descriptor: fd)
            }
            if Date() >= giveUp {
                throw GraderError.message("every grading folder (\(base.path) and \(pool - 1) more) stayed in use by other "
                                          + "grades for \(Int(waitSeconds)) s")
            }
            if !said {
                progress("Waiting for another grade to finish with \(base.path)…")
                said = true
            }
            usleep(200_000)
        }
    }
}

/// Kills `root` and every process below it (again until none is left,
/// since a dying build may still be starting some).
func killTree(_ root: pid_t) {
    for _ in 0..<5 {
        let all = processTree(root: root)
        for pid in all { kill(pid, SIGSTOP) }  // no new children while we kill
        for pid in all { kill(pid, SIGKILL) }
        if all.count == 1 { return }
        usleep(50_000)
    }
}
