// CSandbox — see include/sandbox.h for the contract.
//
// Between fork and execve the child may only use async-signal-safe calls:
// the parent is a multithreaded Swift process, and another thread may have
// held a lock (malloc's, stdio's) at the moment of the fork. Everything below
// in the child is a plain system call; no malloc, no stdio, no Swift.
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

// What the child writes to the parent through the close-on-exec pipe when a
// setup step fails. A successful execve closes the pipe, so the parent reads
// end-of-file instead.
struct failure_report {
    int step;
    int error_number;
};

// Writes the report (best effort) and ends the child without running any
// atexit handler or flushing stdio buffers inherited from the parent.
static void child_fail(int report_fd, int step) {
    struct failure_report report = { step, errno };
    ssize_t ignored = write(report_fd, &report, sizeof report);
    (void)ignored;
    _exit(127);
}

// Sets a resource limit to `value`, never raising the hard limit above the
// one inherited (an unprivileged caller may not). `extra_hard` lets the hard
// limit sit a little above the soft one (RLIMIT_CPU: SIGXCPU, then SIGKILL).
static int set_limit(int resource, long long value, long long extra_hard) {
    struct rlimit current;
    if (getrlimit(resource, &current) != 0) return -1;
    rlim_t soft = (rlim_t)value;
    rlim_t hard = (rlim_t)(value + extra_hard);
    if (current.rlim_max != RLIM_INFINITY && hard > current.rlim_max) hard = current.rlim_max;
    if (soft > hard) soft = hard;
    struct rlimit wanted = { soft, hard };
    return setrlimit(resource, &wanted);
}

// Closes every descriptor numbered `first` or above.
static void close_from(int first) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0U) == 0) return;
#endif
    // Older kernels: close one by one up to the descriptor limit.
    struct rlimit files;
    long last = 65536;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) last = (long)files.rlim_cur;
    if (last > (1L << 20)) last = 1L << 20;
    for (long fd = first; fd < last; fd++) close((int)fd);
}

// Runs in the child between fork and execve. Never returns.
static void child_setup(const kindling_spawn_config *c, int report_fd, pid_t parent) {
    // Signals: default dispositions (handlers the parent installed, such as
    // the Swift runtime's crash handlers, must not run here), except SIGXFSZ,
    // which is ignored so that writing past RLIMIT_FSIZE fails with EFBIG
    // rather than killing the test. Ignored dispositions survive execve.
    struct sigaction action;
    memset(&action, 0, sizeof action);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        action.sa_handler = (sig == SIGXFSZ) ? SIG_IGN : SIG_DFL;
        (void)sigaction(sig, &action, NULL);  // EINVAL for libc-reserved signals: fine
    }
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) child_fail(report_fd, KINDLING_STEP_SIGNALS);

    // A new session makes the child a process-group leader (pgid == pid), so
    // the parent can kill it and everything it forks with kill(-pid, ...).
    if (setsid() < 0) child_fail(report_fd, KINDLING_STEP_SETSID);

    // Descriptors. First copy every source to a number >= 10 so that the
    // dup2 calls below cannot overwrite a source that happens to be 0..4.
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0) child_fail(report_fd, KINDLING_STEP_STDIN);
    int in = fcntl(null_fd, F_DUPFD_CLOEXEC, 10);
    int out = fcntl(c->stdout_fd >= 0 ? c->stdout_fd : null_fd, F_DUPFD_CLOEXEC, 10);
    int err = fcntl(c->stderr_fd >= 0 ? c->stderr_fd : null_fd, F_DUPFD_CLOEXEC, 10);
    int channel = c->channel_fd >= 0 ? fcntl(c->channel_fd, F_DUPFD_CLOEXEC, 10) : -1;
    int report = fcntl(report_fd, F_DUPFD_CLOEXEC, 10);
    if (in < 0 || out < 0 || err < 0 || report < 0 || (c->channel_fd >= 0 && channel < 0))
        child_fail(report_fd, KINDLING_STEP_DESCRIPTORS);
    report_fd = report;
    // dup2 clears close-on-exec on the target: 0, 1, 2 and 3 survive execve.
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) child_fail(report_fd, KINDLING_STEP_DESCRIPTORS);
    if (channel >= 0) {
        if (dup2(channel, KINDLING_CHANNEL_FD) < 0) child_fail(report_fd, KINDLING_STEP_DESCRIPTORS);
    } else {
        close(KINDLING_CHANNEL_FD);
    }
    // The failure pipe moves to 4 and stays close-on-exec; everything above
    // it (the parent's files, sockets, other children's pipes) is closed.
    if (dup3(report_fd, KINDLING_CHANNEL_FD + 1, O_CLOEXEC) < 0) child_fail(report_fd, KINDLING_STEP_DESCRIPTORS);
    report_fd = KINDLING_CHANNEL_FD + 1;
    close_from(KINDLING_CHANNEL_FD + 2);

    // Resource limits. No core files: a crashing test must not fill the disk.
    if (set_limit(RLIMIT_CORE, 0, 0) != 0) child_fail(report_fd, KINDLING_STEP_RLIMIT);
    if (c->cpu_seconds > 0 && set_limit(RLIMIT_CPU, c->cpu_seconds, 1) != 0) child_fail(report_fd, KINDLING_STEP_RLIMIT);
    if (c->address_space_bytes > 0 && set_limit(RLIMIT_AS, c->address_space_bytes, 0) != 0) child_fail(report_fd, KINDLING_STEP_RLIMIT);
    if (c->processes > 0 && set_limit(RLIMIT_NPROC, c->processes, 0) != 0) child_fail(report_fd, KINDLING_STEP_RLIMIT);
    if (c->file_size_bytes > 0 && set_limit(RLIMIT_FSIZE, c->file_size_bytes, 0) != 0) child_fail(report_fd, KINDLING_STEP_RLIMIT);

    if (c->change_user) {
        // The channel may be reopened by path (/dev/fd/3): the pipe's inode
        // must belong to the new user or that open fails with EACCES.
        if (channel >= 0 && fchown(KINDLING_CHANNEL_FD, c->uid, c->gid) != 0) child_fail(report_fd, KINDLING_STEP_CHOWN_CHANNEL);
        // Group first: after setuid we could no longer change it.
        if (setgroups(0, NULL) != 0) child_fail(report_fd, KINDLING_STEP_SETGROUPS);
        if (setgid(c->gid) != 0) child_fail(report_fd, KINDLING_STEP_SETGID);
        if (setuid(c->uid) != 0) child_fail(report_fd, KINDLING_STEP_SETUID);
        // Paranoia: root must really be gone.
        if (c->uid != 0 && setuid(0) == 0) { errno = EPERM; child_fail(report_fd, KINDLING_STEP_SETUID); }
    }

    // If the grader dies, so does the test. Set after the user change, which
    // clears it; the getppid check closes the race with an early death.
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);

    // After dropping privileges, so the folder must be usable by the new user.
    if (c->working_directory != NULL && chdir(c->working_directory) != 0) child_fail(report_fd, KINDLING_STEP_CHDIR);

    execve(c->path, c->argv, c->envp);
    child_fail(report_fd, KINDLING_STEP_EXEC);
}

