// CSandbox — see include/sandbox.h for the contract.
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t kindling_spawn_helper(const char *path, char *const argv[], char *const envp[], const int fds[6],
                            int *error_number) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int error = posix_spawn_file_actions_init(&actions);
    if (error == 0) error = posix_spawnattr_init(&attributes);
    if (error != 0) {
        if (error_number) *error_number = error;
        return -1;
    }
    // Two passes, so that no source is overwritten before it is copied:
    // first everything to numbers above every source, then down to 0..5.
    int base = 10;
    for (int n = 0; n < 6; n++) if (fds[n] >= base) base = fds[n] + 1;
    for (int n = 0; n < 6 && error == 0; n++) {
        if (fds[n] >= 0) error = posix_spawn_file_actions_adddup2(&actions, fds[n], base + n);
    }
    for (int n = 0; n < 6 && error == 0; n++) {
        if (fds[n] >= 0) {
            error = posix_spawn_file_actions_adddup2(&actions, base + n, n);
            if (error == 0) error = posix_spawn_file_actions_addclose(&actions, base + n);
        } else if (n == 0) {
            error = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        } else {
            error = posix_spawn_file_actions_addclose(&actions, n);
            if (error == EBADF) error = 0;
        }
    }
    // No handler of ours (Swift's crash handlers) and no blocked signal in
    // the helper. (It closes every descriptor above 5 itself.)
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    if (error == 0) error = posix_spawnattr_setsigdefault(&attributes, &all);
    if (error == 0) error = posix_spawnattr_setsigmask(&attributes, &none);
    if (error == 0) error = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    if (error == 0) error = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (error != 0) {
        if (error_number) *error_number = error;
        return -1;
    }
    return pid;
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
