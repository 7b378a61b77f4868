#!/usr/bin/env bash
# watchdog.sh — run a command, and if it hangs, say where and stop it.
#
#   scripts/watchdog.sh [--stall SECONDS] [--limit SECONDS] [--name LABEL] -- command args...
#
# The command runs in its own session and process group, with our stdin,
# stdout and stderr (nothing is piped, so its output passes through
# untouched), and the watchdog exits with the command's exit status.
#
# Meanwhile the watchdog looks at the command's whole process tree every few
# seconds (children, grandchildren… found by walking /proc by PPid) and
# adds up the CPU time they use. Two things count as a hang:
#
#   * a STALL: for --stall seconds (default 300) the tree has used almost no
#     CPU (less than half a second in all). That is what a deadlock looks
#     like: every thread asleep, waiting on a lock or a pipe that nobody will
#     ever release. A slow build or a slow test still burns CPU, so it is
#     left alone however long it takes.
#   * a LIMIT: the command has run longer than --limit seconds (default 0,
#     meaning no limit). This catches hangs that do burn CPU (a livelock, an
#     endless loop).
#
# On either, the watchdog prints a banner on stderr, then for every process
# of the tree its pid, command line, state and wchan (the kernel function it
# sleeps in), and every thread's stack as gdb sees it (or, without gdb, as
# the kernel sees it). Then it kills the tree (SIGTERM, then SIGKILL) and
# exits with status 124, like timeout(1). A hang thus fails in minutes with
# the evidence needed to fix it, instead of a CI job stopped silently at its
# time limit.
#
# The watchdog itself must never hang: it never reads from a pipe the
# command could hold open (gdb's output goes to a file), it waits on the
# command with a bounded wait (polling every few seconds), and every gdb
# call is bounded by timeout(1).

set -uo pipefail   # no `set -e`: reading /proc fails whenever a process exits, and that is fine

# --- Settings ---------------------------------------------------------------

stall=300            # --stall: seconds without CPU progress that count as a hang
limit=0              # --limit: seconds of wall time allowed in all (0 = no limit)
label=""             # --name: what to call the command in messages
poll=2               # seconds between two looks at the process tree
gdb_timeout=60       # seconds allowed to each gdb call
kill_grace=5         # seconds between SIGTERM and SIGKILL
straggler_grace=10   # seconds allowed to leftover processes once the command has exited
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)   # /proc counts CPU time in these "clock ticks"
min_progress=$((hz / 2))                         # less CPU than this (0.5 s) is "no progress"

usage() {
    echo "usage: $0 [--stall SECONDS] [--limit SECONDS] [--name LABEL] -- command args..." >&2
    exit 2
}

say() { echo "watchdog: $*" >&2; }

# --- Arguments --------------------------------------------------------------

while [ $# -gt 0 ]; do
    case "$1" in
        --stall) [ $# -ge 2 ] || usage; stall=$2; shift 2 ;;
        --limit) [ $# -ge 2 ] || usage; limit=$2; shift 2 ;;
        --name)  [ $# -ge 2 ] || usage; label=$2; shift 2 ;;
        --) shift; break ;;
        -h|--help) usage ;;
        -*) say "unknown option $1"; usage ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || usage
[[ $stall =~ ^[0-9]+$ && $limit =~ ^[0-9]+$ ]] || { say "--stall and --limit take whole seconds"; usage; }
[ -n "$label" ] || label="$*"

# --- Reading /proc ----------------------------------------------------------

# scan_proc fills these tables, indexed by pid, from every /proc/PID/stat.
declare -A ppid_of pgrp_of state_of cpu_of start_of children_of

