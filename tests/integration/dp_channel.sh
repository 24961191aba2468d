#!/usr/bin/env bash
# The update channel against the real dataplane (EAL --no-huge, one net_ring
# vdev, no NIC): fill over the channel with optroute-chanctl, reconnect,
# full resync, an aborted resync; membership is checked exactly by deleting
# tokens and reading chan.deletes / chan.delete_missing.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_need_bins optroute-dataplane optroute-chanctl
DP=$BIN/optroute-dataplane
CTL=$BIN/optroute-chanctl
SOCK=$T/dp.sock

ctl() { "$CTL" -s "$SOCK" -t 20000 "$@"; }
# counter NAME: one counter from a STATS reply
counter() { ctl stats | awk -v n="$1" '$1 == n { print $2; f = 1 } END { exit !f }'; }
expect_stat() {
	local v; v=$(counter "$1") || or_fail "no counter $1"
	[ "$v" = "$2" ] || or_fail "$1 = $v, expected $2"
	echo "ok: $1 = $2"
}
# Deterministic tokens outside what 'random' produces: tok_file FROM N STATE
tok_file() {
	awk -v from="$1" -v n="$2" -v st="$3" 'BEGIN {
		for (i = from; i < from + n; i++)
			printf "%08x%08x%08x%08x %s %d\n", i, (i * 7) % 4294967296,
				(i * 13) % 4294967296, 3735928559, st, i % 4
	}'
}
dels() { awk '{ print $1, "del" }' "$1"; }

{
	or_ini_eal --no-telemetry
	echo "main_lcore = 0"
	or_ini_dataplane 4096 "idle_sleep_us = 1000"
	or_ini_port p net_ring0 192.0.2.1 02:00:00:00:01:01 "workers = 1"
} >"$T/dp.ini"

"$DP" -c "$T/dp.ini" >"$T/dp.log" 2>&1 &
DP_PID=$!

# 1. Fresh dataplane: HELLO (the client retries while the socket appears).
ctl hello >"$T/hello" || or_fail "hello"
grep -qx "entries 0" "$T/hello" || or_fail "fresh table not empty: $(cat "$T/hello")"
grep -qx "generation 0" "$T/hello" || or_fail "generation not 0"
[ "$(command stat -c %a "$SOCK")" = 660 ] || or_fail "socket mode $(command stat -c %a "$SOCK")"

# 2. Fill: 5000 random tokens (table grows past its 4096 sizing) + singles.
ctl -q random -o "$T/a.txt" -k 4 -p 100 5000 42 || or_fail "random"
[ "$(wc -l <"$T/a.txt")" = 5000 ] || or_fail "random -o wrote $(wc -l <"$T/a.txt") lines"
expect_stat table.entries 5000
expect_stat chan.upserts 5000
one=0123456789abcdef0123456789abcdef
ctl upsert $one in 3 >/dev/null || or_fail "upsert"
expect_stat table.entries 5001
ctl delete $one >/dev/null || or_fail "delete"
expect_stat table.entries 5000
ctl upsert $one maybe 3 2>/dev/null && or_fail "bad state accepted"
ctl upsert 0123 in 3 2>/dev/null && or_fail "short token accepted"

# 3. Reconnect: the HELLO tells where the dataplane stands.
acked=$(counter chan.acked_seq)
ctl hello >"$T/hello2" || or_fail "hello after reconnect"
grep -qx "acked_seq $acked" "$T/hello2" || or_fail "acked_seq not $acked: $(cat "$T/hello2")"
grep -qx "entries 5000" "$T/hello2" || or_fail "entries not 5000 after reconnect"
[ "$(ctl wait-ack "$acked")" = "$acked" ] || or_fail "wait-ack $acked"

# 4. Full resync: half of the old entries (new nodes) + 1000 new tokens.
head -n 2500 "$T/a.txt" | awk '{ print $1, $2, 9 }' >"$T/b.txt"
tok_file 1 1000 in >>"$T/b.txt"
ctl -q resync "$T/b.txt" 5 || or_fail "resync"
expect_stat table.entries 3500
expect_stat chan.resyncs 1
expect_stat chan.generation 5
ctl hello | grep -qx "generation 5" || or_fail "HELLO generation not 5"

# 5. A resync that dies half-way (bad line after the first 32768 entries
#    were sent): aborted, the table stays as it was.
{ tok_file 100000 40000 in; echo "not-a-token in 1"; } >"$T/c.txt"
ctl resync "$T/c.txt" 6 >/dev/null 2>&1 && or_fail "bad resync file accepted"
for _ in $(seq 50); do [ "$(counter chan.resync_aborts)" = 1 ] && break; sleep 0.1; done
expect_stat chan.resync_aborts 1
expect_stat table.entries 3500
expect_stat chan.resyncs 1
expect_stat chan.generation 5

# 6. Exactly the re-sent entries remain: deleting the tokens that were not
#    re-sent finds none of them; deleting the re-sent ones finds all.
miss0=$(counter chan.delete_missing)
del0=$(counter chan.deletes)
tail -n 2500 "$T/a.txt" | awk '{ print $1, "del" }' >"$T/gone.txt"
ctl -q load "$T/gone.txt" || or_fail "load deletes"
expect_stat chan.delete_missing $((miss0 + 2500))
expect_stat chan.deletes "$del0"
dels "$T/b.txt" >"$T/del_b.txt"
ctl -q load "$T/del_b.txt" || or_fail "load deletes b"
expect_stat chan.deletes $((del0 + 3500))
expect_stat chan.delete_missing $((miss0 + 2500))
expect_stat table.entries 0
expect_stat chan.errors 0

# 7. Clean stop: exit 0, socket removed.
rc=0
or_stop DP_PID || rc=$?
[ "$rc" = 0 ] || or_fail "dataplane exit $rc"
[ ! -e "$SOCK" ] || or_fail "socket left behind"
echo "dp_channel: all ok"
