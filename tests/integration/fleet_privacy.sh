#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Privacy with a PostgreSQL system of record (docs/fleet.md section 11):
# two appliances take opt-ins, opt-outs, an import, status and audit
# requests with known numbers, against a server that logs every statement
# and its duration, with the settings docs/operations.md requires
# (log_error_verbosity = terse, log_parameter_max_length = 0), and a
# constraint violation induced on a token. Then, after a checkpoint and a
# stop: no number (digits, with or without '+', or the hex of its digits)
# in PostgreSQL's data directory or log, nor in the appliances' copies and
# logs; no token in PostgreSQL's log; and, as the positive control, a known
# token's bytes are in the data directory (the search reaches the data).
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$OR_LIB/pg.sh"
# shellcheck source=lib/fleet.sh
. "$OR_LIB/fleet.sh"
OR_PIDVARS="A_PID B_PID"
or_trap_exit pg_or_cleanup
or_need_bins optroutectl optroute-control or_pgtool
OR_LOGS=("$T/a1.log" "$T/a2.log")
or_fail_extra() { pg_log_tail db; }

pg_start db "log_statement = all" "log_min_duration_statement = 0" \
	"log_error_verbosity = terse" "log_parameter_max_length = 0" ||
	or_fail "no PostgreSQL server"
"$BIN/or_pgtool" migrate "$(pg_conninfo db optroute_owner)" >/dev/null ||
	or_fail "migrations"
APP=$(pg_conninfo db or_app)
or_key "$T/key"
fleet_ini a1 >"$T/a1.ini"
fleet_ini a2 >"$T/a2.ini"
fleet_start a1 A_PID
fleet_start a2 B_PID

NUMS=()
for i in $(seq 10 39); do NUMS+=("+4420794600$i"); done
for n in "${NUMS[@]:0:10}"; do ctl a1 optin "$n" >/dev/null || or_fail "optin"; done
for n in "${NUMS[@]:0:5}"; do ctl a2 optout "$n" >/dev/null || or_fail "optout"; done
printf '%s\n' "${NUMS[@]:10:20}" >"$T/numbers"
ctl a2 import "$T/numbers" --optin >/dev/null || or_fail "import"
ctl a1 audit "${NUMS[0]}" >/dev/null || or_fail "audit"
or_check "both appliances caught up" until_caught_up a1
or_check "... a2 too" until_caught_up a2
tok=$(ctl a2 -j status "${NUMS[7]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
or_check "a2 has the opt-in made on a1" test "$(state a2 "${NUMS[7]}")" = in
# A unique violation on a token: its DETAIL would quote the key.
pg_sql db "INSERT INTO optroute.consent SELECT * FROM optroute.consent LIMIT 1" or_app \
	>/dev/null 2>&1
or_check "the induced error is in the server's log" \
	grep -q "duplicate key value violates unique constraint" "${PG_DIRS[db]}/server.log"

or_stop A_PID
or_stop B_PID
pg_sql db "CHECKPOINT" >/dev/null
pg_as "$PG_BINDIR/pg_ctl" -D "${PG_DIRS[db]}/data" -m fast -w stop >/dev/null

# Everything written: the server's data and log, the appliances' copies
# and logs (the test's own files, numbers and key, are left out).
WHERE=("${PG_DIRS[db]}" "$T/a1.store" "$T/a2.store" "$T/a1.log" "$T/a2.log")
found=""
for n in "${NUMS[@]}"; do
	hex=$(printf '%s' "${n#+}" | od -An -tx1 | tr -d ' \n')
	if grep -rqa -e "${n#+}" -e "$hex" "${WHERE[@]}"; then
		found="$found ${n: -4}"
	fi
done
or_check "no number in PostgreSQL's data or log, nor in the copies or logs${found:+ (found:$found)}" \
	test -z "$found"
or_check "no token in PostgreSQL's log" \
	test -z "$(grep -Eo '[0-9a-f]{32}' "${PG_DIRS[db]}/server.log" | head -n 1)"
or_check "positive control: token $tok is in the data directory" \
	python3 - "${PG_DIRS[db]}/data" "$tok" <<'PY'
import os, sys
root, tok = sys.argv[1], bytes.fromhex(sys.argv[2])
for d, _, files in os.walk(root):
    for f in files:
        try:
            if tok in open(os.path.join(d, f), "rb").read():
                sys.exit(0)
        except OSError:
            pass
sys.exit(1)
PY

or_summary
