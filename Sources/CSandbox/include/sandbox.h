// CSandbox — start one program in a resource-limited child process.
//
// The grader runs every test of a student's submission in a child made by
// `kindling_spawn`: its own session and process group (so the whole tree can
// be killed at once), resource limits (CPU time, address space, process count,
// file size, no core files), stdin from /dev/null, stdout/stderr to files the
// caller opened, one extra descriptor (the result channel) at a fixed number,
// every other descriptor closed, optionally an unprivileged user, a working
// directory, then `execve`. The Swift side (GraderKit/Sandbox.swift) waits,
// enforces the wall-clock limit and interprets the outcome.
#ifndef KINDLING_SANDBOX_H
#define KINDLING_SANDBOX_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The descriptor number the result channel gets in the child.
#define KINDLING_CHANNEL_FD 3

/// What `kindling_spawn` should start and how to confine it.
/// Limits of 0 (or less) leave that limit as the parent has it.
typedef struct kindling_spawn_config {
    /// Absolute path of the program to execute.
    const char *path;
    /// NULL-terminated argument vector (argv[0] included).
    char *const *argv;
    /// NULL-terminated environment ("NAME=value" strings); the child gets
    /// exactly this environment and nothing inherited.
    char *const *envp;
    /// Folder to `chdir` into (after dropping privileges), or NULL to stay.
    const char *working_directory;
    /// Descriptor that becomes the child's stdout (1); -1 for /dev/null.
    int stdout_fd;
    /// Descriptor that becomes the child's stderr (2); -1 for /dev/null.
    int stderr_fd;
    /// Descriptor that becomes KINDLING_CHANNEL_FD (3) in the child; -1 for none.
    int channel_fd;
    /// RLIMIT_CPU in seconds (soft; the hard limit is one second more, so
    /// SIGXCPU comes first and SIGKILL a second later).
    long long cpu_seconds;
    /// RLIMIT_AS in bytes.
    long long address_space_bytes;
    /// RLIMIT_NPROC: processes and threads the child's real user may own.
    long long processes;
    /// RLIMIT_FSIZE in bytes: the largest file the child may write. Writes
    /// past it fail with EFBIG (SIGXFSZ is ignored in the child, so an
    /// output flood is truncated instead of killing the program).
    long long file_size_bytes;
    /// Nonzero: switch to `uid`/`gid` with no supplementary groups before
    /// exec (requires root). Zero: keep the caller's identity.
    int change_user;
    /// The user id to switch to when `change_user` is nonzero.
    uid_t uid;
    /// The group id to switch to when `change_user` is nonzero.
    gid_t gid;
} kindling_spawn_config;

/// The steps of the child's setup, reported when one of them fails.
typedef enum kindling_spawn_step {
    KINDLING_STEP_NONE = 0,
    KINDLING_STEP_FORK,
    KINDLING_STEP_PIPE,
    KINDLING_STEP_SIGNALS,
    KINDLING_STEP_SETSID,
    KINDLING_STEP_STDIN,
    KINDLING_STEP_DESCRIPTORS,
    KINDLING_STEP_RLIMIT,
    KINDLING_STEP_CHOWN_CHANNEL,
    KINDLING_STEP_SETGROUPS,
    KINDLING_STEP_SETGID,
    KINDLING_STEP_SETUID,
    KINDLING_STEP_CHDIR,
    KINDLING_STEP_EXEC,
} kindling_spawn_step;

/// Starts `config->path` in a confined child (see the file comment).
///
/// Returns the child's pid, which is also its process-group id. Returns -1
/// when anything up to and including `execve` failed; then `*failed_step`
/// (if not NULL) names the step and `*error_number` (if not NULL) holds its
/// errno, and the child has already been reaped.
pid_t kindling_spawn(const kindling_spawn_config *config, int *failed_step, int *error_number);

/// A short name for a `kindling_spawn_step`, e.g. "execve".
const char *kindling_spawn_step_name(int step);

/// Whether child `pid` has ended, without reaping it: 1 if it has (it stays
/// a zombie, so its pid — and process-group id — cannot be reused until the
/// caller reaps it), 0 if it is still running, -1 with errno on error.
int kindling_has_exited(pid_t pid);

/// `pipe2(fds, O_CLOEXEC)` (not visible to Swift without _GNU_SOURCE):
/// a pipe whose ends are not inherited by programs started later. Returns 0
/// or -1 with errno set.
int kindling_pipe_cloexec(int fds[2]);

/// Sends SIGKILL to every process owned by `uid`, by forking a helper that
/// becomes `uid` and calls `kill(-1, SIGKILL)`. Only for a uid dedicated to
/// the sandbox (never the caller's own, never one a system service uses):
/// it catches processes that left the process group with `setsid`.
/// Requires root. Returns 0 on success, otherwise an errno value.
int kindling_kill_user(uid_t uid);

#ifdef __cplusplus
}
#endif

#endif
