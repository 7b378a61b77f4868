#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer targets in Fuzz/ and run each for a while.
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [--build-only] [TARGET...]
#
# TARGETs are idx, safetensors, events and markers (default: all four); see
# Fuzz/README.md for what each covers. Each runs for N seconds (default 60),
# at most J at a time (default 1; each fuzzer uses one core).
#
# Building. The library a target needs (Kindling or GraderKit) is compiled
# as a module of its own from its sources, with AddressSanitizer and
# libFuzzer's coverage instrumentation, into .build-fuzz/lib; the target's
# harness (Fuzz/TARGET.swift) imports it like any client and is linked with
# libFuzzer's main into .build-fuzz/TARGET. A library is rebuilt only when
# one of its sources is newer than the last build.
#
# Running. The committed seeds (Fuzz/corpus/TARGET) are copied into a scratch
# corpus (.build-fuzz/corpus/TARGET), which keeps growing from run to run;
# git's copy never changes. Each input may take at most 10 s and the process
# at most 2 GiB; any crash, trap, leak, timeout or out-of-memory fails the
# run. libFuzzer then writes the input that did it under
# .build-fuzz/artifacts/TARGET/, and this script prints its path, how to
# replay it, and the end of the log (.build-fuzz/logs/TARGET.log).
#
# Exit status: 0 when every target ran clean, 1 when any found something,
# 2 on a usage or build error.

set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/.build-fuzz
all_targets=(idx safetensors events markers)

