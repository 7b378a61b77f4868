// Runs one program in a confined child process (see CSandbox) and reports
// how it ended: exit status or signal, limits hit, resource use, its output
// (truncated) and the bytes it sent over the result channel.

import CSandbox
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The resources one sandboxed run may use.
///
/// The wall-clock limit is deliberately looser than the CPU limit: CPU time
/// is what an infinite loop burns and does not grow on a busy machine, so it
/// catches loops without spurious timeouts; the wall limit catches code that
/// sleeps or waits forever.
public struct SandboxLimits: Sendable, Equatable {
    /// Wall-clock seconds before the whole process group is killed (0: no limit).
    public var wallSeconds: Double
    /// CPU seconds (user + system, all threads) before the kernel stops the
    /// process (`RLIMIT_CPU`: SIGXCPU, then SIGKILL a second later).
    public var cpuSeconds: Int
    /// Address-space bytes (`RLIMIT_AS`). Virtual, not resident, memory: a
    /// Swift test binary reserves a few hundred MiB before running anything
    /// (KindlingPackageTests: about 290 MiB with `MALLOC_ARENA_MAX=2` and
    /// `OPENBLAS_NUM_THREADS=1`, as `runTest` sets; about 650 MiB without).
    public var memoryBytes: Int
    /// Processes and threads the sandbox user may own at once (`RLIMIT_NPROC`).
    /// Only enforced for a user other than root; see `runSandboxed`.
    public var processes: Int
    /// Bytes kept of standard output and of standard error each.
    public var outputBytes: Int
    /// The largest file the program may write (`RLIMIT_FSIZE`), the files
    /// capturing its output included: writing past it fails with EFBIG, so
    /// an output flood stops filling the disk here. Never below
    /// `outputBytes` + 1.
    public var fileBytes: Int
    /// At the wall-clock limit, first ask the program where it is: SIGQUIT,
    /// which Swift's backtracer answers by printing every thread's frames
    /// (the learner's file and line of an endless loop), then kill it once
    /// that is written, or 3 s later. Only without isolation (the course
    /// runner; the test runner then asks for all threads' frames).
    public var stackWhenStopped = false

    /// Limits; the defaults suit one unit test: 30 s wall, 10 s CPU, 1 GiB of
    /// address space, 64 processes/threads, 1 MiB of output kept, files up
    /// to 64 MiB (a test may legitimately save a checkpoint).
    public init(wallSeconds: Double = 30, cpuSeconds: Int = 10, memoryBytes: Int = 1 << 30,
                processes: Int = 64, outputBytes: Int = 1 << 20, fileBytes: Int = 64 << 20) {
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.processes = processes
        self.outputBytes = outputBytes
        self.fileBytes = fileBytes
    }
}

/// An unprivileged identity for sandboxed code when the grader runs as root.
///
/// Root ignores `RLIMIT_NPROC` and can read every file (the reference
/// solutions, the hidden tests), so student code must not run as root.
public struct SandboxUser: Sendable, Hashable, CustomStringConvertible {
    /// The user id.
    public var uid: UInt32
    /// The group id (the only group: supplementary groups are dropped).
    public var gid: UInt32
    /// Whether this uid belongs to the sandbox alone. After each run every
    /// process the uid owns is killed — which catches processes that left
    /// the process group with `setsid()` — so a dedicated uid must not be
    /// used by any other program, nor by two sandboxes at the same time.
    public var dedicated: Bool

    /// A user.
    public init(uid: UInt32, gid: UInt32, dedicated: Bool = false) {
        self.uid = uid
        self.gid = gid
        self.dedicated = dedicated
    }

    /// `nobody:nogroup` (65534:65534), shared with other programs, so never
    /// swept by uid.
    public static let nobody = SandboxUser(uid: 65534, gid: 65534)

    /// The uids dedicated sandbox users are taken from: 65500–65533, inside
    /// Debian's reserved, never-allocated 65000–65533 range.
    public static let dedicatedRange: ClosedRange<UInt32> = 65500...65533

