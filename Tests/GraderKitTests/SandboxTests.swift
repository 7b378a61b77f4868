// The sandbox itself, with small shell commands standing in for student code:
// limits applied, descriptors and environment controlled, output capped,
// timeouts killing the whole process group, the unprivileged user.

import Foundation
import Testing
@testable import GraderKit
import CBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Runs `script` with /bin/sh in the sandbox.
private func sh(_ script: String, limits: SandboxLimits = SandboxLimits(wallSeconds: 10), user: SandboxUser? = nil,
                environment: [String: String] = ["PATH": "/usr/bin:/bin"], workingDirectory: String? = nil,
                isolation: SandboxIsolation = .none) -> SandboxOutcome {
    runSandboxed(executable: "/bin/sh", arguments: ["-c", script], environment: environment,
                 workingDirectory: workingDirectory, limits: limits, user: user, isolation: isolation)
}

private func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

/// Live (not zombie) processes whose real uid is `uid`.
private func processes(ownedBy uid: UInt32) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { entry in
        guard entry.first?.isNumber == true,
              let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8) else { return false }
        let lines = status.split(separator: "\n")
        guard let uidLine = lines.first(where: { $0.hasPrefix("Uid:") }),
              let state = lines.first(where: { $0.hasPrefix("State:") }) else { return false }
        return !state.contains("Z") && uidLine.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first == Substring("\(uid)")
    }
}

