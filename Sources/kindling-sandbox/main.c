// kindling-sandbox — starts one program confined, for the grader.
//
// The grader (a multithreaded Swift process with OpenBLAS loaded) never
// forks: `fork` runs every library's `pthread_atfork` handlers, and
// OpenBLAS's deadlocked when several grader threads forked at once. It
// `posix_spawn`s this small, single-threaded C program instead, which may
// then fork, mount and change user freely.
//
//   kindling-sandbox [options] -- PROGRAM [ARGS...]
//
// Descriptors on entry (set up by the grader):
//   0 stdin (/dev/null), 1 stdout, 2 stderr — handed to PROGRAM;
//   3 the result channel, 4 the observation channel — handed to PROGRAM
//     when open;
//   5 the status pipe — this program's report to the grader, never
//     PROGRAM's.
// Everything above 5 is closed at once. PROGRAM gets this program's own
// environment, exactly.
//
// Options:
//   --isolate           new mount, PID, IPC, UTS and network namespaces
//                       (root only): PROGRAM sees a root of its own holding
//                       /usr and /etc (read-only), the --bind folders
//                       (read-only), a private /dev, a /proc showing only
//                       its own processes, and empty, size-bounded /tmp and
//                       /dev/shm that vanish with it. It runs as PID 2,
//                       under an init (PID 1) that reaps everything and
//                       reports; when the init exits, the kernel kills
//                       whatever is left in the namespace.
//   --bind PATH         (with --isolate) a folder to show read-only at the
//                       same path; repeatable.
//   --tmp-bytes N       (with --isolate) size of the private /tmp (default
//                       64 MiB; /dev/shm gets a quarter).
//   --uid U --gid G     run PROGRAM as this user and group, with no
//                       supplementary groups (root only).
//   --chdir DIR         working folder (after the user change); with
//                       --isolate the default is /tmp.
//   --sweep-uid U       instead of starting anything: kill every process
//                       of user U (as U: kill(-1, SIGKILL)); for a uid that
//                       belongs to the sandbox alone, when not --isolate'd.
//   --cpu S --as BYTES --nproc N --fsize BYTES
//                       RLIMIT_CPU (soft S, hard S+1), RLIMIT_AS,
//                       RLIMIT_NPROC, RLIMIT_FSIZE. RLIMIT_CORE is 0.
//
// The status pipe carries text lines, in this order:
//   kill PID            SIGKILL to PID ends everything (the namespace's
//                       init with --isolate; otherwise PROGRAM's process
//                       group, so PID is negative)
//   fail STEP ERRNO     a setup step failed; PROGRAM never ran
//   end exit CODE UTIME_US STIME_US MAXRSS_KB
//   end signal SIG UTIME_US STIME_US MAXRSS_KB
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

enum { STATUS_FD = 5, MAX_BINDS = 16 };

struct options {
    int isolate;
    const char *binds[MAX_BINDS];
    int bind_count;
    long long tmp_bytes;
    int change_user;
    uid_t uid;
    gid_t gid;
    const char *chdir_to;
    long long cpu, address_space, processes, file_size;
    char **program;  // argv of PROGRAM, NULL-terminated
};

// ---------------------------------------------------------------- reporting

// One line to the grader. Short writes to a pipe of a few bytes do not happen.
static void status(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void status(const char *format, ...) {
    char line[256];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n > 0) {
        ssize_t ignored = write(STATUS_FD, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)ignored;
    }
}

static void fail(const char *step) {
    status("fail %s %d\n", step, errno);
    _exit(127);
}

// ------------------------------------------------------------------- limits

// Sets a resource limit, never above the inherited hard limit.
static int set_limit(int resource, long long value, long long extra_hard) {
    struct rlimit current;
    if (getrlimit(resource, &current) != 0) return -1;
    rlim_t soft = (rlim_t)value, hard = (rlim_t)(value + extra_hard);
    if (current.rlim_max != RLIM_INFINITY && hard > current.rlim_max) hard = current.rlim_max;
    if (soft > hard) soft = hard;
    struct rlimit wanted = { soft, hard };
    return setrlimit(resource, &wanted);
}