    /// `.nobody` when this process runs as root, `nil` (keep the current
    /// user) otherwise.
    public static var automatic: SandboxUser? { geteuid() == 0 ? .nobody : nil }

    /// `"uid:gid"`.
    public var description: String { "\(uid):\(gid)" }
}

/// A dedicated sandbox user held exclusively, machine-wide, until the lease
/// is released (dropped): a lock file per uid, locked with `flock`, so two
/// graders — or two test runs — on one machine never share a uid. Sharing
/// would let one's per-uid process limit starve the other and one's sweep
/// (`SandboxUser.dedicated`) kill the other's tests. The lock dies with the
/// process that holds it, so a crashed grader leaks nothing.
public final class SandboxUserLease: Sendable {
    /// The leased user (`dedicated`).
    public let user: SandboxUser
    private let lockDescriptor: Int32

    private init(user: SandboxUser, lockDescriptor: Int32) {
        self.user = user
        self.lockDescriptor = lockDescriptor
    }

    deinit { close(lockDescriptor) }  // releases the flock

    /// The folder holding one lock file per uid.
    public static let lockFolder = "/tmp/kindling-sandbox-uids"

    /// Leases the first free uid of `SandboxUser.dedicatedRange` (group
    /// `gid`), or returns nil when all are taken or the locks cannot be made
    /// (`lockFolder` must be a folder of this user, writable by no other).
    /// Only meaningful for root, who alone can switch to these users.
    public static func acquire(gid: UInt32 = 65534) -> SandboxUserLease? {
        _ = mkdir(lockFolder, 0o755)
        // In /tmp anyone could have made it first: trust only our own real folder.
        var info = stat()
        guard lstat(lockFolder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == geteuid(),
              info.st_mode & 0o022 == 0 else { return nil }
        for uid in SandboxUser.dedicatedRange {
            // 0600: a sandboxed program cannot open the lock and keep it.
            let fd = open("\(lockFolder)/\(uid).lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd < 0 { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                return SandboxUserLease(user: SandboxUser(uid: uid, gid: gid, dedicated: true), lockDescriptor: fd)
            }
            close(fd)
        }
        return nil
    }

    /// Up to `count` leases (fewer when others hold the rest).
    public static func acquire(count: Int, gid: UInt32 = 65534) -> [SandboxUserLease] {
        var leases: [SandboxUserLease] = []
        while leases.count < count, let lease = acquire(gid: gid) { leases.append(lease) }
        return leases
    }
}

/// How a sandboxed program ended.
public enum SandboxTermination: Sendable, Equatable, CustomStringConvertible {
    /// It exited with this status.
    case exited(Int32)
    /// A signal ended it (including the sandbox's own SIGKILL on timeout).
    case signaled(Int32)
    /// It never ran: the reason (a failed setup step and its error).
    case failedToStart(String)

    /// `"exit status 0"`, `"signal SIGSEGV"`, `"failed to start: …"`.
    public var description: String {
        switch self {
        case .exited(let status): return "exit status \(status)"
        case .signaled(let signal): return "signal \(signalName(signal))"
        case .failedToStart(let reason): return "failed to start: \(reason)"
        }
    }
}

/// Everything known about one sandboxed run.
public struct SandboxOutcome: Sendable {
    /// How it ended.
    public var termination: SandboxTermination
    /// Standard output, at most `SandboxLimits.outputBytes`.
    public var stdout: Data
    /// Standard error, at most `SandboxLimits.outputBytes`.
    public var stderr: Data
    /// Whether the program wrote more to standard output than was kept.
    public var stdoutTruncated: Bool
    /// Whether the program wrote more to standard error than was kept.
    public var stderrTruncated: Bool
    /// What arrived on the result channel (descriptor 3 in the child).
    public var channel: Data
    /// What arrived on the observation channel (descriptor 4 in the child).
    public var observations: Data
    /// Wall-clock seconds from start to the end of the process.
    public var wallSeconds: Double
    /// CPU seconds, user + system, of the process and its waited-for children.
    public var cpuSeconds: Double
    /// Peak resident memory in bytes.
    public var maxResidentBytes: Int
    /// Whether the sandbox killed it at the wall-clock limit.
    public var hitWallLimit: Bool
    /// Whether the kernel stopped it at the CPU-time limit.
    public var hitCPULimit: Bool
    /// Whether it ran in namespaces of its own (`SandboxIsolation.namespaces`).
    public var isolated: Bool
    /// The limits it ran under.
    public var limits: SandboxLimits