/// Waits up to `seconds` for `condition`.
private func eventually(_ seconds: Double = 2, _ condition: () -> Bool) -> Bool {
    let end = sandboxClock() + seconds
    while sandboxClock() < end {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

private let isRoot = geteuid() == 0

@Suite struct SandboxTests {
    @Test func capturesStatusOutputAndChannel() {
        let outcome = sh("echo out; echo err >&2; echo result >&3; exit 7")
        #expect(outcome.termination == .exited(7))
        #expect(text(outcome.stdout) == "out\n")
        #expect(text(outcome.stderr) == "err\n")
        #expect(text(outcome.channel) == "result\n")
        #expect(!outcome.hitWallLimit && !outcome.hitCPULimit)
        #expect(outcome.wallSeconds < 5)
    }

    @Test func channelCanBeReopenedByPath() {
        // Swift Testing opens `--event-stream-output-path /dev/fd/3` by path.
        let outcome = sh("echo reopened > /dev/fd/3")
        #expect(outcome.termination == .exited(0))
        #expect(text(outcome.channel) == "reopened\n")
    }

    @Test func exactEnvironmentNullStdinFreshFolderAndOnlyFiveDescriptors() throws {
        // A descriptor of ours that must not leak into the child.
        let leak = open("/dev/null", O_RDONLY)  // deliberately without O_CLOEXEC
        defer { close(leak) }
        let outcome = sh("""
            env | sort; echo ---; cat; echo ---; pwd; ls -A
            """, environment: ["PATH": "/usr/bin:/bin", "ONLY": "this"])
        let parts = text(outcome.stdout).components(separatedBy: "---\n")
        try #require(parts.count == 3)
        let variables = parts[0].split(separator: "\n").filter { !$0.hasPrefix("PWD=") && !$0.hasPrefix("_=") && !$0.hasPrefix("OLDPWD=") }
        #expect(variables == ["ONLY=this", "PATH=/usr/bin:/bin"])
        #expect(parts[1] == "")  // stdin is /dev/null
        let folder = parts[2].split(separator: "\n")
        #expect(folder.count == 1)  // the working folder exists and is empty
        #expect(folder.first?.contains("kindling-work") == true)
        // The shell's descriptors, listed by a child (a simple command, no pipeline).
        let descriptors = sh("ls /proc/$$/fd")
        // stdin, stdout, stderr, the result channel, the observation channel.
        #expect(text(descriptors.stdout).split(separator: "\n") == ["0", "1", "2", "3", "4"])
        // The working folder is gone afterwards.
        #expect(!FileManager.default.fileExists(atPath: String(folder.first ?? "")))
    }

    @Test func appliesResourceLimits() {
        let limits = SandboxLimits(wallSeconds: 10, cpuSeconds: 3, memoryBytes: 512 << 20, processes: 40, outputBytes: 4096,
                                   fileBytes: 8192)
        let outcome = sh("cat /proc/self/limits", limits: limits, user: isRoot ? .nobody : nil)
        let lines = text(outcome.stdout).split(separator: "\n")
        func limit(_ name: String) -> [Substring] {
            lines.first { $0.hasPrefix(name) }.map { $0.dropFirst(name.count).split(separator: " ") } ?? []
        }
        #expect(limit("Max cpu time").prefix(2) == ["3", "4"])  // soft, hard: SIGXCPU then SIGKILL
        #expect(limit("Max address space").prefix(2) == ["536870912", "536870912"])
        #expect(limit("Max file size").first == "8192")
        #expect(limit("Max core file size").prefix(2) == ["0", "0"])
        // 40 on top of what the user already runs (other sandboxes as nobody, zombies).
        if isRoot, let processes = limit("Max processes").first.flatMap({ Int($0) }) {
            #expect(processes >= 40 && processes < 240)
        }
    }

    @Test func ownSessionAndProcessGroup() {
        let outcome = sh("ps -o pid=,pgid=,sid= -p $$")
        let fields = text(outcome.stdout).split(whereSeparator: { $0 == " " || $0 == "\n" }).map { String($0) }
        #expect(fields.count == 3)
        #expect(Set(fields).count == 1)  // pid == pgid == sid
    }

    @Test func wallLimitKillsTheWholeGroup() {
        let marker = "kindling-sandbox-test-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let start = sandboxClock()
        // A background child and a foreground sleep; both must die.
        let outcome = sh("sleep 30 \(marker) & echo started; sleep 31", limits: SandboxLimits(wallSeconds: 0.5))
        let elapsed = sandboxClock() - start
        #expect(outcome.hitWallLimit)
        #expect(!outcome.hitCPULimit)
        #expect(outcome.termination == .signaled(SIGKILL))
        #expect(text(outcome.stdout) == "started\n")
        #expect(elapsed < 3)
        #expect(eventually {
            let survivors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { entry in
                (try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8))?.contains(marker) == true
            } ?? []
            return survivors.isEmpty
        })
    }

    @Test func cpuLimitStopsABusyLoop() {
        let outcome = sh("while :; do :; done", limits: SandboxLimits(wallSeconds: 10, cpuSeconds: 1))
        #expect(outcome.hitCPULimit)
        #expect(!outcome.hitWallLimit)
        #expect(outcome.termination == .signaled(SIGXCPU))
        // The kernel stops it on its exact run time; rusage's user/system split
        // is sampled, so the two may differ by a few ticks.
        #expect(outcome.cpuSeconds >= 0.8)
        #expect(outcome.wallSeconds < 6)
    }

    @Test func outputIsTruncatedNotFatal() {
        let limits = SandboxLimits(wallSeconds: 10, outputBytes: 1000, fileBytes: 50_000)
        let outcome = sh("""
            head -c 100000 /dev/zero | tr '\\0' x; echo done >&2; echo still-running >&3
            head -c 60000 /dev/zero > big || echo cannot-write-big >&3; wc -c < big >&3
            """, limits: limits)
        #expect(outcome.stdout.count == 1000)
        #expect(outcome.stdoutTruncated)
        #expect(text(outcome.stderr).contains("done\n"))  // stderr has its own cap
        // The channel is no file, so not capped; other files are, at fileBytes.
        #expect(text(outcome.channel) == "still-running\ncannot-write-big\n50000\n")
    }

    @Test func memoryLimitMakesAllocationFail() {
        // 64 MiB of address space is too little for `sort` to buffer 100 MB.
        let outcome = sh("head -c 100000000 /dev/zero | sort -S 90% > /dev/null; echo status $?",
                         limits: SandboxLimits(wallSeconds: 10, memoryBytes: 64 << 20))
        #expect(text(outcome.stdout).hasPrefix("status ") && !text(outcome.stdout).hasPrefix("status 0"))
    }

    @Test func missingExecutableFailsToStart() {
        let outcome = runSandboxed(executable: "/nonexistent/program", limits: SandboxLimits(wallSeconds: 5))
        guard case .failedToStart(let reason) = outcome.termination else {
            Issue.record("expected failedToStart, got \(outcome.termination)")
            return
        }
        #expect(reason.contains("execve"))
        #expect(reason.contains("No such file"))
    }

    @Test func missingWorkingDirectoryFailsToStart() {
        let outcome = sh("true", workingDirectory: "/nonexistent/folder")
        guard case .failedToStart(let reason) = outcome.termination else {
            Issue.record("expected failedToStart, got \(outcome.termination)")
            return
        }
        #expect(reason.contains("chdir"))
    }

    @Test(.enabled(if: isRoot, "needs root to switch users"))
    func runsAsNobodyWithoutRootPowers() throws {
        let secretFolder = try #require(sandboxTemporaryDirectory(prefix: "kindling-secret"))
        defer { sandboxRemoveTree(secretFolder) }
        let secret = secretFolder + "/answers.txt"
        try "42".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o600)
        chmod(secretFolder, 0o755)
        let outcome = sh("id -u; id -g; id -G; cat \(secret) 2>/dev/null || echo denied; echo fd3 > /dev/fd/3; touch here && echo wrote",
                         user: .nobody)
        #expect(text(outcome.stdout) == "65534\n65534\n65534\ndenied\nwrote\n")
        #expect(text(outcome.channel) == "fd3\n")
    }

    @Test(.enabled(if: isRoot, "needs root to switch users"))
    func processLimitStopsAForkBombAndADedicatedUserIsSwept() throws {
        let lease = try #require(SandboxUserLease.acquire())
        let user = lease.user
        // Each round forks children that fork again; `setsid` ones leave the
        // process group, so only the sweep by uid can catch them.
        let outcome = sh("""
            n=0; while [ $n -lt 200 ]; do
              (setsid sleep 30 &) 2>/dev/null || { echo refused; break; }
              n=$((n+1))
            done; echo made $n
            """, limits: SandboxLimits(wallSeconds: 10, processes: 20), user: user)
        let out = text(outcome.stdout)
        #expect(out.contains("refused"))
        #expect(outcome.termination == .exited(0))
        #expect(eventually { processes(ownedBy: user.uid).isEmpty })
    }

    @Test(.enabled(if: !isRoot, "as root the process limit only applies with a user switch"))
    func processLimitWithoutUserSwitchCountsFromTheCurrentTotal() {
        let outcome = sh("n=0; while [ $n -lt 300 ]; do (sleep 5 &) 2>/dev/null || { echo refused; break; }; n=$((n+1)); done",
                         limits: SandboxLimits(wallSeconds: 10, processes: 30))
        #expect(text(outcome.stdout).contains("refused"))
    }

    @Test func runsConcurrentlyWithoutMixingUp() async {
        await withTaskGroup(of: (Int, SandboxOutcome).self) { group in
            for index in 0..<6 {
                group.addTask { (index, sh("sleep 0.1; echo \(index); echo c\(index) >&3; exit \(index)")) }
            }
            for await (index, outcome) in group {
                #expect(outcome.termination == .exited(Int32(index)))
                #expect(text(outcome.stdout) == "\(index)\n")
                #expect(text(outcome.channel) == "c\(index)\n")
            }
        }
    }

    @Test(.enabled(if: isRoot, "lock files of the dedicated uids are root's"))
    func leasesAreExclusiveAndReleasedWhenDropped() throws {
        /// Whether the lock of `uid` is free right now (taken and let go at once).
        func free(_ uid: UInt32) -> Bool {
            let fd = open("\(SandboxUserLease.lockFolder)/\(uid).lock", O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            return flock(fd, LOCK_EX | LOCK_NB) == 0
        }
        let uid: UInt32
        do {
            let first = try #require(SandboxUserLease.acquire())
            uid = first.user.uid
            #expect(first.user.dedicated && SandboxUser.dedicatedRange.contains(uid))
            let second = try #require(SandboxUserLease.acquire())
            #expect(second.user.uid != uid)
            #expect(!free(uid) && !free(second.user.uid))
        }
        // Both dropped: free again (a concurrent run may hold it for a moment).
        #expect(eventually(10) { free(uid) })
    }

    @Test func signalNames() {
        #expect(signalName(SIGILL) == "SIGILL")
        #expect(signalName(SIGSEGV) == "SIGSEGV")
        #expect(signalName(SIGXCPU) == "SIGXCPU")
        #expect(signalName(99) == "signal 99")
    }
}

