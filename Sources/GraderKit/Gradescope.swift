import Foundation

// `grader gradescope OUT`: an autograder bundle for Gradescope, which runs
// `setup.sh` once to build its image and `run_autograder` per submission
// (the submission in /autograder/submission, results expected in
// /autograder/results/results.json).

extension Course {
    /// What the bundle's `source/` holds: everything grading needs, nothing else.
    static let gradingFolders = ["Package.swift", "Sources", "Tests/LessonTests", "Tests/HiddenTests", "Lessons",
                                 "Exercises", "scripts"]

    /// Writes `setup.sh`, `run_autograder` and `source/` into `output`.
    @discardableResult
    public func gradescopeBundle(to output: URL) throws -> [String] {
        let fm = FileManager.default
        try requireNewFolder(output)
        try fm.createDirectory(at: output.appendingPathComponent("source"), withIntermediateDirectories: true)
        var written = try copyFiles(Course.gradingFolders, to: output.appendingPathComponent("source")).map { "source/" + $0 }
        for (name, text) in [("setup.sh", Course.gradescopeSetup), ("run_autograder", Course.gradescopeRun)] {
            let url = output.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
            written.append(name)
        }
        return written.sorted()
    }

    /// Gradescope's image set-up: system packages, a Swift toolchain, a warm build.
    static let gradescopeSetup = """
    #!/usr/bin/env bash
    # Gradescope runs this once, as root, to prepare the autograder image (Ubuntu).
    set -euo pipefail
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends \\
        libopenblas-dev zlib1g-dev libgraphviz-dev pkg-config curl ca-certificates \\
        binutils git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 libgcc-13-dev libpython3-dev \\
        libsqlite3-0 libstdc++-13-dev libxml2-dev libz3-dev tzdata unzip
    # A Swift toolchain, unless the image already has one.
    if ! command -v swift >/dev/null; then
        SWIFT_VERSION=${SWIFT_VERSION:-6.3.1}
        . /etc/os-release
        PLATFORM="ubuntu${VERSION_ID}"
        URL="https://download.swift.org/swift-${SWIFT_VERSION}-release/${PLATFORM//./}/swift-${SWIFT_VERSION}-RELEASE/swift-${SWIFT_VERSION}-RELEASE-${PLATFORM}.tar.gz"
        curl -fsSL "$URL" -o /tmp/swift.tar.gz
        mkdir -p /opt/swift && tar -xzf /tmp/swift.tar.gz -C /opt/swift --strip-components=1
        ln -sf /opt/swift/usr/bin/* /usr/local/bin/
    fi
    cd /autograder/source
    swift build -c release --product grader
    # The helper that starts each test in its sandbox, beside the grader.
    swift build -c release --product kindling-sandbox
    # Warm the grading workspace: the first real submission then only recompiles its own regions.
    .build/release/grader grade Exercises --format json --out /tmp/warmup.json || true

    """

    /// Gradescope's per-submission entry point.
    static let gradescopeRun = """
    #!/usr/bin/env bash
    # Gradescope runs this for each submission. The grader always writes
    # results.json (even when it fails, with the reason), so its exit code is ignored.
    mkdir -p /autograder/results
    cd /autograder/source
    .build/release/grader grade /autograder/submission --format gradescope \\
        --out /autograder/results/results.json || true

    """
}
