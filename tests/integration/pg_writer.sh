#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The PostgreSQL writer (control/store/pg/pg_writer.c, docs/fleet.md section
# 4) on a throwaway server (lib/pg.sh), as the appliance role: the same
# random groups into it and into an LMDB store give the same results,
# records and audit chain byte for byte; joins with another key or policy
# are refused; a writer id and its group are recorded and followers are
# notified; two writers at once make one chain; the follower's tail
# (pg_tail.c) rebuilds the same records and refuses a position that does
# not link (build/bin/or_pgwriter says each check). Then no token reached
# the server's log, and an entry altered on the server stops the tail.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$OR_LIB/pg.sh"
or_trap_exit pg_or_cleanup
or_need_bins or_pgtool or_pgwriter
or_fail_extra() { pg_log_tail db; }

pg_start db || or_fail "no PostgreSQL server"
"$BIN/or_pgtool" migrate "$(pg_conninfo db optroute_owner)" >/dev/null ||
	or_fail "migrations"

out=$("$BIN/or_pgwriter" check "$(pg_conninfo db or_app)" "$T/store" 2>&1)
rc=$?
echo "$out"
or_check "the writer matches the LMDB store, joins, notifies and serializes; the tail rebuilds the records" \
	test $rc = 0 -a -n "$(echo "$out" | grep -E '^or_pgwriter: ok, [0-9]+ changes in [0-9]+ groups$')"
heads=$(pg_sql db "SELECT head_seq = (SELECT max(seq) FROM optroute.audit)
	AND n_in + n_out = (SELECT count(*) FROM optroute.consent) FROM optroute.fleet")
or_check "the fleet row's head and counts agree with the tables" test "$heads" = t
or_check "the staging tables were temporary (none left in schema optroute)" \
	test "$(pg_sql db "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'optroute' AND c.relname LIKE 'or_stage%'")" = 0
or_check "the server's log holds no token (no DETAIL quoting a key)" \
	test -z "$(grep -E '[0-9a-f]{32}' "${PG_DIRS[db]}/server.log")"

# An entry rewritten by someone with the server's rights (as superuser:
# the appliance role cannot) is found by the tail, which names it.
APP=$(pg_conninfo db or_app)
out=$("$BIN/or_pgwriter" tail "$APP")
or_check "the tail reads the whole trail ($out)" \
	test "$out" = "tail: $(pg_sql db "SELECT head_seq FROM optroute.fleet") entries"
pg_sql db "UPDATE optroute.audit SET body = set_byte(body, 8, get_byte(body, 8) # 1)
	WHERE seq = 1234" or_admin >/dev/null
out=$("$BIN/or_pgwriter" tail "$APP")
or_check "an altered entry stops the tail at it ($out)" \
	test "$out" = "tail: broken at 1234: audit: entry 1234: hash mismatch (altered)"

or_summary