/// Isolation (root only): namespaces of its own for each sandboxed program.
@Suite(.enabled(if: isRoot && sandboxIsolationProblem == nil, "namespaces need root"))
struct SandboxIsolationTests {
    private let isolated = SandboxIsolation.namespaces(tmpBytes: 8 << 20)

    @Test func seesNoFileOfTheCourseNorOfTheGrader() throws {
        // A world-readable secret outside the system folders: invisible inside.
        let secretFolder = try #require(sandboxTemporaryDirectory(prefix: "kindling-visible-outside"))
        defer { sandboxRemoveTree(secretFolder) }
        chmod(secretFolder, 0o755)
        try "42".write(toFile: secretFolder + "/answers.txt", atomically: true, encoding: .utf8)
        chmod(secretFolder + "/answers.txt", 0o644)
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
        let outcome = sh("""
            cat \(secretFolder)/answers.txt 2>/dev/null || echo no-secret
            ls \(here) 2>/dev/null || echo no-course
            ls / | tr '\\n' ' '; echo
            cat /proc/1/cmdline 2>/dev/null || echo no-init
            ls /proc | grep -c '^[0-9]'
            """, user: .nobody, isolation: isolated)
        let lines = text(outcome.stdout).split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(text(outcome.stdout)) \(text(outcome.stderr))")
        guard lines.count == 5 else { return }
        #expect(lines[0] == "no-secret")
        #expect(lines[1] == "no-course")
        #expect(!lines[2].contains("work") && !lines[2].contains("home") && !lines[2].contains("root"),
                "only system folders, /tmp, /dev and /proc: \(lines[2])")
        #expect(lines[3] == "no-init", "the init (root) is hidden")
        // sh, and the ls and grep of the pipeline: a handful, not the machine's hundreds.
        #expect((Int(lines[4]) ?? 99) <= 4, "processes visible: \(lines[4])")
        #expect(outcome.isolated)
    }

    @Test func privateTmpAndShmVanishAndAreBounded() {
        let marker = "kindling-private-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let first = sh("""
            ls -A /tmp /dev/shm | grep -c . ; echo x > /tmp/\(marker); echo x > /dev/shm/\(marker)
            head -c 20000000 /dev/zero > /tmp/big 2>/dev/null || echo full
            """, isolation: isolated)
        #expect(text(first.stdout).hasPrefix("2\n"), "each starts empty (two headers): \(text(first.stdout))")
        #expect(text(first.stdout).contains("full"), "/tmp is bounded (8 MiB here)")
        let second = sh("cat /tmp/\(marker) /dev/shm/\(marker) 2>/dev/null || echo gone", isolation: isolated)
        #expect(text(second.stdout) == "gone\n", "nothing survives from one run to the next")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)") && !FileManager.default.fileExists(atPath: "/dev/shm/\(marker)"))
    }

    @Test func noNetwork() {
        let outcome = sh("grep -c : /proc/net/dev; cat /proc/sys/kernel/hostname", isolation: isolated)
        #expect(text(outcome.stdout) == "1\nsandbox\n", "only the loopback device: \(text(outcome.stdout))")
    }

    @Test func forkBombsAreCappedAtTheSameLimitEveryTime() throws {
        let lease = try #require(SandboxUserLease.acquire())
        var limitsSeen: [String] = []
        for _ in 0..<4 {
            // Background sleepers until fork fails, then report the cap
            // (dash's `ulimit -p`: RLIMIT_NPROC).
            let outcome = sh("""
                n=0; while [ $n -lt 500 ]; do (sleep 30 &) 2>/dev/null || break; n=$((n+1)); done
                ulimit -p; echo made $n
                """, limits: SandboxLimits(wallSeconds: 20, processes: 40), user: lease.user, isolation: isolated)
            let lines = text(outcome.stdout).split(separator: "\n").map(String.init)
            limitsSeen.append(lines.first ?? "?")
            #expect(lines.last.map { $0.hasPrefix("made ") && $0 != "made 500" } == true, "the bomb was stopped: \(lines)")
            #expect(processes(ownedBy: lease.user.uid).isEmpty, "every process is gone when the run returns")
        }
        #expect(limitsSeen == ["40", "40", "40", "40"], "a fixed cap, never one that grows: \(limitsSeen)")
    }

    @Test func wallLimitEndsTheWholeNamespace() {
        let start = sandboxClock()
        let outcome = sh("(setsid sleep 30 &); sleep 31", limits: SandboxLimits(wallSeconds: 0.5), isolation: isolated)
        #expect(outcome.hitWallLimit)
        #expect(outcome.termination == .signaled(SIGKILL))
        #expect(sandboxClock() - start < 5)
    }
}

/// Starting children never deadlocks, however many threads start them while
/// BLAS threads are busy (fork() once deadlocked in OpenBLAS's atfork handler).
@Suite struct SpawnUnderLoadTests {
    @Test func twoHundredChildrenFromEightThreadsWhileBLASIsBusy() {
        let stop = LockedFlag()
        // Busy BLAS threads: OpenBLAS's own pool, kept working by two callers.
        let blas = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: blas) {
                let n: Int32 = 256
                let a = [Float](repeating: 1, count: Int(n * n))
                var c = [Float](repeating: 0, count: Int(n * n))
                while !stop.value {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, a, n, 0, &c, n)
                }
            }
        }
        let done = DispatchSemaphore(value: 0)
        let results = UnsafeSendableBox([Int32](repeating: -1, count: 200))
        for thread in 0..<8 {
            Thread {
                for i in 0..<25 {
                    let outcome = runSandboxed(executable: "/bin/true", limits: SandboxLimits(wallSeconds: 60),
                                               isolation: .automatic)
                    if case .exited(let status) = outcome.termination { results.set(thread * 25 + i, status) }
                }
                done.signal()
            }.start()
        }
        var finished = 0
        let deadline = DispatchTime.now() + .seconds(300)
        while finished < 8, done.wait(timeout: deadline) == .success { finished += 1 }
        stop.value = true
        blas.wait()
        #expect(finished == 8, "spawning threads still stuck after 300 s: a deadlock")
        #expect(results.values.allSatisfy { $0 == 0 }, "every child ran and exited 0")
    }
}

/// A Bool shared between threads.
private final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool {
        get { lock.withLock { flag } }
        set { lock.withLock { flag = newValue } }
    }
}