pid_t kindling_spawn(const kindling_spawn_config *config, int *failed_step, int *error_number) {
    if (failed_step) *failed_step = KINDLING_STEP_NONE;
    if (error_number) *error_number = 0;

    int report_pipe[2];
    if (pipe2(report_pipe, O_CLOEXEC) != 0) {
        if (failed_step) *failed_step = KINDLING_STEP_PIPE;
        if (error_number) *error_number = errno;
        return -1;
    }

    // Block every signal across fork so that no handler of the parent runs in
    // the child before it has reset the dispositions; the child unblocks.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(report_pipe[0]);
        child_setup(config, report_pipe[1], parent);  // does not return
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(report_pipe[1]);

    if (pid < 0) {
        close(report_pipe[0]);
        if (failed_step) *failed_step = KINDLING_STEP_FORK;
        if (error_number) *error_number = fork_errno;
        return -1;
    }

    // End-of-file: execve succeeded and closed the pipe. A full report: a
    // step failed, the child has exited with 127 and is reaped here.
    struct failure_report report;
    size_t got = 0;
    while (got < sizeof report) {
        ssize_t n = read(report_pipe[0], (char *)&report + got, sizeof report - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(report_pipe[0]);
    if (got == 0) return pid;

    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (failed_step) *failed_step = got == sizeof report ? report.step : KINDLING_STEP_EXEC;
    if (error_number) *error_number = got == sizeof report ? report.error_number : EIO;
    return -1;
}

const char *kindling_spawn_step_name(int step) {
    switch (step) {
    case KINDLING_STEP_NONE: return "none";
    case KINDLING_STEP_FORK: return "fork";
    case KINDLING_STEP_PIPE: return "pipe";
    case KINDLING_STEP_SIGNALS: return "signal setup";
    case KINDLING_STEP_SETSID: return "setsid";
    case KINDLING_STEP_STDIN: return "open /dev/null";
    case KINDLING_STEP_DESCRIPTORS: return "descriptor setup";
    case KINDLING_STEP_RLIMIT: return "setrlimit";
    case KINDLING_STEP_CHOWN_CHANNEL: return "fchown of the result channel";
    case KINDLING_STEP_SETGROUPS: return "setgroups";
    case KINDLING_STEP_SETGID: return "setgid";
    case KINDLING_STEP_SETUID: return "setuid";
    case KINDLING_STEP_CHDIR: return "chdir";
    case KINDLING_STEP_EXEC: return "execve";
    default: return "unknown step";
    }
}

int kindling_has_exited(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int result;
    do {
        result = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT);
    } while (result < 0 && errno == EINTR);
    if (result < 0) return -1;
    return info.si_pid == pid ? 1 : 0;
}

int kindling_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int kindling_kill_user(uid_t uid) {
    if (uid == 0 || uid == getuid() || uid == geteuid()) return EINVAL;  // would hit the grader itself
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = fork();
    if (pid == 0) {
        // As `uid` (real, effective and saved), kill(-1) reaches exactly the
        // processes that uid owns, plus this helper itself, which is fine.
        sigset_t none;
        sigemptyset(&none);
        if (setgroups(0, NULL) != 0 || setuid(uid) != 0) _exit(1);
        sigprocmask(SIG_SETMASK, &none, NULL);
        kill(-1, SIGKILL);
        _exit(0);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (pid < 0) return fork_errno;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    // Killed by its own SIGKILL or exited 0: both mean kill(-1) ran.
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) return EPERM;
    return 0;
}
