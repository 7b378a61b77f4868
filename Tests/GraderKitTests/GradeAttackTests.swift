import Foundation
import Testing
@testable import GraderKit

// The grader's word against a hostile submission, end to end on the real
// course (the attacks of the grader's README section, "Trust"). Each lesson-1
// region of one submission attacks the grader a different way; every attack
// must score 0 on the tests it touches, be reported, and leave the other
// tests' results alone. The build-time attacks (a link-time clash, a region
// the compiler chokes on) share a second submission.
//
// These tests share GradeEndToEndTests' workspace (same serialized suite),
// so their builds stay warm.

/// Swift source lines that read this process's `--filter` argument and give
/// the test it selects as `selected` (a full id from `ids`, or "").
private func selectedTestLines(ids: [String]) -> [String] {
    let list = ids.map { "\"\($0)\"" }.joined(separator: ", ")
    return [
        "var cmdline = [UInt8](repeating: 0, count: 1 << 16)",
        "let cmdFD = open(\"/proc/self/cmdline\", O_RDONLY)",
        "let cmdCount = cmdFD < 0 ? 0 : read(cmdFD, &cmdline, cmdline.count)",
        "if cmdFD >= 0 { close(cmdFD) }",
        "let args = cmdline[0..<Swift.max(cmdCount, 0)].split(separator: 0).map { String(decoding: $0, as: UTF8.self) }",
        "let filter = args.firstIndex(of: \"--filter\").map { String(args[$0 + 1].filter { $0 != \"\\\\\" }) } ?? \"\"",
        "let ids: [String] = [\(list)]",
        "let selected = ids.first { id in filter.hasPrefix(\"^\" + id.split(separator: \"/\").dropLast().joined(separator: \"/\") + \"(/\") } ?? \"\"",
        "func put(_ fd: Int32, _ text: String) { var bytes = Array(text.utf8); _ = write(fd, &bytes, bytes.count) }",
        "func ended(_ id: String) -> String { \"{\\\"kind\\\":\\\"event\\\",\\\"payload\\\":{\\\"instant\\\":{\\\"absolute\\\":1,\\\"since1970\\\":1},\\\"kind\\\":\\\"testEnded\\\",\\\"messages\\\":[],\\\"testID\\\":\\\"\" + id + \"\\\"},\\\"version\\\":0}\\n\" }",
    ]
}