// Closes every descriptor numbered `first` or above.
static void close_from(int first) {
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0U) == 0) return;
    for (int fd = first; fd < 65536; fd++) close(fd);
}

// ---------------------------------------------------------- the filesystem

static int make_dirs(const char *path, mode_t mode) {
    char buffer[4096];
    if (strlen(path) >= sizeof buffer) { errno = ENAMETOOLONG; return -1; }
    strcpy(buffer, path);
    for (char *p = buffer + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buffer, mode) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buffer, mode) != 0 && errno != EEXIST) return -1;
    return 0;
}

// Shows `source` read-only at `root` + `target`: a folder, a file (a device
// node) or, for a symbolic link such as Debian's /bin -> usr/bin, the same link.
static int bind_read_only(const char *root, const char *source, const char *target, unsigned long extra) {
    char place[4096];
    snprintf(place, sizeof place, "%s%s", root, target);
    struct stat info;
    if (lstat(source, &info) != 0) return errno == ENOENT ? 0 : -1;  // absent on this system: skip
    if (S_ISLNK(info.st_mode)) {
        char link[4096];
        ssize_t n = readlink(source, link, sizeof link - 1);
        if (n < 0) return -1;
        link[n] = '\0';
        return symlink(link, place) == 0 || errno == EEXIST ? 0 : -1;
    }
    if (S_ISDIR(info.st_mode)) {
        if (make_dirs(place, 0755) != 0) return -1;
    } else {
        int fd = open(place, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return -1;
        close(fd);
    }
    if (mount(source, place, NULL, MS_BIND | MS_REC, NULL) != 0) return -1;
    // A bind mount takes its flags only on a remount.
    return mount(NULL, place, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | extra, NULL);
}

static int mount_tmpfs(const char *place, long long bytes, const char *mode, unsigned long flags) {
    char data[64];
    snprintf(data, sizeof data, "size=%lld,mode=%s", bytes, mode);
    if (make_dirs(place, 0755) != 0) return -1;
    return mount("tmpfs", place, "tmpfs", flags, data);
}

// Builds the new root in `root` (an empty folder) and moves into it.
static void build_root(const struct options *o, const char *root) {
    char path[4096];
    // Nothing done here may propagate back to the grader's view.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("make-mounts-private");
    if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755") != 0) fail("mount-root");

    // The system: programs, libraries, configuration. On a merged-/usr
    // system /bin, /lib, /lib64 and /sbin are links into /usr.
    const char *system[] = { "/usr", "/bin", "/lib", "/lib64", "/lib32", "/libx32", "/sbin", "/etc" };
    for (size_t i = 0; i < sizeof system / sizeof system[0]; i++)
        if (bind_read_only(root, system[i], system[i], MS_NODEV) != 0) fail("bind-system");
    // /dev: a few harmless devices, and the /dev/fd links Swift Testing uses
    // to open its result channel by path.
    snprintf(path, sizeof path, "%s/dev", root);
    if (mount_tmpfs(path, 1 << 16, "755", MS_NOSUID | MS_NOEXEC) != 0) fail("mount-dev");
    const char *devices[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" };
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++)
        if (bind_read_only(root, devices[i], devices[i], MS_NOEXEC) != 0) fail("bind-device");
    // Read-only binds of device nodes still accept writes to the device.
    const char *links[][2] = { { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
                               { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" } };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(path, sizeof path, "%s/dev/%s", root, links[i][1]);
        if (symlink(links[i][0], path) != 0) fail("dev-links");
    }

    // Private, bounded scratch space; gone when the namespace is.
    long long tmp = o->tmp_bytes > 0 ? o->tmp_bytes : 64LL << 20;
    snprintf(path, sizeof path, "%s/tmp", root);
    if (mount_tmpfs(path, tmp, "1777", MS_NOSUID | MS_NODEV) != 0) fail("mount-tmp");
    snprintf(path, sizeof path, "%s/dev/shm", root);
    if (mount_tmpfs(path, tmp / 4, "1777", MS_NOSUID | MS_NODEV | MS_NOEXEC) != 0) fail("mount-shm");

    // The program's own folders, after /tmp: a folder under /tmp (where
    // the grader publishes test binaries) then shows inside the private one.
    for (int i = 0; i < o->bind_count; i++)
        if (bind_read_only(root, o->binds[i], o->binds[i], MS_NODEV) != 0) fail("bind");

    // /proc of the new PID namespace: our own processes only, and with
    // hidepid=2 not even the init's (which runs as root).
    snprintf(path, sizeof path, "%s/proc", root);
    if (make_dirs(path, 0555) != 0) fail("mkdir-proc");
    if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") != 0) fail("mount-proc");

    // Swap roots and drop the old one entirely.
    snprintf(path, sizeof path, "%s/.old-root", root);
    if (mkdir(path, 0700) != 0) fail("mkdir-old-root");
    if (syscall(SYS_pivot_root, root, path) != 0) fail("pivot-root");
    if (chdir("/") != 0) fail("chdir-root");
    if (umount2("/.old-root", MNT_DETACH) != 0) fail("unmount-old-root");
    if (rmdir("/.old-root") != 0) fail("rmdir-old-root");
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0) fail("read-only-root");
    (void)sethostname("sandbox", 7);
}

// ---------------------------------------------------------------- PROGRAM

// In the forked child: limits, identity, folder, then PROGRAM. `report` is a
// close-on-exec pipe: a failure is written there; a successful exec closes it.
static void start_program(const struct options *o, int report) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    // Writing past RLIMIT_FSIZE fails with EFBIG instead of killing: an
    // output flood is truncated, not fatal. Ignored dispositions survive exec.
    signal(SIGXFSZ, SIG_IGN);
    // Its own session and process group: killed as a whole.
    if (setsid() < 0) goto failed_setsid;
    close(STATUS_FD);

    if (set_limit(RLIMIT_CORE, 0, 0) != 0) goto failed_limit;
    if (o->cpu > 0 && set_limit(RLIMIT_CPU, o->cpu, 1) != 0) goto failed_limit;
    if (o->address_space > 0 && set_limit(RLIMIT_AS, o->address_space, 0) != 0) goto failed_limit;
    if (o->processes > 0 && set_limit(RLIMIT_NPROC, o->processes, 0) != 0) goto failed_limit;
    if (o->file_size > 0 && set_limit(RLIMIT_FSIZE, o->file_size, 0) != 0) goto failed_limit;

    if (o->change_user) {
        // Swift Testing reopens its channel by path (/dev/fd/3): the pipe
        // must belong to the new user. Then group first, user last.
        (void)fchown(3, o->uid, o->gid);
        (void)fchown(4, o->uid, o->gid);
        if (setgroups(0, NULL) != 0 || setgid(o->gid) != 0 || setuid(o->uid) != 0) goto failed_user;
        if (o->uid != 0 && setuid(0) == 0) { errno = EPERM; goto failed_user; }
    }
    // No setuid program may give privileges back.
    (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);

    const char *folder = o->chdir_to ? o->chdir_to : (o->isolate ? "/tmp" : NULL);
    if (folder && chdir(folder) != 0) goto failed_chdir;
    execve(o->program[0], o->program, environ);
    {
        int error = errno;
        dprintf(report, "execve %d", error);
        _exit(127);
    }
failed_setsid: dprintf(report, "setsid %d", errno); _exit(127);
failed_limit: dprintf(report, "setrlimit %d", errno); _exit(127);
failed_user: dprintf(report, "setuid %d", errno); _exit(127);
failed_chdir: dprintf(report, "chdir %d", errno); _exit(127);
}

// Forks PROGRAM and waits for it, reaping every other child on the way (as
// the namespace's init, orphans land here). Reports how PROGRAM ended.
static int run_and_wait(const struct options *o, int as_init) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) fail("pipe");
    pid_t child = fork();
    if (child < 0) fail("fork");
    if (child == 0) {
        close(report[0]);
        start_program(o, report[1]);
    }
    close(report[1]);
    if (!as_init) status("kill %d\n", -child);

    char reason[64] = { 0 };
    ssize_t got;
    do { got = read(report[0], reason, sizeof reason - 1); } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got > 0) {
        // Setup failed after fork: "STEP ERRNO".
        waitpid(child, NULL, 0);
        status("fail %s\n", reason);
        return 127;
    }

    for (;;) {
        int wstatus;
        struct rusage usage;
        pid_t pid = wait4(-1, &wstatus, 0, &usage);
        if (pid < 0) {
            if (errno == EINTR) continue;
            status("fail wait %d\n", errno);
            return 127;
        }
        if (pid != child) continue;  // an orphan, reaped
        long long utime = (long long)usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec;
        long long stime = (long long)usage.ru_stime.tv_sec * 1000000 + usage.ru_stime.tv_usec;
        if (WIFSIGNALED(wstatus))
            status("end signal %d %lld %lld %ld\n", WTERMSIG(wstatus), utime, stime, usage.ru_maxrss);
        else
            status("end exit %d %lld %lld %ld\n", WEXITSTATUS(wstatus), utime, stime, usage.ru_maxrss);
        return 0;
    }
}