    /// A record of a run: what `runSandboxed` returns, or one made by hand
    /// to judge (`judgeTestRun`) what a run could have written.
    public init(termination: SandboxTermination, stdout: Data = Data(), stderr: Data = Data(),
                stdoutTruncated: Bool = false, stderrTruncated: Bool = false, channel: Data = Data(),
                observations: Data = Data(), wallSeconds: Double = 0, cpuSeconds: Double = 0,
                maxResidentBytes: Int = 0, hitWallLimit: Bool = false, hitCPULimit: Bool = false,
                isolated: Bool = false, limits: SandboxLimits = SandboxLimits()) {
        self.termination = termination
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.channel = channel
        self.observations = observations
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.maxResidentBytes = maxResidentBytes
        self.hitWallLimit = hitWallLimit
        self.hitCPULimit = hitCPULimit
        self.isolated = isolated
        self.limits = limits
    }
}

/// The conventional name of a signal, e.g. `"SIGSEGV"`; `"signal N"` for others.
public func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGHUP: return "SIGHUP"
    case SIGINT: return "SIGINT"
    case SIGQUIT: return "SIGQUIT"
    case SIGILL: return "SIGILL"
    case SIGTRAP: return "SIGTRAP"
    case SIGABRT: return "SIGABRT"
    case SIGBUS: return "SIGBUS"
    case SIGFPE: return "SIGFPE"
    case SIGKILL: return "SIGKILL"
    case SIGUSR1: return "SIGUSR1"
    case SIGSEGV: return "SIGSEGV"
    case SIGUSR2: return "SIGUSR2"
    case SIGPIPE: return "SIGPIPE"
    case SIGALRM: return "SIGALRM"
    case SIGTERM: return "SIGTERM"
    case SIGCHLD: return "SIGCHLD"
    case SIGXCPU: return "SIGXCPU"
    case SIGXFSZ: return "SIGXFSZ"
    case SIGSYS: return "SIGSYS"
    default: return "signal \(signal)"
    }
}

/// How much of the machine a sandboxed program can see.
public enum SandboxIsolation: Sendable, Equatable {
    /// Namespaces of its own (root only; see `kindling-sandbox --isolate`):
    /// a root holding only `/usr`, `/etc`, the program's own folder and the
    /// Swift runtime, read-only; an empty private `/tmp` and `/dev/shm` of
    /// `tmpBytes` (a quarter of it) that vanish with it; a `/proc` showing
    /// only its own processes; no network. Every process it starts dies with
    /// it, and is reaped before the call returns.
    case namespaces(tmpBytes: Int)
    /// The machine as the user it runs as sees it.
    case none

    /// Namespaces (64 MiB of `/tmp`) when this process is root and the
    /// kernel allows them (`sandboxIsolationProblem` is nil), otherwise none.
    public static var automatic: SandboxIsolation {
        sandboxIsolationProblem == nil ? .namespaces(tmpBytes: 64 << 20) : .none
    }
}

