#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `make run`: the whole appliance on virtual NICs, in the foreground, with
# the development configuration deploy/dev/optroute.ini (protocol version
# 2), then the demo deploy/dev/demo.sh: phones with keys, a signed message
# delivered, a signed bounce, the counters. However it stops (Ctrl-C, SIGTERM
# or SIGHUP to it or to make, a daemon exiting, a failed start) it stops
# the daemons and removes what it created before it exits.
#
#  ns ordev-client          ns ordev-dataplane             ns ordev-delivery
#  phone 192.0.2.10 --tap-- port client  --> port delivery --tap-- node 1
#  (iface ordev-cli)        192.0.2.1        198.51.100.1   198.51.100.5:7041
#                           (optroute-dataplane)           (iface ordev-dlv)
#
# optroute-dataplane runs in namespace ordev-dataplane (IPv6 off), so its
# taps never appear among the host's interfaces, and the kernel end of each
# tap is moved on into a namespace of its own (deploy/dev/netns.sh): `ip
# netns exec ordev-client ...` is a phone, `ip netns exec ordev-delivery
# ...` is delivery node 1. optroute-control runs here (it only needs Unix
# sockets), and so does optroute-exporter, which serves the figures on
# http://127.0.0.1:9140/metrics (docs/exporter.md). README.md "Try it"
# explains the demo and what to try next.
#
# Environment:
#   BUILD             build directory holding bin/ (default: build)
#   OPTROUTE_DEV_DIR  state directory (default: /tmp/optroute-dev): master
#                     key, consent store, sockets, rendered configuration.
#                     Kept between runs, so opt-ins persist; delete it to
#                     start afresh.
#   OPTROUTE_DEV_NAME names of the namespaces, taps and DPDK file prefix
#                     (default: ordev), to run a second instance
#   OPTROUTE_DEV_DEMO no: skip the demo
#   OPTROUTE_DEV_METRICS the exporter's listen address (default
#                     127.0.0.1:9140), to run a second instance
#   OPTROUTE_HUGE_MOUNT no: never mount hugetlbfs (deploy/dev/hugepages.sh)
#
# Exit status: 0 after a clean stop, 1 if start-up or the demo failed, or a
# daemon (the exporter included) exited by itself, failed or had to be
# killed.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=deploy/dev/env.sh
. deploy/dev/env.sh
NS_DP=$NAME-dataplane
INI=$DIR/optroute.ini
. deploy/dev/netns.sh
. deploy/dev/hugepages.sh

