import Foundation

// `grader release OUT`: the repository students get. It holds the workspace
// (Exercises/Kindling — stubs, no reference code), the lessons, the visible
// tests and the tools built on the library (the `kindling` CLI and the graph
// renderer, and the course runner with the sandbox it runs each test in),
// with a Package.swift whose only `Kindling` is the workspace.
// No Sources/Kindling, no Solutions/, no hidden tests, no slips, no grader.

extension Course {
    /// Folders copied into a student release, as they are.
    static let releasedFolders = [
        "Exercises/Kindling", "Lessons", "Tests/LessonTests", "Sources/CBLAS", "Sources/CZlib",
        "Sources/CGraphviz", "Sources/KindlingGraph", "Sources/kindling", "Sources/scratch",
        // The course runner and the sandbox it runs each test in.
        "Sources/course", "Sources/GraderKit", "Sources/CSandbox", "Sources/kindling-sandbox",
        "scripts/install-deps.sh",
    ]

    /// Copies the files of `items` (files or folders, relative to the root;
    /// build folders skipped) to the same relative places under `output`.
    /// Returns the relative paths written.
    func copyFiles(_ items: [String], to output: URL) throws -> [String] {
        let fm = FileManager.default
        var written: [String] = []
        for item in items {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: root.appendingPathComponent(item).path, isDirectory: &isDirectory) else { continue }
            let names = isDirectory.boolValue
                ? try fm.subpathsOfDirectory(atPath: root.appendingPathComponent(item).path).map { item + "/" + $0 } : [item]
            for name in names where !name.split(separator: "/").contains(where: { $0.hasPrefix(".build") }) {
                var nameIsDirectory: ObjCBool = false
                _ = fm.fileExists(atPath: root.appendingPathComponent(name).path, isDirectory: &nameIsDirectory)
                if nameIsDirectory.boolValue { continue }
                let target = output.appendingPathComponent(name)
                try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try fm.copyItem(at: root.appendingPathComponent(name), to: target)
                written.append(name)
            }
        }
        return written
    }

    /// Throws unless `output` is missing or an empty folder: generated trees
    /// are never written over existing files.
    func requireNewFolder(_ output: URL) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: output.path), !((try? fm.contentsOfDirectory(atPath: output.path)) ?? []).isEmpty {
            throw GraderError.message("\(output.path) exists and is not empty; choose a new folder")
        }
    }

    /// Writes the student repository to `output` (which must not exist or be empty).
    /// Returns the relative paths written.
    @discardableResult
    public func release(to output: URL) throws -> [String] {
        try requireNewFolder(output)
        let stale = try staleFiles()
        guard stale.isEmpty else {
            throw GraderError.message("Exercises/ or Solutions/ are out of date (\(stale.joined(separator: ", "))); run `grader sync` first")
        }
        var written = try copyFiles(Course.releasedFolders, to: output)
        // Notes for the Kindling repository (how to pick the exercises over
        // the reference, tests that are not released) are left out.
        for name in written where name.hasSuffix(".md") {
            let url = output.appendingPathComponent(name)
            let text = try String(contentsOf: url, encoding: .utf8)
            try Course.studentMarkdown(text, file: name).write(to: url, atomically: true, encoding: .utf8)
        }
        let generated: [(String, String)] = [
            ("Package.swift", Course.releaseManifest),
            ("Makefile", Course.releaseMakefile),
            ("README.md", Course.releaseReadme),
            (".gitignore", ".build*/\nPackage.resolved\n*.safetensors\n/reports/\n"),
        ]
        for (name, text) in generated {
            try text.write(to: output.appendingPathComponent(name), atomically: true, encoding: .utf8)
            written.append(name)
        }
        // Last line of defence: no reference code may leave the building.
        let (regions, _) = try referenceRegions()
        for name in written where name.hasSuffix(".swift") {
            let text = try String(contentsOf: output.appendingPathComponent(name), encoding: .utf8)
            for region in regions where region.body.filter({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }).count >= 2 {
                if text.contains(region.body.joined(separator: "\n")) {
                    throw GraderError.message("release: \(name) contains the reference solution of exercise \(region.id); refusing to write it")
                }
            }
        }
        return written.sorted()
    }

    /// The opening and closing marks of a passage of a lesson meant for the
    /// Kindling repository only, left out of a student release.
    static let instructorMarks = ("<!-- instructor -->", "<!-- /instructor -->")

    /// `markdown` as a student release shows it: every passage between
    /// `<!-- instructor -->` and `<!-- /instructor -->` removed, whole lines
    /// when the marks stand on lines of their own. Throws on a mark without
    /// its partner.
    static func studentMarkdown(_ markdown: String, file: String) throws -> String {
        let (open, close) = instructorMarks
        var result = "", rest = Substring(markdown)
        while let start = rest.range(of: open) {
            guard let end = rest[start.upperBound...].range(of: close) else {
                throw GraderError.message("\(file): \(open) has no \(close) after it")
            }
            var before = rest[..<start.lowerBound], after = rest[end.upperBound...]
            // A passage on lines of its own goes with its lines.
            let lineStart = before.lastIndex(of: "\n").map { before.index(after: $0) } ?? before.startIndex
            if before[lineStart...].allSatisfy({ $0 == " " || $0 == "\t" }),
               after.prefix(while: { $0 == " " || $0 == "\t" }).endIndex == (after.firstIndex(of: "\n") ?? after.endIndex) {
                before = before[..<lineStart]
                after = after[((after.firstIndex(of: "\n")).map { after.index(after: $0) } ?? after.endIndex)...]
            }
            if before.range(of: close) != nil { throw GraderError.message("\(file): \(close) without \(open) before it") }
            result += before
            rest = after
        }
        if rest.range(of: close) != nil { throw GraderError.message("\(file): \(close) without \(open) before it") }
        return result + rest
    }

    /// The student repository's manifest: `Kindling` is the workspace.
    static let releaseManifest = """
    // swift-tools-version:6.0
    //
    // Kindling — your own deep-learning framework, built lesson by lesson.
    // The library you are writing is Exercises/Kindling; the lesson tests, the
    // `kindling` command and the graph renderer all run on YOUR code.
    import PackageDescription

    let package = Package(
        name: "Kindling",
        products: [
            .library(name: "Kindling", targets: ["Kindling"]),
            .executable(name: "kindling", targets: ["kindling"]),
            .executable(name: "scratch", targets: ["scratch"]),
            .executable(name: "course", targets: ["course"]),
            .executable(name: "kindling-sandbox", targets: ["kindling-sandbox"]),
        ],
        dependencies: [
            .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        ],
        targets: [
            .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                           providers: [.apt(["libopenblas-dev"])]),
            .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                           providers: [.apt(["zlib1g-dev"])]),
            .systemLibrary(name: "CGraphviz", path: "Sources/CGraphviz", pkgConfig: "libgvc",
                           providers: [.apt(["libgraphviz-dev"])]),
            .target(name: "Kindling", dependencies: ["CBLAS", "CZlib"], path: "Exercises/Kindling"),
            .target(name: "KindlingGraph", dependencies: ["Kindling", "CGraphviz"], path: "Sources/KindlingGraph"),
            .executableTarget(
                name: "kindling",
                dependencies: ["Kindling", "KindlingGraph",
                               .product(name: "ArgumentParser", package: "swift-argument-parser")],
                path: "Sources/kindling"),
            // A main.swift to paste lesson examples into: `swift run scratch`.
            .executableTarget(name: "scratch", dependencies: ["Kindling"], path: "Sources/scratch"),
            // `swift run course`: the next exercise, its tests (each in a process of its own), hints, progress.
            .target(name: "CSandbox", path: "Sources/CSandbox"),
            .executableTarget(name: "kindling-sandbox", path: "Sources/kindling-sandbox"),
            .target(name: "GraderKit", dependencies: ["CSandbox"], path: "Sources/GraderKit"),
            .executableTarget(
                name: "course",
                dependencies: ["GraderKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                path: "Sources/course"),
            .testTarget(name: "LessonTests", dependencies: ["Kindling"], path: "Tests/LessonTests"),
        ]
    )

    """

    /// The student repository's Makefile.
    static let releaseMakefile = """
    # make setup        install what is missing and do the first (slow) build, with progress
    # make next         build, then run the tests of the first exercise not done yet (swift run course)
    # make watch        the same, again every time you save a file in Exercises/Kindling
    # make hint         the next hint for the exercise you are on
    # make test         every exercise's visible tests, each in a process of its own, and the progress table
    # make lesson N=1   one lesson's tests with swift test (a stub stops that run)
    # make demo         train an MLP on Fashion-MNIST with YOUR framework
    # make demo-cnn     train the CNN of lessons 11–12 with YOUR framework (about 12 minutes)
    # make status       which exercises still hold their stub

    SHELL := /bin/bash
    SWIFT ?= swift
    STUB = Exercise [0-9]+\\.[0-9]+ is not done yet

    .PHONY: deps setup next watch hint test lesson demo demo-cnn status

    deps:
    \t@bash scripts/install-deps.sh

    # SwiftPM numbers its build steps [n/m]: show them on one updating line,
    # and everything else (downloads, errors) as it comes.
    setup: deps
    \t@echo "Building the course and its tests for the first time: this takes a few minutes; later builds only redo what you change."
    \t@set -o pipefail; start=$$SECONDS; \\
    \t$(SWIFT) build --build-tests 2>&1 | awk '/^\\[[0-9]+\\/[0-9]+\\]/ { printf "\\r\\033[K  %s", substr($$0, 1, 100); fflush(); next } \\
    \t  /^(Building for|Write |Planning build)/ { next } { printf "\\r\\033[K%s\\n", $$0; fflush() } END { printf "\\r\\033[K" }'; \\
    \tstatus=$$?; \\
    \tif [ $$status -ne 0 ]; then echo "The build failed (see above)."; exit $$status; fi; \\
    \techo "Built in $$(( (SECONDS - start) / 60 )) min $$(( (SECONDS - start) % 60 )) s. Next: read Lessons/01-scalar-autograd.md, then run 'swift run course'."

    # An exercise that does not pass yet is the usual state here, not make's
    # error: these always succeed (`swift run course` itself exits 1 then).
    next: deps
    \t@$(SWIFT) run --quiet course || true

    watch: deps
    \t@$(SWIFT) run --quiet course watch || true

    hint:
    \t@$(SWIFT) run --quiet course hint || true

    # Each exercise's tests in a process of its own, with a time limit: an
    # unfinished exercise is "not started", never a crash that stops the rest.
    # Fails (after the table) until every exercise passes.
    test: deps
    \t@$(SWIFT) run --quiet course list || { echo "(make test succeeds once every exercise passes.)"; exit 1; }

    lesson: deps
    \t$(SWIFT) test --filter Lesson$$(printf %02d $(N))

    demo: deps
    \t$(SWIFT) run -c release kindling train

    demo-cnn: deps
    \t$(SWIFT) run -c release kindling train --model cnn --augment

    status:
    \t@total=$$(grep -rh 'BEGIN EXERCISE' Exercises/Kindling | wc -l); \\
    \tleft=$$(grep -rhoE '$(STUB)' Exercises/Kindling | sort -u | wc -l); \\
    \techo "$$((total - left)) of $$total exercises have your code in place of their stub ('make test' says whether it is right)."; \\
    \tif [ $$left -gt 0 ]; then \\
    \t  echo "Still a stub:"; \\
    \t  grep -rhoE '$(STUB): [^—"]*' Exercises/Kindling | sed -E 's/^Exercise ([0-9.]+) is not done yet: (.*[^ ]) *$$/  \\1  \\2/' | sort -uV; \\
    \tfi

    """

    /// The student repository's README.
    static let releaseReadme = """
    # Kindling — build your own deep-learning framework in Swift

    You will write, piece by piece, a small PyTorch-shaped framework — scalar autograd,
    strided tensors, broadcasting, matrix products, tensor autograd, modules, optimizers,
    data loading — and end by training a network on Fashion-MNIST with it.

    ```sh
    make setup           # once: installs missing system packages and builds everything (minutes)
    swift run course     # build, then run the tests of the next exercise to do
    ```

    The first build compiles the whole package — your library, the tests, the `kindling`
    command and the course tools — and takes about 3 minutes on a two-core laptop (longer on a
    slower one); `make setup` does it up front and shows its progress. After that, a build redoes
    only what you changed: seconds.

    ## The loop

    1. Read `Lessons/01-scalar-autograd.md`.
    2. Fill in the exercise regions it names in `Exercises/Kindling/…` — each one is a
       `fatalError("Exercise 1.1 is not done yet: …")` between `// BEGIN EXERCISE` and
       `// END EXERCISE` markers. Write only between the markers: that is what gets graded.
    3. Run `swift run course`. It builds your code, finds the first exercise whose tests do not
       all pass, runs only that exercise's tests — each in a process of its own, stopped after
       10 seconds if it loops — and tells you, in a few lines, what failed and where your code
       for it is. A compile error shows the compiler's message and your line; a crash shows the
       runtime's message and the line of your code it came from.
    4. Fix, save, run it again. Exercises that passed and whose code has not changed are not run
       again, so each round takes seconds.

    | Command | What it does |
    |---|---|
    | `swift run course` | build, then the next exercise's tests (the default) |
    | `swift run course watch` | the same, again each time you save a file in `Exercises/Kindling` (Enter: run again, `h`: hint, `l`: list, `q`: quit) |
    | `swift run course hint` | the next hint for the exercise you are on, one at a time (`hint 3.4` for another, `--all` for every one shown so far) |
    | `swift run course list` | every lesson's progress: ✓ done, ✗ failing, · not started |
    | `swift run course reset 3.4` | put an exercise's stub back, after asking (`--yes` does not ask); your code is kept in `.course/backup/` |
    | `swift run course diagnose 6.5` | from lesson 6 on: find the first operation whose gradient is wrong and draw the graph with it in red (`.course/diagnose-6.5.svg`) |

    `make next`, `make watch`, `make hint` and `make test` (the progress table of every exercise)
    run the same commands; `make status` lists the exercises that still hold their stub. Plain
    `swift test --filter Lesson01` (or `--filter Exercise_1_3`) works too, but it runs every test
    in one process: the first unfinished exercise stops the whole run.

    To run a lesson's example yourself, paste it into `Sources/scratch/main.swift` and run
    `swift run scratch`.

    """
}