/// Why sandboxed programs cannot be isolated here ("not root", or the
/// helper's failure), or nil when they can. Checked once, by starting
/// `/bin/true` isolated.
public let sandboxIsolationProblem: String? = {
    guard geteuid() == 0 else { return "the grader is not running as root" }
    let probe = runSandboxed(executable: "/bin/true", limits: SandboxLimits(wallSeconds: 30),
                             isolation: .namespaces(tmpBytes: 1 << 20))
    if case .exited(0) = probe.termination { return nil }
    return "starting a program in namespaces of its own failed (\(probe.termination))"
}()

/// The helper program that starts sandboxed programs: `$KINDLING_SANDBOX_HELPER`,
/// or `kindling-sandbox` beside this executable (SwiftPM builds both into
/// the same folder).
public func sandboxHelperPath() -> String {
    if let path = ProcessInfo.processInfo.environment["KINDLING_SANDBOX_HELPER"], !path.isEmpty { return path }
    let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("kindling-sandbox").path
}

/// The folder of the Swift toolchain this process runs on (e.g.
/// `/opt/swift/usr`), found from where `libswiftCore.so` is mapped: a
/// Swift test binary needs its runtime libraries and its crash backtracer
/// (`libexec/swift/linux/swift-backtrace`) inside the sandbox. Nil when the
/// runtime lives in the system's own folders.
let swiftToolchainFolder: String? = {
    guard let maps = readWholeFile("/proc/self/maps") else { return nil }
    for line in maps.split(separator: "\n") where line.hasSuffix("/libswiftCore.so") {
        guard let slash = line.firstIndex(of: "/") else { continue }
        // …/usr/lib/swift/linux/libswiftCore.so → …/usr
        var url = URL(fileURLWithPath: String(line[slash...]))
        for _ in 0..<4 { url.deleteLastPathComponent() }
        let path = url.path
        return systemFolders.contains { path == $0 || path.hasPrefix($0 + "/") } ? nil : path
    }
    return nil
}()

/// The last `bytes` of a file (nil if it cannot be read).
func readFileTail(_ path: String, bytes: Int) -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard let end = try? handle.seekToEnd() else { return nil }
    try? handle.seek(toOffset: end > UInt64(bytes) ? end - UInt64(bytes) : 0)
    return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
}

/// A file read to its end: /proc files report size 0, so this reads until
/// end-of-file rather than trusting the size.
func readWholeFile(_ path: String) -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
}

/// Folders every isolated sandbox shows anyway.
private let systemFolders = ["/usr", "/bin", "/lib", "/lib64", "/sbin", "/etc"]