seconds=60
jobs=1
build_only=0
targets=()
while (($#)); do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --build-only) build_only=1; shift ;;
        -h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: no target '$t' (targets: ${all_targets[*]})" >&2; exit 2; }
done
[[ $seconds =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds and --jobs take numbers" >&2; exit 2; }

swiftc=${SWIFTC:-swiftc}
clang=${CLANG:-$(dirname "$(command -v "$swiftc")")/clang}
# Optimized, with debug info for readable stack traces; traps (overflow,
# bounds, preconditions) stay on, as in every build but -Ounchecked.
swift_flags=(-O -g -wmo -parse-as-library -sanitize=fuzzer,address -use-ld=lld)
mkdir -p "$out/lib" "$out/modules" "$out/logs"

# --- Building ----------------------------------------------------------------

# Whether $1 is missing or older than any file under the folders that follow.
stale() {
    local product=$1; shift
    [[ ! -e $product ]] || [[ -n $(find "$@" -newer "$product" -type f -print -quit) ]]
}

# Kindling imports two system libraries (module maps in Sources/C*); its
# clients must see them too.
kindling_imports=(-I Sources/CZlib -I Sources/CBLAS -Xcc "$(pkg-config --cflags-only-I openblas | xargs)")

build_kindling() {
    local lib=$out/lib/libKindling.a
    stale "$lib" Sources/Kindling Sources/CZlib Sources/CBLAS || return 0
    echo "fuzz.sh: building Kindling (instrumented)…"
    find Sources/Kindling -name '*.swift' -print0 | sort -z | xargs -0 \
        "$swiftc" "${swift_flags[@]}" -module-name Kindling -emit-library -static -o "$lib" \
        -emit-module -emit-module-path "$out/modules/Kindling.swiftmodule" \
        "${kindling_imports[@]}"
}

build_graderkit() {
    local lib=$out/lib/libGraderKit.a
    stale "$lib" Sources/GraderKit Sources/CSandbox || return 0
    echo "fuzz.sh: building GraderKit (instrumented)…"
    # CSandbox: SwiftPM makes a module of its include/ folder; so do we.
    mkdir -p "$out/csandbox"
    printf 'module CSandbox {\n    header "%s"\n    export *\n}\n' "$root/Sources/CSandbox/include/sandbox.h" \
        > "$out/csandbox/module.modulemap"
    "$clang" -O1 -g -fsanitize=address,fuzzer-no-link -I Sources/CSandbox/include \
        -c Sources/CSandbox/sandbox.c -o "$out/lib/sandbox.o"
    find Sources/GraderKit -name '*.swift' -print0 | sort -z | xargs -0 \
        "$swiftc" "${swift_flags[@]}" -module-name GraderKit -emit-library -static -o "$lib" \
        -emit-module -emit-module-path "$out/modules/GraderKit.swiftmodule" -I "$out/csandbox"
    ar rs "$lib" "$out/lib/sandbox.o" 2>/dev/null
}

build_target() {
    local target=$1 library link=()
    case $target in
        idx|safetensors) build_kindling; library=Kindling; link=("${kindling_imports[@]}" -lz $(pkg-config --libs openblas)) ;;
        events|markers) build_graderkit; library=GraderKit; link=(-I "$out/csandbox") ;;
    esac
    local binary=$out/$target
    if stale "$binary" "Fuzz/$target.swift" "$out/lib/lib$library.a"; then
        echo "fuzz.sh: building $target…"
        "$swiftc" "${swift_flags[@]}" -module-name "fuzz_$target" -I "$out/modules" \
            "Fuzz/$target.swift" "$out/lib/lib$library.a" "${link[@]}" -o "$binary"
    fi
}

for target in "${targets[@]}"; do
    build_target "$target" || { echo "fuzz.sh: building $target failed" >&2; exit 2; }
done
((build_only)) && exit 0

# --- Running -----------------------------------------------------------------

# A short LeakSanitizer suppression list for the Swift runtime's own
# one-time allocations (see the comments in the file).
export LSAN_OPTIONS="suppressions=$root/Fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# Swift's own crash backtracer would take over a trap before libFuzzer sees
# it (and save no input); libFuzzer prints the stack itself.
export SWIFT_BACKTRACE=enable=no

# Runs one target; its whole output goes to its log. Returns libFuzzer's status.
run_target() {
    local target=$1
    local corpus=$out/corpus/$target artifacts=$out/artifacts/$target/ log=$out/logs/$target.log
    mkdir -p "$corpus" "$artifacts"
    cp -n Fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
    local dict=()
    [[ -f Fuzz/$target.dict ]] && dict=(-dict="Fuzz/$target.dict")
    "$out/$target" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts" > "$log" 2>&1
}

# What a finished run says: its figures, or what it found.
report() {
    local target=$1 status=$2 log=$out/logs/$target.log
    local runs rate rss corpus
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    # The corpus as libFuzzer counts it (inputs that add coverage), and its size.
    corpus=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | sed 's/corp: \([0-9]*\)\/\(.*\)/\1 inputs, \2/')
    if ((status == 0)); then
        echo "fuzz.sh: $target: clean — ${runs:-?} runs, ${rate:-?} execs/s, peak RSS ${rss:-?} MB, corpus ${corpus:-?} (log: $log)"
        return 0
    fi
    echo "fuzz.sh: $target: FOUND SOMETHING (libFuzzer status $status). The end of $log:" >&2
    tail -n 40 "$log" | sed 's/^/    /' >&2
    local input
    input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if [[ -n $input ]]; then
        echo "fuzz.sh: $target: the input that did it: $input" >&2
        echo "fuzz.sh: replay it with: $out/$target $input" >&2
    fi
    return 1
}

echo "fuzz.sh: fuzzing ${targets[*]} for $seconds s each, $jobs at a time"
failed=0
pending=("${targets[@]}")
declare -A running=()   # pid -> target
while ((${#pending[@]} || ${#running[@]})); do
    while ((${#pending[@]})) && ((${#running[@]} < jobs)); do
        target=${pending[0]}
        pending=("${pending[@]:1}")
        run_target "$target" &
        running[$!]=$target
        echo "fuzz.sh: $target started (log: $out/logs/$target.log)"
    done
    # Wait for any one run to end, then report it.
    set +e
    wait -n -p done_pid "${!running[@]}"
    status=$?
    set -e
    target=${running[$done_pid]}
    unset "running[$done_pid]"
    report "$target" "$status" || failed=1
done
exit $failed