log() { echo "[run] $*"; }
die() { echo "[run] error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] ||
	die "must run as root (network namespaces, taps, DPDK): sudo make run"
[[ $NAME =~ ^[a-z][a-z0-9]{0,7}$ ]] ||
	die "OPTROUTE_DEV_NAME must be 1 to 8 of a-z 0-9, starting with a letter"
[[ $METRICS =~ ^[0-9.]+:[0-9]+$|^\[[0-9a-fA-F:.]+\]:[0-9]+$ ]] ||
	die "OPTROUTE_DEV_METRICS must be a numeric IPV4:PORT or [IPV6]:PORT"
[[ $DIR =~ ^/[A-Za-z0-9._/-]{1,80}$ ]] ||
	die "OPTROUTE_DEV_DIR must be an absolute path of at most 80 of A-Z a-z 0-9 . _ / -"
for b in optroute-dataplane optroute-control optroute-exporter optroutectl \
	optroute-client; do
	[ -x "$BIN/$b" ] || die "missing $BIN/$b (build first: make)"
done
for c in ip nsenter flock python3; do
	command -v $c >/dev/null || die "missing $c (make deps installs it)"
done

mkdir -p "$DIR"
chmod 700 "$DIR"
exec 9>"$DIR/run.lock"
flock -n 9 || die "another run.sh is using $DIR"

DP_PID='' CP_PID='' EXP_PID='' DP_LOG='' CP_LOG='' EXP_LOG='' DEMO_PID='' RC=0

# ---- leftovers of a run that did not clean up (killed, machine crash) ----
for p in $(cat "$DIR/pids" 2>/dev/null); do
	exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
	case ${exe##*/} in optroute-dataplane | optroute-control | optroute-exporter)
		log "stopping ${exe##*/} (pid $p) left by a previous run"
		kill -TERM "$p" 2>/dev/null || true
		timeout 20 tail --pid="$p" -f /dev/null || kill -KILL "$p" 2>/dev/null || true
	esac
done
# A tap lives as long as its dataplane: a namespace holding one is in use.
for ns in "$NS_C" "$NS_D" "$NS_DP"; do
	[ -z "$(ns_links "$ns")" ] ||
		die "namespace $ns holds a live dataplane's tap: another run with OPTROUTE_DEV_NAME=$NAME? (stop it, or pick another name)"
	ns_del "$ns"
done
rm -rf "/var/run/dpdk/$NAME"
rm -f "$DIR/pids" "$DIR/dataplane.sock" "$DIR/control.sock"

# ---- configuration, key ----
# EAL memory: hugepages when at least 256 MiB of them are free (EAL then
# takes only what it needs), else plain memory (--no-huge -m 512).
MEM="--no-huge -m 512 "
! huge_decide 256 || MEM="--huge-dir $HUGE_DIR "
log "EAL memory: $HUGE_WHY"
# Order matters: the values put in must not be matched by later patterns.
sed -e "s|--no-huge -m 512 |$MEM|" -e "s|ordev|$NAME|g" \
	-e "s|/tmp/optroute-dev|$DIR|g" -e "s|^listen = 127.0.0.1:9140\$|listen = $METRICS|" \
	-e '1,/^$/c\; Rendered by deploy/dev/run.sh from deploy/dev/optroute.ini.\n' \
	deploy/dev/optroute.ini >"$INI"

if [ ! -e "$DIR/master.key" ]; then
	(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$DIR/master.key.new" &&
		echo >>"$DIR/master.key.new" && mv -n "$DIR/master.key.new" "$DIR/master.key")
	log "new development master key $DIR/master.key (mode 0600)"
fi
log "state in $DIR: master key and consent store are kept between runs, so" \
	"opt-ins persist (rm -rf $DIR to start afresh)"

# ---- stop and clean up, whatever happened ----
# stop_daemon PID NAME: SIGTERM, then up to 20 s to exit 0.
stop_daemon() {
	local rc=0
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || true
	if ! timeout 20 tail --pid="$1" -f /dev/null; then
		log "$2 did not stop within 20 s: killed"
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" || rc=$?
	[ "$rc" = 0 ] || { log "$2 exited with status $rc"; RC=1; }
}

# Runs on every exit. Another signal (make forwards its own, `timeout`
# signals the whole group; a second Ctrl-C) must not cut it short, nor a
# failed write (a closed terminal). STOPPING is set first: a signal whose
# trap is already running when cleanup starts must not call exit inside it.
cleanup() {
	STOPPING=1
	trap '' INT TERM HUP
	set +e
	[ -z "$DEMO_PID" ] || kill -TERM "$DEMO_PID" 2>/dev/null
	stop_daemon "$EXP_PID" optroute-exporter
	stop_daemon "$CP_PID" optroute-control
	stop_daemon "$DP_PID" optroute-dataplane
	# The prefixers end at their daemon's last line.
	for p in $EXP_LOG $CP_LOG $DP_LOG; do timeout 5 tail --pid="$p" -f /dev/null || true; done
	for ns in "$NS_C" "$NS_D" "$NS_DP"; do ns_del "$ns" || RC=1; done
	rm -rf "/var/run/dpdk/$NAME"
	rm -f "${HUGE_DIR:-/dev/hugepages}/$NAME"map_* "$DIR/pids"
	log "stopped; namespaces removed; state kept in $DIR"
	exit "$RC"
}
trap 'RC=$?; cleanup' EXIT
trap '[ -n "${STOPPING:-}" ] || { STOPPING=1; exit $RC; }' INT TERM HUP

# prefixed NAME: opens fd PFX on a line prefixer "[NAME] ", its pid in PFX_PID.
# It ignores INT, TERM and HUP so that it outlives its daemon's last words.
prefixed() {
	exec {PFX}> >(trap '' INT TERM HUP; exec sed -u "s/^/[$1] /" 9>&-)
	PFX_PID=$!
}
# The daemons ignore SIGHUP (a closed terminal): cleanup stops them in order.

# ---- dataplane, then the taps into their namespaces ----
for ns in "$NS_C" "$NS_D" "$NS_DP"; do ns_add "$ns" || die "cannot create namespace $ns"; done
ns_no_ipv6 "$NS_DP" all default
prefixed dataplane
# nsenter execs (ip netns exec would fork): $! is the dataplane itself.
(trap '' HUP; exec nsenter --net="/var/run/netns/$NS_DP" "$BIN/optroute-dataplane" -c "$INI") >&$PFX 2>&1 9>&- &
DP_PID=$! DP_LOG=$PFX_PID
exec {PFX}>&-
echo "$DP_PID" >"$DIR/pids"
# The channel socket appears once the ports are started (their taps set up).
for i in $(seq 1 300); do
	[ -S "$DIR/dataplane.sock" ] && break
	kill -0 "$DP_PID" 2>/dev/null || die "optroute-dataplane did not start (see its log above)"
	sleep 0.1
done
[ -S "$DIR/dataplane.sock" ] || die "optroute-dataplane not ready after 30 s"
ns_take_link "$NS_DP" "$NAME-cli" "$NS_C" 02:00:00:00:00:0a 192.0.2.10/24 ||
	die "cannot move $NAME-cli into $NS_C"
ns_take_link "$NS_DP" "$NAME-dlv" "$NS_D" 02:00:00:00:02:05 198.51.100.5/24 ||
	die "cannot move $NAME-dlv into $NS_D"

# ---- control plane; ready once the dataplane acked its first resync ----
prefixed control
(trap '' HUP; exec "$BIN/optroute-control" -c "$INI") >&$PFX 2>&1 9>&- &
CP_PID=$! CP_LOG=$PFX_PID
exec {PFX}>&-
echo "$DP_PID $CP_PID" >"$DIR/pids"
synced() {
	"$BIN/optroutectl" -s "$DIR/control.sock" -t 2000 -j dataplane 2>/dev/null |
		python3 -c 'import json, sys
r = json.load(sys.stdin)
sys.exit(0 if r["connected"] and not r["syncing"] and r["lag"] == 0 else 1)' 2>/dev/null
}
for i in $(seq 1 300); do
	synced && break
	kill -0 "$CP_PID" 2>/dev/null || die "optroute-control did not start (see its log above)"
	sleep 0.1
done
synced || die "the control plane did not sync the dataplane within 30 s"

# ---- the exporter: /metrics from the management socket's "stats" ----
prefixed exporter
(trap '' HUP; exec "$BIN/optroute-exporter" -c "$INI") >&$PFX 2>&1 9>&- &
EXP_PID=$! EXP_LOG=$PFX_PID
exec {PFX}>&-
echo "$DP_PID $CP_PID $EXP_PID" >"$DIR/pids"
scrape() { python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://%s/metrics" % sys.argv[1], timeout=5).read().decode())' "$METRICS"; }
# Bounded by the clock, not by tries: a loaded host makes both the
# exporter's start and each try slow. The text is read whole before it is
# searched: `scrape | grep -q` fails under pipefail when grep stops early
# and the writer, still writing, gets EPIPE.
up=0 deadline=$((SECONDS + 30))
while [ "$SECONDS" -lt "$deadline" ]; do
	if grep -q '^optroute_control_up 1$' <<<"$(scrape 2>/dev/null)"; then
		up=1
		break
	fi
	kill -0 "$EXP_PID" 2>/dev/null ||
		die "optroute-exporter did not start (see its log above; another instance on $METRICS? set OPTROUTE_DEV_METRICS)"
	sleep 0.1
done
[ "$up" = 1 ] ||
	die "optroute-exporter does not show the control plane's figures after 30 s"

log "up: both daemons, the dataplane synced; /metrics on http://$METRICS/metrics"

# ---- the demo (deploy/dev/demo.sh) ----
# In the background: a signal's trap runs at once, not after the demo.
if [ "${OPTROUTE_DEV_DEMO:-yes}" != no ]; then
	BUILD=$BUILD OPTROUTE_DEV_DIR=$DIR OPTROUTE_DEV_NAME=$NAME deploy/dev/demo.sh 9>&- &
	DEMO_PID=$!
	wait "$DEMO_PID" ||
		{ RC=1; log "the demo failed (above); the appliance stays up to look into it"; }
	DEMO_PID=
fi

cat <<EOF
[run] ready: optroute-dataplane pid $DP_PID, optroute-control pid $CP_PID.
[run] metrics: http://$METRICS/metrics (optroute-exporter pid $EXP_PID)
[run] From a second terminal, as root (README.md "Try it" shows more):
[run]   export PATH=$BIN:\$PATH OPTROUTE_CONTROL_SOCKET=$DIR/control.sock
[run]   deploy/dev/demo.sh     # the demo again; its phones' keys are in $DIR/phones
[run]   optroutectl stats;  echo /optroute/stats | dpdk-telemetry.py -f $NAME
[run]   curl -s http://$METRICS/metrics | grep -v '^#'
[run] Ctrl-C here stops the daemons and removes the namespaces.
EOF

# Until a signal (trap above) or until a daemon exits by itself.
rc=0
wait -n -p who "$DP_PID" "$CP_PID" "$EXP_PID" || rc=$?
case ${who:-} in
"$DP_PID") who=optroute-dataplane DP_PID= ;;
"$CP_PID") who=optroute-control CP_PID= ;;
*) who=optroute-exporter EXP_PID= ;;
esac
log "$who exited by itself (status $rc); stopping"
exit 1