/// Runs `executable` in a confined child process and waits for it.
///
/// The child is started by the helper `kindling-sandbox` (see
/// `sandboxHelperPath()`; never by `fork` in this process). It runs in its
/// own session and process group, with stdin from `/dev/null`, stdout and
/// stderr into private files (kept up to `limits.outputBytes` each; writes
/// past `limits.fileBytes` fail rather than kill), two pipes — descriptor 3,
/// the result channel, and 4, the observation channel — read concurrently
/// so a chatty writer never blocks, and no other inherited descriptor. It
/// gets exactly `environment`, CPU, address-space, process and file-size
/// limits, no core files, and, when `user` is given (this process must be
/// root), that uid and gid with no supplementary groups.
///
/// With `isolation` `.namespaces` it also gets a filesystem, process table
/// and network of its own (see `SandboxIsolation`); its working folder is
/// its private `/tmp` unless `workingDirectory` names a folder it can see.
/// Every process it started is gone when this returns. Without isolation,
/// the working folder is a fresh one (owned by `user`) unless
/// `workingDirectory` is given, and at the end the process group is killed,
/// and for a `dedicated` user every process of that uid.
///
/// The process limit counts every process and thread of the real user. A
/// dedicated user's count is the sandbox's alone and starts at zero when
/// isolated, so the limit is exactly `limits.processes`; otherwise it is set
/// to what the user already has plus `limits.processes`.
///
/// - Returns: how it went; `.failedToStart` when it could not be started.
public func runSandboxed(executable: String, arguments: [String] = [], environment: [String: String] = [:],
                         workingDirectory: String? = nil, limits: SandboxLimits = SandboxLimits(),
                         user: SandboxUser? = nil, isolation: SandboxIsolation = .none) -> SandboxOutcome {
    var isolated = false
    var tmpBytes = 0
    if case .namespaces(let bytes) = isolation { isolated = true; tmpBytes = bytes }
    var outcome = SandboxOutcome(termination: .failedToStart(""), stdout: Data(), stderr: Data(),
                                 stdoutTruncated: false, stderrTruncated: false, channel: Data(), observations: Data(),
                                 wallSeconds: 0, cpuSeconds: 0, maxResidentBytes: 0,
                                 hitWallLimit: false, hitCPULimit: false, isolated: isolated, limits: limits)
    func fail(_ reason: String) -> SandboxOutcome {
        outcome.termination = .failedToStart(reason)
        return outcome
    }
    if (user != nil || isolated) && geteuid() != 0 { return fail("running as another user or isolated requires root") }
    // The child changes folder before execve: a relative path must be made absolute first.
    var executable = executable.hasPrefix("/") ? executable
        : FileManager.default.currentDirectoryPath + "/" + executable
    // Isolated, its folder is shown at the same path: a real one, not a link
    // (SwiftPM's .build/debug is a link).
    if isolated { executable = URL(fileURLWithPath: executable).resolvingSymlinksInPath().path }

    // Private folder for the captured output: only this process can open it.
    guard let captureDirectory = sandboxTemporaryDirectory(prefix: "kindling-capture") else {
        return fail("cannot create a temporary folder: \(errnoText())")
    }
    defer { sandboxRemoveTree(captureDirectory) }
    var ownWorkDirectory: String? = nil
    if workingDirectory == nil && !isolated {
        guard let dir = sandboxTemporaryDirectory(prefix: "kindling-work") else {
            return fail("cannot create a working folder: \(errnoText())")
        }
        if let user, chown(dir, user.uid, user.gid) != 0 {
            sandboxRemoveTree(dir)
            return fail("cannot hand the working folder to \(user): \(errnoText())")
        }
        ownWorkDirectory = dir
    }
    defer { if let ownWorkDirectory { sandboxRemoveTree(ownWorkDirectory) } }
    let directory = workingDirectory ?? ownWorkDirectory

    let stdoutPath = captureDirectory + "/stdout"
    let stderrPath = captureDirectory + "/stderr"
    let stdoutFD = open(stdoutPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    let stderrFD = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    defer {
        if stdoutFD >= 0 { close(stdoutFD) }
        if stderrFD >= 0 { close(stderrFD) }
    }
    guard stdoutFD >= 0, stderrFD >= 0 else { return fail("cannot create output files: \(errnoText())") }

    // Three pipes: the result channel, the observation channel, and the
    // helper's status reports. Only the child may hold the write ends.
    var pipes: [SandboxPipe] = []
    for _ in 0..<3 {
        guard let pipe = SandboxPipe() else { return fail("cannot create a pipe: \(errnoText())") }
        pipes.append(pipe)
    }
    let (channel, observations, status) = (pipes[0], pipes[1], pipes[2])

    // The process limit (see above).
    var processLimit = limits.processes
    if processLimit > 0 {
        if let user {
            if !(isolated && user.dedicated) { processLimit += tasksOwned(by: user.uid, zombies: true) }
        } else if geteuid() != 0 {
            processLimit += tasksOwned(by: getuid(), zombies: true)
        }
    }

    var helperArguments: [String] = []
    if isolated {
        helperArguments += ["--isolate", "--tmp-bytes", "\(tmpBytes)"]
        var binds = [URL(fileURLWithPath: executable).deletingLastPathComponent().path]
        if let swiftToolchainFolder { binds.append(swiftToolchainFolder) }
        for bind in Set(binds) where !systemFolders.contains(where: { bind == $0 || bind.hasPrefix($0 + "/") }) {
            helperArguments += ["--bind", bind]
        }
    }
    if let user { helperArguments += ["--uid", "\(user.uid)", "--gid", "\(user.gid)"] }
    if let directory { helperArguments += ["--chdir", directory] }
    if limits.cpuSeconds > 0 { helperArguments += ["--cpu", "\(limits.cpuSeconds)"] }
    if limits.memoryBytes > 0 { helperArguments += ["--as", "\(limits.memoryBytes)"] }
    if processLimit > 0 { helperArguments += ["--nproc", "\(processLimit)"] }
    // At least one byte more than is kept, so a capture that reaches it was truncated.
    if limits.fileBytes > 0 || limits.outputBytes > 0 {
        helperArguments += ["--fsize", "\(max(limits.fileBytes, limits.outputBytes + 1))"]
    }
    let helper = sandboxHelperPath()
    let argv = [helper] + helperArguments + ["--", executable] + arguments
    let envp = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }

    let start = sandboxClock()
    var spawnError: Int32 = 0
    let pid = withCStrings(argv) { cArgv in
        withCStrings(envp) { cEnvp in
            let fds: [Int32] = [-1, stdoutFD, stderrFD, channel.write, observations.write, status.write]
            return fds.withUnsafeBufferPointer { kindling_spawn_helper(helper, cArgv, cEnvp, $0.baseAddress, &spawnError) }
        }
    }
    for pipe in pipes { pipe.closeWrite() }
    guard pid > 0 else {
        return fail("cannot start the sandbox helper \(helper): \(String(cString: strerror(spawnError)))")
    }

    // Wait for the helper without reaping it, reading all three pipes as
    // data arrives. While it is a zombie its pid cannot be reused.
    var report = SandboxReport()
    var deadline = limits.wallSeconds > 0 ? start + limits.wallSeconds : Double.infinity
    var askedForStack = false
    func readPipes(waitMS: Int32) {
        var fds = pipes.filter(\.open).map { pollfd(fd: $0.read, events: Int16(POLLIN), revents: 0) }
        if fds.isEmpty { usleep(UInt32(waitMS) * 1000); return }
        if poll(&fds, nfds_t(fds.count), waitMS) > 0 { for pipe in pipes { pipe.drain() } }
        report.parse(status.data)
    }
    while kindling_has_exited(pid) == 0 {
        let now = sandboxClock()
        if now >= deadline, limits.stackWhenStopped, !isolated, !askedForStack, let target = report.killTarget {
            // Where is it? Swift's backtracer prints every thread's frames
            // and lets the program go on: SIGKILL once it has written
            // "Backtrace took …", or after 3 s.
            askedForStack = true
            outcome.hitWallLimit = true
            outcome.cpuSeconds = treeCPUSeconds(root: abs(target))
            kill(target, SIGQUIT)
            deadline = now + 3
            continue
        }
        if askedForStack, let tail = readFileTail(stderrPath, bytes: 4096), tail.contains("Backtrace took") {
            deadline = now
        }
        if now >= deadline {
            outcome.hitWallLimit = true
            // The whole tree: an isolated namespace dies with its init; a
            // process group with its leader's group kill. Before the helper
            // has said whom to kill, the helper itself (its children follow).
            if !askedForStack { outcome.cpuSeconds = report.killTarget.map { treeCPUSeconds(root: abs($0)) } ?? 0 }
            kill(report.killTarget ?? pid, SIGKILL)
            if report.killTarget == nil { kill(pid, SIGKILL) }
            break
        }
        readPipes(waitMS: Int32(max(1, min(10, (deadline - now) * 1000))))
    }
    if !isolated, let target = report.killTarget { kill(target, SIGKILL) }  // stray children of the group
    var helperStatus: Int32 = 0
    while waitpid(pid, &helperStatus, 0) < 0 && errno == EINTR {}
    outcome.wallSeconds = sandboxClock() - start
    if !isolated, let user, user.dedicated {
        // Processes that left the group with setsid() (isolated ones cannot
        // outlive their namespace). SIGKILL takes a moment.
        let until = sandboxClock() + 1
        while tasksOwned(by: user.uid, zombies: false) > 0, sandboxClock() < until {
            _ = runProgram(helper, ["--sweep-uid", "\(user.uid)"])
            usleep(2_000)
        }
    }
    for pipe in pipes { pipe.drain(untilEnd: true) }
    report.parse(status.data)
    outcome.channel = channel.data
    outcome.observations = observations.data

    if let end = report.end {
        outcome.termination = end.termination
        outcome.cpuSeconds = end.cpuSeconds
        outcome.maxResidentBytes = end.maxResidentBytes
    } else if outcome.hitWallLimit {
        outcome.termination = .signaled(SIGKILL)
    } else if let failure = report.failure {
        return fail(failure + " (\(executable))")
    } else {
        return fail("the sandbox helper ended (\(helperStatus)) without saying how the program did: "
                    + String(decoding: status.data.prefix(500), as: UTF8.self))
    }
    if case .signaled(let signal) = outcome.termination, !outcome.hitWallLimit, limits.cpuSeconds > 0 {
        // SIGXCPU at the soft limit; SIGKILL at the hard limit if it was caught or ignored.
        outcome.hitCPULimit = signal == SIGXCPU
            || (signal == SIGKILL && outcome.cpuSeconds >= Double(limits.cpuSeconds) - 0.05)
    }
    (outcome.stdout, outcome.stdoutTruncated) = readCapped(stdoutPath, limit: limits.outputBytes)
    (outcome.stderr, outcome.stderrTruncated) = readCapped(stderrPath, limit: limits.outputBytes)
    return outcome
}

