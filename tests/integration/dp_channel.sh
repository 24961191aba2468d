#!/usr/bin/env bash
# The update channel against the real dataplane (EAL --no-huge, one net_ring
# vdev, no NIC): fill over the channel with optroute-chanctl, reconnect,
# full resync, an aborted resync; membership is checked exactly by deleting
# tokens and reading chan.deletes / chan.delete_missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
DP=$BUILD/bin/optroute-dataplane
CTL=$BUILD/bin/optroute-chanctl
for b in "$DP" "$CTL"; do
	[ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }
done

T=$(mktemp -d /tmp/or_dp_channel.XXXXXX)
SOCK=$T/dp.sock
DP_PID=
cleanup() {
	if [ -n "$DP_PID" ] && kill -0 "$DP_PID" 2>/dev/null; then
		kill -TERM "$DP_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$DP_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DP_PID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT
# run-all.sh's timeout sends TERM: exit through the EXIT trap, so clean-up runs.
trap 'exit 143' TERM
trap 'exit 130' INT

fail() { echo "FAIL: $*"; echo "--- dataplane log:"; tail -n 20 "$T/dp.log" || true; exit 1; }
ctl() { "$CTL" -s "$SOCK" -t 20000 "$@"; }
# counter NAME: one counter from a STATS reply
counter() { ctl stats | awk -v n="$1" '$1 == n { print $2; f = 1 } END { exit !f }'; }
expect_stat() {
	local v; v=$(counter "$1") || fail "no counter $1"
	[ "$v" = "$2" ] || fail "$1 = $v, expected $2"
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

cat > "$T/dp.ini" <<INI
[eal]
args = --no-huge -m 256 --no-pci --no-telemetry --file-prefix=or_chan_$$
main_lcore = 0

[dataplane]
channel = $SOCK
table_entries = 4096
idle_sleep_us = 1000

[port p]
device = net_ring0
workers = 1
ip = 192.0.2.1
INI

"$DP" -c "$T/dp.ini" >"$T/dp.log" 2>&1 &
DP_PID=$!

# 1. Fresh dataplane: HELLO (the client retries while the socket appears).
ctl hello >"$T/hello" || fail "hello"
grep -qx "entries 0" "$T/hello" || fail "fresh table not empty: $(cat "$T/hello")"
grep -qx "generation 0" "$T/hello" || fail "generation not 0"
[ "$(command stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(command stat -c %a "$SOCK")"

# 2. Fill: 5000 random tokens (table grows past its 4096 sizing) + singles.
ctl -q random -o "$T/a.txt" -k 4 -p 100 5000 42 || fail "random"
[ "$(wc -l <"$T/a.txt")" = 5000 ] || fail "random -o wrote $(wc -l <"$T/a.txt") lines"
expect_stat table.entries 5000
expect_stat chan.upserts 5000
one=0123456789abcdef0123456789abcdef
ctl upsert $one in 3 >/dev/null || fail "upsert"
expect_stat table.entries 5001
ctl delete $one >/dev/null || fail "delete"
expect_stat table.entries 5000
ctl upsert $one maybe 3 2>/dev/null && fail "bad state accepted"
ctl upsert 0123 in 3 2>/dev/null && fail "short token accepted"

# 3. Reconnect: the HELLO tells where the dataplane stands.
acked=$(counter chan.acked_seq)
ctl hello >"$T/hello2" || fail "hello after reconnect"
grep -qx "acked_seq $acked" "$T/hello2" || fail "acked_seq not $acked: $(cat "$T/hello2")"
grep -qx "entries 5000" "$T/hello2" || fail "entries not 5000 after reconnect"
[ "$(ctl wait-ack "$acked")" = "$acked" ] || fail "wait-ack $acked"

# 4. Full resync: half of the old entries (new nodes) + 1000 new tokens.
head -n 2500 "$T/a.txt" | awk '{ print $1, $2, 9 }' >"$T/b.txt"
tok_file 1 1000 in >>"$T/b.txt"
ctl -q resync "$T/b.txt" 5 || fail "resync"
expect_stat table.entries 3500
expect_stat chan.resyncs 1
expect_stat chan.generation 5
ctl hello | grep -qx "generation 5" || fail "HELLO generation not 5"

# 5. A resync that dies half-way (bad line after the first 32768 entries
#    were sent): aborted, the table stays as it was.
{ tok_file 100000 40000 in; echo "not-a-token in 1"; } >"$T/c.txt"
ctl resync "$T/c.txt" 6 >/dev/null 2>&1 && fail "bad resync file accepted"
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
ctl -q load "$T/gone.txt" || fail "load deletes"
expect_stat chan.delete_missing $((miss0 + 2500))
expect_stat chan.deletes "$del0"
dels "$T/b.txt" >"$T/del_b.txt"
ctl -q load "$T/del_b.txt" || fail "load deletes b"
expect_stat chan.deletes $((del0 + 3500))
expect_stat chan.delete_missing $((miss0 + 2500))
expect_stat table.entries 0
expect_stat chan.errors 0

# 7. Clean stop: exit 0, socket removed.
kill -TERM "$DP_PID"
rc=0; wait "$DP_PID" || rc=$?
DP_PID=
[ "$rc" = 0 ] || fail "dataplane exit $rc"
[ ! -e "$SOCK" ] || fail "socket left behind"
echo "dp_channel: all ok"
