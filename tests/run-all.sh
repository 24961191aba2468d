#!/usr/bin/env bash
# Runs every CUnit suite, then every integration test (tests/integration/*.sh).
# Prints the CUnit run summary, one line per integration test, and a last
# line "tests: N passed, M failed". Exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
passed=0
failed=0
failed_names=()

if [ "${1:-}" != "--integration-only" ]; then
	"$BUILD/tests/unit_tests" | tee "$BUILD/unit.log"
	rc=${PIPESTATUS[0]}
	# Count CUnit asserts-level results from the runner's own summary line.
	u_pass=$(sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$BUILD/unit.log")
	u_fail=$(sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$BUILD/unit.log")
	passed=$((passed + ${u_pass:-0}))
	failed=$((failed + ${u_fail:-0}))
	if [ "$rc" != 0 ] && [ "${u_fail:-0}" = 0 ]; then
		failed=$((failed + 1)); failed_names+=("unit_tests (exit $rc)")
	fi
fi

mkdir -p "$BUILD/integration"
for t in tests/integration/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	log="$BUILD/integration/$name.log"
	start=$(date +%s)
	if timeout -k 10 600 bash "$t" >"$log" 2>&1; then
		echo "integration: $name ... ok ($(( $(date +%s) - start ))s)"
		passed=$((passed + 1))
	else
		rc=$?
		echo "integration: $name ... FAILED (exit $rc, $(( $(date +%s) - start ))s); last lines of $log:"
		tail -n 30 "$log" | sed 's/^/    /'
		failed=$((failed + 1)); failed_names+=("$name")
	fi
done

[ ${#failed_names[@]} -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