/// One pipe from a sandboxed program: its read end (non-blocking, kept by
/// this process) and its write end (handed to the child, then closed here).
private final class SandboxPipe {
    let read: Int32
    private(set) var write: Int32
    private(set) var data = Data()
    private(set) var open = true
    /// Far more than any test's events; guards the grader's memory.
    static let cap = 64 << 20

    init?() {
        var ends: [Int32] = [-1, -1]
        guard kindling_pipe_cloexec(&ends) == 0 else { return nil }
        (read, write) = (ends[0], ends[1])
        _ = fcntl(read, F_SETFL, fcntl(read, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        close(read)
        closeWrite()
    }

    func closeWrite() {
        if write >= 0 { close(write) }
        write = -1
    }

    /// Reads what the pipe holds now; with `untilEnd`, waits (briefly) for
    /// its end too: a sandboxed grandchild could hold the write end open.
    func drain(untilEnd: Bool = false) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let giveUp = sandboxClock() + 1
        while open {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress, $0.count) }
            if n > 0 {
                if data.count < Self.cap { data.append(contentsOf: buffer[0..<min(n, Self.cap - data.count)]) }
            } else if n == 0 {
                open = false
            } else if errno != EINTR {
                guard untilEnd, sandboxClock() < giveUp else { return }  // EAGAIN: nothing more for now
                var fds = pollfd(fd: read, events: Int16(POLLIN), revents: 0)
                _ = poll(&fds, 1, 10)
            }
        }
    }
}

