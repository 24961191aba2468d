#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The PostgreSQL writer (control/store/pg/pg_writer.c, docs/fleet.md section
# 4) on a throwaway server (lib/pg.sh), as the appliance role: the same
# random groups into it and into an LMDB store give the same results,
# records and audit chain byte for byte; joins with another key or policy
# are refused; a writer id and its group are recorded and followers are
# notified; two writers at once make one chain (build/bin/or_pgwriter
# says each check). Then no number-like text reached the server's log.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$OR_LIB/pg.sh"
pg_cleanup() {
	pg_stop_all
	or_cleanup
}
or_trap_exit pg_cleanup
or_need_bins or_pgtool or_pgwriter
or_fail_extra() { pg_log_tail db; }

pg_start db || or_fail "no PostgreSQL server"
"$BIN/or_pgtool" migrate "$(pg_conninfo db optroute_owner)" >/dev/null ||
	or_fail "migrations"

out=$("$BIN/or_pgwriter" "$(pg_conninfo db or_app)" "$T/store" 2>&1)
rc=$?
echo "$out"
or_check "the writer matches the LMDB store, joins, notifies and serializes" \
	test $rc = 0 -a -n "$(echo "$out" | grep -E '^or_pgwriter: ok, [0-9]+ changes in [0-9]+ groups$')"
heads=$(pg_sql db "SELECT head_seq = (SELECT max(seq) FROM optroute.audit)
	AND n_in + n_out = (SELECT count(*) FROM optroute.consent) FROM optroute.fleet")
or_check "the fleet row's head and counts agree with the tables" test "$heads" = t
or_check "the staging tables were temporary (none left in schema optroute)" \
	test "$(pg_sql db "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'optroute' AND c.relname LIKE 'or_stage%'")" = 0
or_check "the server's log holds no token (no DETAIL quoting a key)" \
	test -z "$(grep -E '[0-9a-f]{32}' "${PG_DIRS[db]}/server.log")"

or_summary
