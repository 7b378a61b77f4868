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
    /// The limits it ran under.
    public var limits: SandboxLimits
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

/// Runs `executable` in a confined child process and waits for it.
///
/// The child runs in its own session and process group, with stdin from
/// `/dev/null`, stdout and stderr into private files (kept up to
/// `limits.outputBytes` each; writes past `limits.fileBytes` fail rather
/// than kill), a pipe as descriptor 3 — the result channel, read
/// concurrently so a chatty writer never blocks — and no other inherited
/// descriptor. It gets exactly
/// `environment`, CPU, address-space, process and file-size limits, no core
/// files, and, when `user` is given (this process must be root), that uid and
/// gid with no supplementary groups; descriptor 3 is handed to that user so
/// it can be reopened as `/dev/fd/3`.
///
/// At the wall-clock limit the whole process group is killed with SIGKILL;
/// after the program ends the group is killed anyway (stray children), and
/// for a `dedicated` user every process of that uid.
///
/// The process limit counts every process and thread of the real user, so
/// it is set to what that user already has plus `limits.processes`. The
/// user is `user` — best a dedicated one, whose count is the sandbox's
/// alone — or, without one, the caller: then anything lower would stop the
/// program from starting threads, and as root the kernel does not enforce
/// the limit at all.
///
/// - Parameters:
///   - executable: absolute path of the program.
///   - arguments: its arguments, without `argv[0]`.
///   - environment: its whole environment.
///   - workingDirectory: where it runs; `nil` makes a fresh empty folder
///     (owned by `user`) and removes it afterwards.
///   - limits: the resource limits.
///   - user: the identity to run as, or `nil` to keep the caller's.
/// - Returns: how it went; `.failedToStart` when it could not be started.
public func runSandboxed(executable: String, arguments: [String] = [], environment: [String: String] = [:],
                         workingDirectory: String? = nil, limits: SandboxLimits = SandboxLimits(),
                         user: SandboxUser? = nil) -> SandboxOutcome {
    var outcome = SandboxOutcome(termination: .failedToStart(""), stdout: Data(), stderr: Data(),
                                 stdoutTruncated: false, stderrTruncated: false, channel: Data(),
                                 wallSeconds: 0, cpuSeconds: 0, maxResidentBytes: 0,
                                 hitWallLimit: false, hitCPULimit: false, limits: limits)
    func fail(_ reason: String) -> SandboxOutcome {
        outcome.termination = .failedToStart(reason)
        return outcome
    }
    if user != nil && geteuid() != 0 { return fail("running as another user requires root") }
    // The child changes folder before execve: a relative path must be made absolute first.
    let executable = executable.hasPrefix("/") ? executable
        : FileManager.default.currentDirectoryPath + "/" + executable

    // Private folder for the captured output: only this process can open it.
    guard let captureDirectory = sandboxTemporaryDirectory(prefix: "kindling-capture") else {
        return fail("cannot create a temporary folder: \(errnoText())")
    }
    defer { sandboxRemoveTree(captureDirectory) }
    var ownWorkDirectory: String? = nil
    if workingDirectory == nil {
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
    let directory = workingDirectory ?? ownWorkDirectory!

    let stdoutPath = captureDirectory + "/stdout"
    let stderrPath = captureDirectory + "/stderr"
    let stdoutFD = open(stdoutPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    let stderrFD = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    defer {
        if stdoutFD >= 0 { close(stdoutFD) }
        if stderrFD >= 0 { close(stderrFD) }
    }
    guard stdoutFD >= 0, stderrFD >= 0 else { return fail("cannot create output files: \(errnoText())") }

    var channelPipe: [Int32] = [-1, -1]
    guard kindling_pipe_cloexec(&channelPipe) == 0 else { return fail("cannot create the result channel: \(errnoText())") }
    let channelRead = channelPipe[0]
    var channelWrite = channelPipe[1]
    defer {
        close(channelRead)
        if channelWrite >= 0 { close(channelWrite) }
    }
    _ = fcntl(channelRead, F_SETFL, fcntl(channelRead, F_GETFL) | O_NONBLOCK)

    // RLIMIT_NPROC caps all tasks of the real user, not the child's own: so
    // allow for what the user already has (the caller's own threads, or
    // zombies of a previous run not yet reaped by init).
    var processLimit = limits.processes
    if processLimit > 0 {
        if let user {
            processLimit += tasksOwned(by: user.uid, zombies: true)
        } else if geteuid() != 0 {
            processLimit += tasksOwned(by: getuid(), zombies: true)
        }
    }

    // C strings for argv and envp, freed after the spawn.
    let argv = [executable] + arguments
    let envp = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    var cArgv: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    var cEnvp: [UnsafeMutablePointer<CChar>?] = envp.map { strdup($0) } + [nil]
    defer {
        cArgv.forEach { free($0) }
        cEnvp.forEach { free($0) }
    }

    let start = sandboxClock()
    var failedStep: Int32 = 0
    var errorNumber: Int32 = 0
    let pid: pid_t = executable.withCString { path in
        directory.withCString { dir in
            cArgv.withUnsafeMutableBufferPointer { argvBuffer in
                cEnvp.withUnsafeMutableBufferPointer { envpBuffer in
                    var config = kindling_spawn_config()
                    config.path = path
                    config.argv = UnsafePointer(argvBuffer.baseAddress)
                    config.envp = UnsafePointer(envpBuffer.baseAddress)
                    config.working_directory = dir
                    config.stdout_fd = stdoutFD
                    config.stderr_fd = stderrFD
                    config.channel_fd = channelWrite
                    config.cpu_seconds = Int64(limits.cpuSeconds)
                    config.address_space_bytes = Int64(limits.memoryBytes)
                    config.processes = Int64(processLimit)
                    // At least one byte more than is kept, so a capture that reaches it was truncated.
                    config.file_size_bytes = limits.fileBytes > 0 || limits.outputBytes > 0
                        ? Int64(max(limits.fileBytes, limits.outputBytes + 1)) : 0
                    if let user {
                        config.change_user = 1
                        config.uid = user.uid
                        config.gid = user.gid
                    }
                    return kindling_spawn(&config, &failedStep, &errorNumber)
                }
            }
        }
    }
    guard pid > 0 else {
        let step = String(cString: kindling_spawn_step_name(failedStep))
        return fail("\(step): \(String(cString: strerror(errorNumber))) (\(executable))")
    }
    // Only the child may hold the write end now, or end-of-file never comes.
    close(channelWrite)
    channelWrite = -1

    var channel = Data()
    let channelCap = 64 << 20  // far more than any test's events; guards the grader's memory
    var channelOpen = true
    // Reads whatever the channel holds right now (it is non-blocking).
    func drainChannel() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while channelOpen {
            let n = buffer.withUnsafeMutableBytes { read(channelRead, $0.baseAddress, $0.count) }
            if n > 0 {
                if channel.count < channelCap { channel.append(contentsOf: buffer[0..<min(n, channelCap - channel.count)]) }
            } else if n == 0 {
                channelOpen = false
            } else if errno != EINTR {
                return  // EAGAIN: nothing more for now
            }
        }
    }

    // Wait for the end without reaping: while the child is a zombie its pid,
    // which is also the process-group id, cannot be handed to a new process,
    // so the group kill below can never hit an unrelated group.
    let deadline = limits.wallSeconds > 0 ? start + limits.wallSeconds : Double.infinity
    while kindling_has_exited(pid) == 0 {
        let now = sandboxClock()
        if now >= deadline {
            outcome.hitWallLimit = true
            break
        }
        // Sleep until output arrives on the channel or 10 ms pass.
        let waitMS = Int32(max(1, min(10, (deadline - now) * 1000)))
        if channelOpen {
            var fds = pollfd(fd: channelRead, events: Int16(POLLIN), revents: 0)
            if poll(&fds, 1, waitMS) > 0 { drainChannel() }
        } else {
            usleep(UInt32(waitMS) * 1000)
        }
    }
    // At the wall limit this kills the test; otherwise it catches stray
    // children (a test that forked). A dedicated uid loses every process,
    // including ones that left the group with setsid().
    kill(-pid, SIGKILL)
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    outcome.wallSeconds = sandboxClock() - start
    if let user, user.dedicated {
        // SIGKILL takes a moment; wait (briefly) until none is left alive.
        // Their zombies may linger until init reaps them; the next run's
        // process limit allows for those.
        let until = sandboxClock() + 1
        while kindling_kill_user(user.uid) == 0, tasksOwned(by: user.uid, zombies: false) > 0, sandboxClock() < until {
            usleep(2_000)
        }
    }
    drainChannel()
    outcome.channel = channel

    if (status & 0x7f) == 0 {
        outcome.termination = .exited((status >> 8) & 0xff)  // WIFEXITED / WEXITSTATUS
    } else {
        outcome.termination = .signaled(status & 0x7f)  // WTERMSIG
    }
    outcome.cpuSeconds = seconds(usage.ru_utime) + seconds(usage.ru_stime)
    outcome.maxResidentBytes = Int(usage.ru_maxrss) * 1024
    if case .signaled(let signal) = outcome.termination, !outcome.hitWallLimit, limits.cpuSeconds > 0 {
        // SIGXCPU at the soft limit; SIGKILL at the hard limit if it was caught or ignored.
        outcome.hitCPULimit = signal == SIGXCPU
            || (signal == SIGKILL && outcome.cpuSeconds >= Double(limits.cpuSeconds) - 0.05)
    }

    (outcome.stdout, outcome.stdoutTruncated) = readCapped(stdoutPath, limit: limits.outputBytes)
    (outcome.stderr, outcome.stderrTruncated) = readCapped(stderrPath, limit: limits.outputBytes)
    return outcome
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
        guard let text = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8) else { continue }
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