scan_proc() {
    ppid_of=(); pgrp_of=(); state_of=(); cpu_of=(); start_of=(); children_of=()
    local f line pid rest
    local -a s
    for f in /proc/[0-9]*/stat; do
        { read -r line < "$f"; } 2>/dev/null || continue   # the process just exited
        pid=${line%% *}
        # Field 2 is the command name in parentheses, and may itself contain
        # spaces or parentheses: the other fields start after the LAST ") ".
        rest=${line##*) }
        s=($rest)                 # split on spaces (the fields hold no * or ?)
        # s[0] is field 3 of stat(5), so field N is s[N-3].
        state_of[$pid]=${s[0]}
        ppid_of[$pid]=${s[1]}
        pgrp_of[$pid]=${s[2]}
        # utime + stime: this process's own CPU time. cutime + cstime: that of
        # its children that have exited and been waited for, so that short-lived
        # children (a compiler run, say) count too once their parent reaps them.
        cpu_of[$pid]=$(( s[11] + s[12] + s[13] + s[14] ))
        start_of[$pid]=${s[19]}   # when it started: tells a pid apart from a later reuse
        children_of[${s[1]}]+=" $pid"
    done
}

# Every process we have ever seen in the tree, as pid -> start time. A
# process whose parent exits is re-parented to init and drops out of the
# PPid walk; this keeps it watched (and killed) all the same.
declare -A seen

# tree_pids sets `tree` to the live processes of the command's tree, parents
# before children: the command, the members of its process group, any
# process seen in the tree before that is still running, and all their
# descendants. Zombies (state Z) are dead already and are left out.
tree=()
tree_pids() {
    local -a queue=() found=()
    local -A visited=()
    local pid
    # The command first (if it still runs), so that the walk lists its
    # descendants in order; then the others, whose subtrees it reaches too.
    [ "${start_of[$child]:-}" = "$child_start" ] && queue+=("$child")
    for pid in "${!seen[@]}"; do [ "${start_of[$pid]:-}" = "${seen[$pid]}" ] && queue+=("$pid"); done
    for pid in "${!pgrp_of[@]}"; do [ "${pgrp_of[$pid]}" = "$pgid" ] && queue+=("$pid"); done
    while [ ${#queue[@]} -gt 0 ]; do
        pid=${queue[0]}; queue=("${queue[@]:1}")
        [ -n "${state_of[$pid]:-}" ] || continue    # gone
        [ -z "${visited[$pid]:-}" ] || continue     # already counted
        visited[$pid]=1
        [ "${state_of[$pid]}" = Z ] && continue
        found+=("$pid")
        seen[$pid]=${start_of[$pid]}
        queue+=(${children_of[$pid]:-})
    done
    tree=("${found[@]}")
}

# cpu_progress sets `grown` to how much CPU (in ticks) the tree has used
# since the previous call: the sum, over its processes, of how much each
# one's counter grew. (A plain total would go DOWN whenever a process exits.)
declare -A last_cpu
grown=0
cpu_progress() {
    local pid key
    grown=0
    local -A now=()
    for pid in "${tree[@]}"; do
        key=$pid:${start_of[$pid]}
        now[$key]=${cpu_of[$pid]}
        if [ -n "${last_cpu[$key]:-}" ]; then
            (( cpu_of[$pid] > last_cpu[$key] )) && grown=$(( grown + cpu_of[$pid] - last_cpu[$key] ))
        else
            grown=$(( grown + cpu_of[$pid] ))     # a process we had not seen yet
        fi
    done
    last_cpu=()
    for key in "${!now[@]}"; do last_cpu[$key]=${now[$key]}; done
}

# --- Reporting --------------------------------------------------------------

cmdline_of() {   # the command line of a process; NULs between arguments become spaces
    local c
    # (Bounded: reading another process's memory can block if it is stuck.)
    c=$(timeout 5 cat "/proc/$1/cmdline" 2>/dev/null | tr '\0' ' ')
    [ -n "$c" ] && echo "$c" || echo "[$(cat "/proc/$1/comm" 2>/dev/null)]"
}

wchan_of() {     # the kernel function a process or thread sleeps in ("0" or "-" when running)
    local w
    w=$(cat "$1/wchan" 2>/dev/null)
    echo "${w:--}"
}

# dump_tree prints, for every process in `tree`, a summary line, then each of
# its threads with state and wchan, then each thread's stack.
dump_tree() {
    local pid tid task out
    out=$(mktemp "${TMPDIR:-/tmp}/watchdog.XXXXXX")
    say "the process tree (${#tree[@]} process(es)):"
    printf '    %-8s %-8s %-5s %-8s %-24s %s\n' PID PPID STATE CPU_S WCHAN COMMAND >&2
    for pid in "${tree[@]}"; do
        printf '    %-8s %-8s %-5s %-8s %-24s %s\n' "$pid" "${ppid_of[$pid]}" "${state_of[$pid]}" \
            "$(( cpu_of[$pid] / hz ))" "$(wchan_of "/proc/$pid")" "$(cmdline_of "$pid")" >&2
    done
    for pid in "${tree[@]}"; do
        [ -d "/proc/$pid" ] || continue
        echo >&2
        say "---- process $pid: $(cmdline_of "$pid")"
        say "threads (tid, name, state, wchan):"
        for task in /proc/"$pid"/task/*; do
            tid=${task##*/}
            printf '    %-8s %-20s %-3s %s\n' "$tid" "$(cat "$task/comm" 2>/dev/null)" \
                "$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$task/status" 2>/dev/null)" \
                "$(wchan_of "$task")" >&2
        done
        # gdb attaches, prints a backtrace of every thread, and detaches.
        # Its output goes to a file, never a pipe, so that nothing it leaves
        # behind can keep us waiting; timeout(1) bounds the call itself.
        if command -v gdb >/dev/null 2>&1; then
            say "stacks of process $pid (gdb):"
            # (debuginfod off: no downloading of debug info from the network.)
            timeout -k 5 "$gdb_timeout" gdb -p "$pid" -batch -nx \
                -iex 'set debuginfod enabled off' \
                -ex 'set pagination off' -ex 'thread apply all bt' \
                < /dev/null > "$out" 2>&1
            local rc=$?
            # The debug info of Swift's toolchain binaries makes gdb print
            # thousands of "During symbol reading: …" lines; leave them out.
            local noise
            noise=$(grep -c '^During symbol reading' "$out")
            grep -v '^During symbol reading' "$out" > "$out.clean"; mv "$out.clean" "$out"
            (( noise > 0 )) && echo "(left out: $noise 'During symbol reading' complaints from gdb)" >> "$out"
            # gdb leaves Swift's symbol names mangled ($s4main3fooyyF);
            # swift-demangle, when the toolchain has it, makes them readable.
            if command -v swift-demangle >/dev/null 2>&1 &&
               timeout 30 swift-demangle < "$out" > "$out.swift" 2>/dev/null; then
                mv "$out.swift" "$out"
            fi
            rm -f "$out.swift"
            cat "$out" >&2
            if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
                say "gdb took longer than $gdb_timeout s on process $pid and was stopped"
            fi
            grep -q '^#0 ' "$out" && continue   # got stacks; else fall back to the kernel's view
            say "gdb printed no stack for process $pid (exit status $rc)"
        else
            say "gdb is not installed (scripts/install-deps.sh installs it)"
        fi
        # Without gdb: the kernel's stack of each thread. It shows where in the
        # kernel a thread waits (a futex for a lock, a pipe read…), not the
        # user code that got it there.
        say "kernel stacks of process $pid:"
        for task in /proc/"$pid"/task/*; do
            echo "    thread ${task##*/} ($(cat "$task/comm" 2>/dev/null)), wchan $(wchan_of "$task"):" >&2
            if ! sed 's/^/        /' "$task/stack" >&2 2>/dev/null; then
                echo "        (no /proc/${pid}/task/${task##*/}/stack on this system)" >&2
            fi
        done
    done
    rm -f "$out"
}