/// The observation lines of `observations` as a test writes them.
private func observationLines(_ observations: [Observation]) -> String {
    observations.map { o in
        var record: [String: Any] = ["kind": o.kind, "what": o.what, "values": o.values, "test": o.test]
        if o.kind == "numbers" {
            record["shape"] = o.shape
            record["atol"] = o.atol
            record["rtol"] = o.rtol
        }
        let data = (try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }.joined()
}

/// A Swift string literal of `text` (a raw string).
private func literal(_ text: String) -> String { "##\"\"\"\n" + text + "\n\"\"\"##" }

/// The answer key with lesson 1's regions turned hostile (see each body).
private func hostileSubmission(recorded: ReferenceRun, markers: (files: String, pwned: String)) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let ids = Array(Set(recorded.observations.values.flatMap { $0.map(\.test) })).sorted()
    let root = e2eCourse.root.path
    let reference = e2eCourse.root.appendingPathComponent(".build-grader/reference").path
    // Recorded passing streams from the reference's run — with another seed.
    let replay = ids.map { id in
        "\"\(id)\": " + literal(observationLines(recorded.observations.values.flatMap { $0 }.filter { $0.test == id }))
    }.joined(separator: ",\n")
    let bodies: [String: [String]] = [
        // 1.1: correct code that first, once per process, tries to read the
        // course, leaves files in /tmp and /dev/shm (and looks for earlier
        // ones), and forks until it cannot, reporting the cap.
        "1.1": [
            "if getenv(\"HOSTILE_PROBED\") == nil {",
            "    setenv(\"HOSTILE_PROBED\", \"1\", 1)",
            "    var parent = [UInt8](repeating: 0, count: 4096)",
            "    let pfd = open(\"/proc/\\(getppid())/cmdline\", O_RDONLY)",
            "    let pn = pfd < 0 ? -1 : read(pfd, &parent, parent.count)",
            "    print(pn > 0 ? \"PROBE parent-cmdline READ \" + String(decoding: parent[0..<pn].map { $0 == 0 ? 32 : $0 }, as: UTF8.self) : \"PROBE parent-cmdline DENIED\")",
            "    for path in [\"\(root)/Solutions/01-scalar-autograd.swift\", \"\(root)/Sources/Kindling/Scalar/Value.swift\",",
            "                 \"\(root)/Tests/HiddenTests/Hidden01ScalarAutograd.swift\", \"\(reference)/Sources/Kindling/Scalar/Value.swift\"] {",
            "        let fd = open(path, O_RDONLY)",
            "        print(fd >= 0 ? \"PROBE file READ \\(path)\" : \"PROBE file DENIED \\(path)\")",
            "        if fd >= 0 { close(fd) }",
            "    }",
            "    for place in [\"/tmp\", \"/dev/shm\"] {",
            "        if access(\"\\(place)/\(markers.files)\", F_OK) == 0 { print(\"PROBE SAW-EARLIER \\(place)\") }",
            "        let fd = open(\"\\(place)/\(markers.files)\", O_WRONLY | O_CREAT, 0o644)",
            "        var block = [UInt8](repeating: 7, count: 1 << 20)",
            "        for _ in 0..<4 where fd >= 0 { _ = write(fd, &block, block.count) }",
            "        if fd >= 0 { close(fd) }",
            "    }",
            "    var limit = rlimit()",
            "    getrlimit(__rlimit_resource_t(__RLIMIT_NPROC.rawValue), &limit)",
            "    print(\"PROBE nproc \\(limit.rlim_cur)\")",
            "    var pid = pid_t()",
            "    let script = \"n=0; while [ $n -lt 400 ]; do (sleep 30 &) 2>/dev/null || break; n=$((n+1)); done; echo PROBE bomb $n; kill -9 -$$\"",
            "    var argv: [UnsafeMutablePointer<CChar>?] = [strdup(\"setsid\"), strdup(\"/bin/sh\"), strdup(\"-c\"), strdup(script), nil]",
            "    if posix_spawn(&pid, \"/usr/bin/setsid\", nil, nil, &argv, environ) == 0 { var status: Int32 = 0; waitpid(pid, &status, 0) }",
            "    fflush(nil)",
            "}",
            "return Value(a.data * b.data, inputs: [a, b], localGrads: [b.data, a.data], op: \"*\")",
        ],
        // 1.2: a wrong tanh that forges the current test's end on the result
        // channel (descriptor 3, as /proc/self/cmdline shows), then leaves.
        "1.2": selectedTestLines(ids: ids) + [
            "put(3, ended(selected))",
            "_exit(0)",
        ],
        // 1.3: replays the recorded passing stream of the current test — its
        // observations and its end — from the reference's run with another seed.
        "1.3": selectedTestLines(ids: ids) + [
            "let recorded: [String: String] = [",
            replay,
            "]",
            "put(4, recorded[selected] ?? \"\")",
            "put(3, ended(selected))",
            "_exit(0)",
        ],
        // 1.4: plausible events and observations on every descriptor.
        "1.4": selectedTestLines(ids: ids) + [
            "for fd in Int32(0)..<64 {",
            "    put(fd, \"{\\\"kind\\\":\\\"numbers\\\",\\\"what\\\":\\\"x\\\",\\\"shape\\\":[],\\\"values\\\":[\\\"1.0\\\"],\\\"atol\\\":1e9,\\\"rtol\\\":1e9,\\\"test\\\":\\\"\" + selected + \"\\\"}\\n\")",
            "    put(fd, ended(selected))",
            "}",
            "_exit(0)",
        ],
        // 1.5: correct code, then swift-testing tests of its own, named like
        // the course's, one behind a trait whose condition runs code (as root,
        // it would leave a file in the course).
        "1.5": [
            "let order = topologicalOrder()",
            "for value in order where !value.isLeaf { value.grad = 0 }",
            "grad += 1",
            "for value in order.reversed() { value.propagateGrad() }",
            "}",
            "}",
            "import Testing",
            "func hostileTrait() -> Bool {",
            "    let fd = open(\"\(root)/.build-grader/\(markers.pwned)\", O_WRONLY | O_CREAT, 0o644)",
            "    if fd >= 0 { close(fd) }",
            "    return true",
            "}",
            "@Suite(.enabled(if: hostileTrait())) struct Exercise_1_3 { @Test func chainOf100000Values() {}; @Test func extra() {} }",
            "enum HiddenTests { @Suite struct Exercise_1_1 { @Test func productOfNegativesAndZero() { fatalError(\"injected\") } } }",
            "extension Value {",
            "func hostileAbsorb() {",
        ],
    ]
    for name in try FileManager.default.contentsOfDirectory(atPath: e2eCourse.solutions.path) where name.hasSuffix(".swift") {
        let text = try String(contentsOf: e2eCourse.solutions.appendingPathComponent(name), encoding: .utf8)
        let rewritten = rewriteRegions(in: text, file: name) { region in
            bodies[region.id.description].map { $0.map { region.indentation + $0 } }
        }
        try rewritten.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return folder
}

extension GradeEndToEndTests {
    @Test func hostileRegionsScoreZeroOnWhatTheyTouchAndReadNothing() throws {
        let grader = e2eGrader()
        // A run of the reference with a seed of its own: the "recorded" streams.
        let recorded = try grader.referenceRun(onlyLesson: 1)
        let tag = UUID().uuidString.prefix(8)
        let markers = (files: "kindling-hostile-\(tag)", pwned: "PWNED-\(tag)")
        let folder = try hostileSubmission(recorded: recorded, markers: markers)
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = try grader.grade(folder, lesson: 1)
        func results(_ e: String) -> [TestResult] { report.tests.filter { $0.exercise == exerciseID(e) } }

        // Every hostile region compiled, so every attack really ran.
        #expect(report.exercises.allSatisfy { $0.notes.isEmpty }, "\(report.exercises.map(\.notes))")
        // Only the course's own tests were graded, by exact id: the injected
        // tests neither ran as root nor counted.
        #expect(Set(report.tests.map(\.name)) == Set(recorded.tests.map(\.name)),
                "graded: \(report.tests.map(\.name).filter { !$0.hasPrefix("HiddenTests.") })")
        let pwned = e2eCourse.root.appendingPathComponent(".build-grader/\(markers.pwned)").path
        #expect(!FileManager.default.fileExists(atPath: pwned), "student code ran outside the sandbox")
        try? FileManager.default.removeItem(atPath: pwned)

        // 1.1 is correct: it scores in full, and its probes found nothing.
        let probes = results("1.1").flatMap { $0.output.split(separator: "\n") }.filter { $0.hasPrefix("PROBE") }
        #expect(!results("1.1").isEmpty && results("1.1").allSatisfy { $0.verdict == .passed },
                "\(report.exercises.map(\.notes)) \(results("1.1").filter { $0.verdict != .passed }.map { "\($0.name): \($0.message)" })")
        #expect(probes.contains { $0.hasPrefix("PROBE file DENIED") } && !probes.contains { $0.contains("READ") },
                "student code read a course file: \(probes.filter { $0.contains("READ") })")
        #expect(!probes.contains { $0.contains("SAW-EARLIER") }, "a test saw a file an earlier test left")
        let caps = Set(probes.filter { $0.hasPrefix("PROBE nproc") })
        #expect(caps.count == 1, "the process cap is the same for every test: \(caps)")
        #expect(probes.contains { $0.hasPrefix("PROBE bomb") && !$0.hasSuffix(" 400") }, "the fork bomb was stopped: \(probes)")
        for place in ["/tmp", "/dev/shm"] {
            #expect(!FileManager.default.fileExists(atPath: "\(place)/\(markers.files)"), "files left in \(place)")
        }

        // The forged end (1.2), the replayed stream (1.3) and the spray on
        // every descriptor (1.4): each test they touch scores 0, flagged.
        for e in ["1.2", "1.3", "1.4"] {
            #expect(!results(e).isEmpty && results(e).allSatisfy { $0.verdict != .passed && $0.points == 0 },
                    "exercise \(e) must score 0: \(results(e).filter { $0.verdict == .passed }.map(\.name))")
            let unflagged = results(e).filter { !$0.tampered }.map { "\($0.name): \($0.verdict) \($0.message.prefix(200))" }
            #expect(unflagged.isEmpty, "exercise \(e): tampering reported on every test: \(unflagged)")
        }
        #expect(report.notes.contains { $0.contains("TAMPERED") }, "the report says so: \(report.notes)")
        #expect(report.error == nil)
    }

    @Test func buildAttacksAreBlamedOnTheirRegionsAndTheRestIsGraded() throws {
        // Lesson 2 only: 2.5 also defines `main` (the link fails, naming no
        // file); 2.6 also declares six nested generic typealiases that the
        // type checker never finishes. 2.1–2.4 are correct (and their tests
        // use no later exercise).
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("build-attacks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: e2eCourse.solutions.path).first { $0.hasPrefix("02-") })
        let text = try String(contentsOf: e2eCourse.solutions.appendingPathComponent(name), encoding: .utf8)
        let rewritten = rewriteRegions(in: text, file: name) { region in
            switch region.id.description {
            case "2.5":
                return region.body + ["}", "@_cdecl(\"main\") public func hostileMain() -> Int32 { 0 }", "func hostileAbsorb() {"]
            case "2.6":
                return region.body + ["}", "typealias S1<T> = (T, T)", "typealias S2<T> = S1<S1<T>>", "typealias S3<T> = S2<S2<T>>",
                                      "typealias S4<T> = S3<S3<T>>", "typealias S5<T> = S4<S4<T>>", "typealias S6<T> = S5<S5<T>>",
                                      "func hostileAbsorbToo() {"]
            default:
                return nil
            }
        }
        try rewritten.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        // Each compiler job may use 60 s of CPU: far more than any of Kindling's needs.
        let report = try e2eGrader(compileCPUSeconds: 60).grade(folder, lesson: 2)
        func score(_ e: String) -> ExerciseScore { report.exercises.first { $0.id == exerciseID(e) }! }
        #expect(report.error == nil, "\(report.error ?? "")")
        #expect(score("2.5").points == 0 && score("2.5").notes.contains { $0.contains("'main'") }, "\(score("2.5").notes)")
        #expect(score("2.6").points == 0 && score("2.6").notes.contains { $0.contains("CPU-time or memory") || $0.contains("ran past") },
                "\(score("2.6").notes)")
        for e in ["2.1", "2.2", "2.3", "2.4"] {
            #expect(score(e).points == score(e).maxPoints && score(e).maxPoints > 0, "exercise \(e): \(score(e).notes)")
        }
    }
}
