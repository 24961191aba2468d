#!/usr/bin/env bash
# The fuzz targets (tests/fuzz/, docs/fuzzing.md) in `make test`:
#  1. every seed corpus replayed through its target's checks, built with the
#     normal compiler (build/fuzz/replay/NAME, made by `make test`);
#  2. if clang with libFuzzer is installed, every target built with ASan and
#     UBSan and run for FUZZ_SECONDS (default 10) from its seeds, one after
#     the other, one worker, a fixed seed. Skipped with a note otherwise, or
#     with FUZZ_SECONDS=0. New inputs go to build/fuzz/test-work/ only.
#     This step explores: what it finds depends on timing (the channel
#     targets run real threads and sockets), so a finding here is printed
#     loudly with its input and a summary line, but fails `make test` only
#     with FUZZ_FATAL=1; step 1, the replay of the committed corpora, is
#     always fatal. A finding goes to tests/fuzz/findings/ and docs/fuzzing.md.
# --replay-only: step 1 alone (make fuzz-replay).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SECS=${FUZZ_SECONDS:-10}
[ "${1:-}" = --replay-only ] && SECS=0

names=()
for f in tests/fuzz/*.c; do
	n=$(basename "$f" .c)
	case "$n" in replay_main | fz_*) continue ;; esac
	names+=("$n")
done

fail=0
findings=0
for n in "${names[@]}"; do
	bin="$BUILD/fuzz/replay/$n"
	[ -x "$bin" ] || make --no-print-directory NODEPS=1 BUILD="$BUILD" "$bin" >/dev/null
	out=$(REPLAY_VERBOSE=1 "$bin" "tests/fuzz/corpus/$n" 2>&1) || {
		echo "fuzz_replay: $n: replay FAILED:"
		echo "$out" | tail -n 15
		fail=1
		continue
	}
	echo "fuzz_replay: $n: $(echo "$out" | tail -n 1)"
done
[ "$fail" = 0 ] || exit 1
[ "$SECS" != 0 ] || exit 0

# libFuzzer: only where clang can link a fuzzer (the runtime is its own
# package on some systems).
cc=${FUZZ_CC:-clang}
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{ (void)d; (void)n; return 0; }' >"$probe/p.c"
if ! command -v "$cc" >/dev/null ||
	! "$cc" -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" 2>/dev/null; then
	echo "fuzz_replay: no $cc with libFuzzer here: seeds replayed, no fuzzing (apt-get install clang)"
	exit 0
fi
make --no-print-directory NODEPS=1 BUILD="$BUILD" fuzz-build >"$BUILD/fuzz/clang-build.log" 2>&1 || {
	echo "fuzz_replay: libFuzzer build FAILED; last lines of $BUILD/fuzz/clang-build.log:"
	tail -n 20 "$BUILD/fuzz/clang-build.log"
	exit 1
}
for n in "${names[@]}"; do
	work="$BUILD/fuzz/test-work/$n"
	art="$BUILD/fuzz/test-artifacts/$n/"
	mkdir -p "$work" "$art"
	log="$BUILD/fuzz/test-$n.log"
	if "$BUILD/fuzz/clang/bin/$n" -max_total_time="$SECS" -seed=1 \
		-print_final_stats=1 -dict="tests/fuzz/$n.dict" \
		-artifact_prefix="$art" -close_fd_mask=0 \
		"$work" "tests/fuzz/corpus/$n" >"$log" 2>&1; then
		echo "fuzz_replay: $n: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}') runs in ${SECS} s, no finding"
	else
		echo "fuzz_replay: $n: FINDING (input in $art); last lines of $log:"
		grep -E 'FUZZ CHECK|ERROR|SUMMARY|runtime error' "$log" | head -n 5
		tail -n 5 "$log"
		findings=$((findings + 1))
		[ "${FUZZ_FATAL:-0}" = 1 ] && fail=1
	fi
done
[ "$findings" = 0 ] ||
	echo "fuzz_replay: WARNING: $findings finding(s) in the exploratory step (docs/fuzzing.md, Findings)"
exit "$fail"