# --- Stopping ---------------------------------------------------------------

# signal_tree SIG sends SIG to the command's process group and to every
# process of the tree (some, like the test processes `swift test` starts,
# live in process groups of their own). A pid is only signalled if it is
# still the process we saw, not a newcomer that reused its number.
signal_tree() {
    local pid
    kill -s "$1" -- "-$pgid" 2>/dev/null
    for pid in "${targets[@]}"; do
        [ "$(stat_start "$pid")" = "${seen[$pid]:-}" ] && kill -s "$1" "$pid" 2>/dev/null
    done
}

stat_start() {   # the start time of a live, non-zombie process, or nothing
    local line rest
    local -a s
    { read -r line < "/proc/$1/stat"; } 2>/dev/null || return
    rest=${line##*) }; s=($rest)
    [ "${s[0]}" = Z ] || echo "${s[19]}"
}

# any_alive: is any process of `targets`, or of the process group, still running?
any_alive() {
    local pid
    for pid in "${targets[@]}"; do
        [ "$(stat_start "$pid")" = "${seen[$pid]:-}" ] && return 0
    done
    scan_proc
    for pid in "${!pgrp_of[@]}"; do
        [ "${pgrp_of[$pid]}" = "$pgid" ] && [ "${state_of[$pid]}" != Z ] && return 0
    done
    return 1
}

# kill_tree: SIGTERM (and SIGCONT, for processes left stopped), then SIGKILL
# for whatever is still there after $kill_grace seconds.
targets=()
kill_tree() {
    targets=("${tree[@]}")
    signal_tree TERM
    signal_tree CONT
    local i
    for (( i = 0; i < kill_grace * 4; i++ )); do
        any_alive || return 0
        sleep 0.25
    done
    say "sending SIGKILL to what is left"
    signal_tree KILL
    for (( i = 0; i < 8; i++ )); do
        any_alive || return 0
        sleep 0.25
    done
    say "some processes survive SIGKILL (stuck in the kernel?)"
}

# child_alive: is the command itself still running? Once it is not, `wait`
# on it returns at once with its exit status.
child_alive() {
    [ -n "$child_start" ] && [ "$(stat_start "$child")" = "$child_start" ]
}

# --- Running the command ----------------------------------------------------

# setsid(1) gives the command a session and process group of its own, so
# that the whole group can be signalled at once. (It does not fork: a
# background job of a script is never a process-group leader.) The
# command's pid is therefore also its process-group id. `<&0` keeps our
# stdin: bash would otherwise give a background job /dev/null.
# If the command dies of a signal other than SIGTERM (SIGKILL, SIGSEGV…),
# bash reports it on stderr itself, e.g. "line 1: 1234 Killed  setsid -- "$@"".
setsid -- "$@" <&0 &
child=$!
pgid=$child
child_start=$(stat_start "$child")   # empty if it is already over
seen[$child]=$child_start
started=$SECONDS

# If we are interrupted (Ctrl-C, or CI cancelling the job), take the
# command's tree down with us: being in its own group, it would not get the
# signal from the terminal.
on_signal() {
    trap '' INT TERM HUP     # a second Ctrl-C must not interrupt the cleanup
    say "$label: got SIG$1, stopping the command"
    scan_proc; tree_pids; kill_tree
    child_alive || wait "$child" 2>/dev/null
    exit $(( 128 + $(kill -l "$1") ))
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

scan_proc; tree_pids; cpu_progress   # a baseline to measure progress from
progress=0            # CPU ticks used since `mark`
mark=$SECONDS         # when the tree last made progress
reason=""
status=""

while child_alive; do
    # Sleep for $poll seconds, but wake up at once if the command exits:
    # `wait -n` returns as soon as either of the two jobs ends, and the
    # sleep bounds it.
    sleep "$poll" &
    sleeper=$!
    wait -n "$child" "$sleeper" 2>/dev/null
    kill "$sleeper" 2>/dev/null; wait "$sleeper" 2>/dev/null
    child_alive || break

    scan_proc
    tree_pids
    cpu_progress
    progress=$(( progress + grown ))
    if (( progress > min_progress )); then
        progress=0; mark=$SECONDS
    fi
    if (( stall > 0 && SECONDS - mark >= stall )); then
        reason="stalled: no CPU progress for $(( SECONDS - mark )) s (--stall $stall)"
        break
    fi
    if (( limit > 0 && SECONDS - started >= limit )); then
        reason="ran past its limit of $limit s"
        break
    fi
done

if [ -n "$reason" ]; then
    # A hang: show where every thread is, then stop the tree and fail.
    {
        echo
        echo "=================================================================="
        say "$label $reason"
        say "after $(( SECONDS - started )) s; every thread's stack follows, then the command is killed"
        echo "=================================================================="
    } >&2
    dump_tree
    echo >&2
    say "killing $label (process group $pgid)"
    kill_tree
    if child_alive; then say "the command did not die; exiting anyway"; else wait "$child" 2>/dev/null; fi
    say "$label $reason; failing with status 124"
    exit 124
fi

# The command exited by itself: `wait` returns at once with its status.
wait "$child" 2>/dev/null
status=$?

# Anything it left running (a background process, a crash reporter stuck
# on a pipe…) could hold our stdout open and hang whoever reads it: give
# such stragglers a few seconds, then report and kill them too.
scan_proc; tree_pids
deadline=$(( SECONDS + straggler_grace ))
while [ ${#tree[@]} -gt 0 ] && (( SECONDS < deadline )); do
    sleep 0.5
    scan_proc; tree_pids
done
if [ ${#tree[@]} -gt 0 ]; then
    say "$label exited with status $status but left ${#tree[@]} process(es) running; their stacks follow, then they are killed"
    dump_tree
    kill_tree
fi
exit "$status"