/// What the helper said on its status pipe (see Sources/kindling-sandbox).
private struct SandboxReport {
    struct End {
        var termination: SandboxTermination
        var cpuSeconds: Double
        var maxResidentBytes: Int
    }
    /// The pid to SIGKILL to end everything (negative: a process group).
    var killTarget: pid_t?
    /// "STEP: error" when setup failed.
    var failure: String?
    var end: End?

    mutating func parse(_ data: Data) {
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            switch words.first {
            case "kill" where words.count == 2:
                killTarget = pid_t(words[1])
            case "fail" where words.count == 3:
                let number = Int32(words[2]) ?? 0
                failure = "\(words[1]): \(String(cString: strerror(number)))"
            case "end" where words.count == 6:
                guard let code = Int32(words[2]), let user = Double(words[3]), let system = Double(words[4]),
                      let rss = Int(words[5]) else { continue }
                end = End(termination: words[1] == "signal" ? .signaled(code) : .exited(code),
                          cpuSeconds: (user + system) / 1e6, maxResidentBytes: rss * 1024)
            default:
                continue
            }
        }
    }
}

/// Calls `body` with a NULL-terminated C array of `strings`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Runs a short trusted program (the helper in a mode of its own) and waits.
private func runProgram(_ path: String, _ arguments: [String]) -> Int32 {
    let pid = withCStrings([path] + arguments) { argv in
        withCStrings([]) { envp in
            [Int32](repeating: -1, count: 6).withUnsafeBufferPointer { kindling_spawn_helper(path, argv, envp, $0.baseAddress, nil) }
        }
    }
    guard pid > 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
}