// ------------------------------------------------------------------- main

static long long number(const char *text, const char *option) {
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0) {
        fprintf(stderr, "kindling-sandbox: %s needs a number, got '%s'\n", option, text);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv) {
    close_from(STATUS_FD + 1);
    struct options o;
    memset(&o, 0, sizeof o);
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) { i++; break; }
        if (strcmp(a, "--isolate") == 0) { o.isolate = 1; continue; }
        if (strcmp(a, "--sweep-uid") == 0 && value != NULL) {
            // As that user (real, effective and saved), kill(-1) reaches
            // exactly its processes, and this one.
            uid_t uid = (uid_t)number(value, a);
            if (uid == 0 || setgroups(0, NULL) != 0 || setuid(uid) != 0) return 1;
            kill(-1, SIGKILL);
            return 0;
        }
        if (value == NULL) { fprintf(stderr, "kindling-sandbox: %s needs a value\n", a); return 2; }
        i++;
        if (strcmp(a, "--bind") == 0) {
            if (o.bind_count == MAX_BINDS || value[0] != '/') { fprintf(stderr, "kindling-sandbox: bad --bind %s\n", value); return 2; }
            o.binds[o.bind_count++] = value;
        } else if (strcmp(a, "--tmp-bytes") == 0) o.tmp_bytes = number(value, a);
        else if (strcmp(a, "--uid") == 0) { o.uid = (uid_t)number(value, a); o.change_user = 1; }
        else if (strcmp(a, "--gid") == 0) o.gid = (gid_t)number(value, a);
        else if (strcmp(a, "--chdir") == 0) o.chdir_to = value;
        else if (strcmp(a, "--cpu") == 0) o.cpu = number(value, a);
        else if (strcmp(a, "--as") == 0) o.address_space = number(value, a);
        else if (strcmp(a, "--nproc") == 0) o.processes = number(value, a);
        else if (strcmp(a, "--fsize") == 0) o.file_size = number(value, a);
        else { fprintf(stderr, "kindling-sandbox: unknown option %s\n", a); return 2; }
    }
    if (i >= argc) { fprintf(stderr, "usage: kindling-sandbox [options] -- PROGRAM [ARGS...]\n"); return 2; }
    o.program = argv + i;
    // If the grader dies, so does everything started here.
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);

    if (!o.isolate) return run_and_wait(&o, 0);

    // The namespaces. CLONE_NEWPID applies to the next child, which becomes
    // PID 1 of the new namespace; the mount namespace is made by that child
    // so that this process stays in the grader's and can remove `root`.
    if (unshare(CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET) != 0) fail("unshare");
    char root[] = "/tmp/kindling-root-XXXXXX";
    if (mkdtemp(root) == NULL) fail("mkdtemp");
    pid_t init = fork();
    if (init < 0) { rmdir(root); fail("fork"); }
    if (init == 0) {
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (unshare(CLONE_NEWNS) != 0) fail("unshare-mount");
        build_root(&o, root);
        _exit(run_and_wait(&o, 1));
    }
    status("kill %d\n", init);
    int wstatus;
    while (waitpid(init, &wstatus, 0) < 0 && errno == EINTR) {}
    rmdir(root);
    return 0;
}
