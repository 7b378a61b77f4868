// CSandbox — the grader's side of starting a confined program.
//
// The grader never calls fork(): it is a multithreaded process with OpenBLAS
// loaded, and fork runs every pthread_atfork handler (OpenBLAS's deadlocked
// when three grader threads forked at once). It posix_spawns the small
// single-threaded helper `kindling-sandbox` (Sources/kindling-sandbox),
// which sets up limits, the user and the namespaces, and reports back over
// a status pipe. glibc's posix_spawn uses clone(CLONE_VM | CLONE_VFORK) and
// runs no fork handlers.
#ifndef KINDLING_SANDBOX_H
#define KINDLING_SANDBOX_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Descriptor numbers in the helper (and, except the status pipe, in the
/// program it starts).
#define KINDLING_CHANNEL_FD 3
#define KINDLING_OBSERVATION_FD 4
#define KINDLING_STATUS_FD 5

/// Starts `path` (the helper) with `argv` and exactly the environment
/// `envp`, with descriptors 0–5 taken from `fds` (-1: left closed; 0 from
/// /dev/null when -1), default signal dispositions and an empty signal mask.
/// Returns the pid, or -1 with the error number in `*error_number`.
pid_t kindling_spawn_helper(const char *path, char *const argv[], char *const envp[], const int fds[6],
                            int *error_number);

/// Whether child `pid` has ended, without reaping it: 1 if it has (it stays
/// a zombie, so its pid cannot be reused until the caller reaps it), 0 if it
/// is still running, -1 with errno on error.
int kindling_has_exited(pid_t pid);

/// `pipe2(fds, O_CLOEXEC)` (not visible to Swift without _GNU_SOURCE).
/// Returns 0 or -1 with errno set.
int kindling_pipe_cloexec(int fds[2]);

#ifdef __cplusplus
}
#endif

#endif