/// CPU seconds used so far by `root` and every process below it.
private func treeCPUSeconds(root: pid_t) -> Double {
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    var total = 0.0
    for pid in processTree(root: root) {
        if let stat = readWholeFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") {
            // Fields after "(comm)": state is 3, utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 13 { total += (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0) }
        }
    }
    return total / ticks
}

/// `root` and every process below it now, parents first (from each task's
/// /proc/PID/task/TID/children).
func processTree(root: pid_t) -> [pid_t] {
    var stack = [root], all: [pid_t] = []
    var seen = Set<pid_t>()
    while let pid = stack.popLast() {
        guard seen.insert(pid).inserted else { continue }
        all.append(pid)
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for task in tasks {
            stack += (readWholeFile("/proc/\(pid)/task/\(task)/children") ?? "").split(separator: " ").compactMap { pid_t($0) }
        }
    }
    return all
}

// MARK: - Helpers

/// Seconds on a clock that never jumps.
func sandboxClock() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

private func seconds(_ time: timeval) -> Double {
    Double(time.tv_sec) + Double(time.tv_usec) / 1e6
}

private func errnoText() -> String {
    String(cString: strerror(errno))
}

/// A new folder with mode 0700 in the temporary directory, or nil.
func sandboxTemporaryDirectory(prefix: String) -> String? {
    var base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    if base.isEmpty { base = "/tmp" }
    while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
    var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let made = mkdtemp(buffer.baseAddress!) else { return nil }
        return String(cString: made)
    }
}

/// Removes a folder and everything in it (files a sandboxed user made there too).
func sandboxRemoveTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// The first `limit` bytes of a file, and whether it held more.
private func readCapped(_ path: String, limit: Int) -> (Data, Bool) {
    guard let handle = FileHandle(forReadingAtPath: path) else { return (Data(), false) }
    defer { try? handle.close() }
    if limit <= 0 { return ((try? handle.readToEnd()) ?? Data(), false) }
    let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
    return data.count > limit ? (data.prefix(limit), true) : (data, false)
}

/// How many tasks (processes and threads — what `RLIMIT_NPROC` counts) the
/// real user `uid` owns now, from /proc; zombies (dead, not yet reaped)
/// included or not.
private func tasksOwned(by uid: uid_t, zombies: Bool) -> Int {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
    var total = 0
    for entry in entries where entry.first?.isNumber == true {
        guard let text = readWholeFile("/proc/\(entry)/status") else { continue }
        var realUID: uid_t? = nil
        var threads = 1
        var zombie = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Uid:") {
                realUID = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { uid_t($0) }
            } else if line.hasPrefix("Threads:") {
                threads = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { Int($0) } ?? 1
            } else if line.hasPrefix("State:") {
                zombie = line.contains("Z")
            }
        }
        if realUID == uid && (zombies || !zombie) { total += max(threads, 1) }
    }
    return total
}
