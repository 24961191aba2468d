#!/usr/bin/env bash
# Who may use the update channel (issue 14): the real dataplane with
# [dataplane] channel_peer_uid = 65533. The socket's file mode is opened to
# everyone first, so that only the dataplane's SO_PEERCRED check stands:
# optroute-chanctl run as nobody (uid 65534) is refused before anything it
# sent is read, counted in chan.refused_peer (STATS and /optroute/channel)
# and logged once, naming its uid and nothing of what it sent; run as uid
# 65533 and as root it is served. Needs root and setpriv.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_need_bins optroute-dataplane optroute-chanctl
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "skip: $OR_NAME needs root and setpriv"
	exit 0
fi
CTL=$PWD/$BIN/optroute-chanctl
SOCK=$T/dp.sock
PEER=65533
OTHER=65534

# as UID COMMAND...: optroute-chanctl as that uid, with a group of its own
# and no supplementary group.
as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups \
		"$CTL" -s "$SOCK" -t 5000 "$@"
}
counter() {
	"$CTL" -s "$SOCK" -t 5000 stats |
		awk -v n="$1" '$1 == n { print $2; f = 1 } END { exit !f }'
}
expect_stat() {
	local v
	v=$(counter "$1") || or_fail "no counter $1"
	[ "$v" = "$2" ] || or_fail "$1 = $v, expected $2"
	echo "ok: $1 = $2"
}
tel_channel() {
	or_telemetry /optroute/channel | python3 -c '
import json, sys
print(json.load(sys.stdin)["/optroute/channel"][sys.argv[1]])' "$1"
}

{
	or_ini_eal
	echo "main_lcore = 0"
	or_ini_dataplane 4096 "idle_sleep_us = 1000" "channel_peer_uid = $PEER"
	or_ini_port p net_ring0 192.0.2.1 02:00:00:00:01:01 "workers = 1"
} >"$T/dp.ini"
or_start_dp "$T/dp.ini"
grep -q "peers served: root, uid 0, channel_peer_uid $PEER, channel_peer_gid none" \
	"$T/dp.log" || or_fail "start-up log does not say who is served"
# Everyone may reach the socket file: any refusal below is the dataplane's.
chmod 0755 "$T"
chmod 0666 "$SOCK"

# 1. Another uid: refused with EACCES, nothing applied, counted, logged.
tok=0123456789abcdef0123456789abcdef
c0=$(counter chan.connects) || or_fail "stats as root"
rc=0
out=$(as $OTHER upsert $tok in 1 2>&1) || rc=$?
[ "$rc" = 1 ] || or_fail "uid $OTHER: exit $rc, expected 1 ($out)"
grep -q "Permission denied" <<<"$out" || or_fail "uid $OTHER: $out"
echo "ok: uid $OTHER refused: $out"
# Not a connection: the only one since c0 is the next stats request.
expect_stat chan.connects $((c0 + 1))
expect_stat chan.refused_peer 1
expect_stat chan.upserts 0
expect_stat table.entries 0
[ "$(tel_channel refused_peer)" = 1 ] || or_fail "/optroute/channel refused_peer"
echo "ok: /optroute/channel refused_peer = 1"
n=$(grep -c "refused peer uid $OTHER gid $OTHER pid " "$T/dp.log" || true)
[ "$n" = 1 ] || or_fail "refusal logged $n times"
grep "refused peer" "$T/dp.log" | grep -q "$tok" && or_fail "token in the log"
echo "ok: refusal logged once"

# 2. The configured uid: served, its upsert applied and acked.
as $PEER upsert $tok in 1 >"$T/peer.out" || or_fail "uid $PEER not served"
grep -q "^acked seq " "$T/peer.out" || or_fail "uid $PEER: $(cat "$T/peer.out")"
echo "ok: uid $PEER served"
expect_stat chan.upserts 1
expect_stat table.entries 1
expect_stat chan.refused_peer 1

# 3. Root too; a refused peer again, while root's stats are read.
as 0 delete $tok >/dev/null || or_fail "root not served"
expect_stat table.entries 0
as $OTHER hello >/dev/null 2>&1 && or_fail "uid $OTHER served on retry"
expect_stat chan.refused_peer 2
expect_stat chan.errors 0

rc=0
or_stop DP_PID || rc=$?
[ "$rc" = 0 ] || or_fail "dataplane exit $rc"
echo "$OR_NAME: all ok"
