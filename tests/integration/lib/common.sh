# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# What the integration tests (tests/integration/*.sh) and the dataplane
# benchmark share. A test starts with its own `set` options (this file sets
# none, and works with or without set -e), then
#
#   # shellcheck source=lib/common.sh
#   . "$(dirname "$0")/lib/common.sh"
#   or_trap_exit or_cleanup
#
# Sourcing this file: cd to the repository root; BUILD (default build), BIN,
# TOOLS; OR_NAME, the test's name; T, a fresh temporary directory; PREFIX, a
# DPDK file prefix of this run; OPTROUTE_CONTROL_SOCKET=$T/cp.sock;
# PYTHONPATH gains this folder (orproto.py, the wire format); the ns_*
# helpers of deploy/dev/netns.sh and huge_decide of deploy/dev/hugepages.sh.
# Nothing else runs: the test then sets its clean-up (or_trap_exit) and
# calls the helpers it needs.
#
# Conventions of the helpers below: one file per role in $T: key, store,
# cp.sock, dp.sock (the update channel), cp.log, dp.log; the dataplane's
# pid in DP_PID, the control plane's in CP_PID.

cd "$(dirname "${BASH_SOURCE[0]}")/../../.." || exit 1
BUILD=${BUILD:-build}
BIN=$BUILD/bin
TOOLS=tests/tools
OR_LIB=tests/integration/lib
OR_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/or-$OR_NAME.XXXXXX") || exit 1
PREFIX=or_${OR_NAME}_$$
export OPTROUTE_CONTROL_SOCKET=$T/cp.sock
export PYTHONPATH=$PWD/$OR_LIB${PYTHONPATH:+:$PYTHONPATH}
export PYTHONDONTWRITEBYTECODE=1 # (no __pycache__ in the source tree)
. deploy/dev/netns.sh
. deploy/dev/hugepages.sh
. deploy/dev/trap.sh

# ---- clean-up ---------------------------------------------------------------
# What or_cleanup removes; a test adds to these.
OR_PIDVARS="CP_PID DP_PID" # variables holding pids, killed in this order
OR_PIDS=()                 # more pids, killed after those
OR_NETNS=()                # network namespaces (their taps go with them)
OR_RM=()                   # more paths, besides $T and DPDK's runtime dir
DP_PID=
CP_PID=

# or_kill PID: SIGKILL, and reaps it if it is a child.
or_kill() {
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# or_cleanup: kills what is still running, deletes the namespaces and the
# files of the run. Every step is allowed to fail (the EXIT trap runs it
# under set -e too).
or_cleanup() {
	local v p
	for v in $OR_PIDVARS; do
		p=${!v:-}
		[ -z "$p" ] || or_kill "$p"
	done
	for p in "${OR_PIDS[@]}"; do
		or_kill "$p"
	done
	for p in "${OR_NETNS[@]}"; do
		ns_del "$p" 2>/dev/null || true
	done
	rm -rf "$T" "/var/run/dpdk/$PREFIX" "${OR_RM[@]}" || true
	# Hugepage files a DPDK process left (this prefix and PREFIX_*), in
	# the mount huge_decide chose.
	p=${HUGE_DIR:-/dev/hugepages}
	rm -f "$p/$PREFIX"map_* "$p/$PREFIX"_*map_* || true
}

# or_trap_exit FUNC: deploy/dev/trap.sh (sourced above).

# ---- verdicts ---------------------------------------------------------------
# Logs whose last lines or_fail shows (those that exist).
OR_LOGS=("$T/cp.log" "$T/dp.log")

# or_fail MESSAGE: "FAIL: MESSAGE", the tails of OR_LOGS and whatever the
# test's or_fail_extra prints (if it defines one), then exit 1. To stderr:
# seen also when called inside $(...).
or_fail() {
	local f
	{
		echo "FAIL: $*"
		for f in "${OR_LOGS[@]}"; do
			[ -s "$f" ] || continue
			echo "--- $f (last 40 lines)"
			tail -n 40 "$f"
		done
		if declare -F or_fail_extra >/dev/null; then
			or_fail_extra || true
		fi
	} >&2
	exit 1
}

# Counted checks, for tests that go on after a failed one and give their
# verdict at the end (or_summary).
OR_FAILS=0
or_ok() { echo "ok: $*"; }
or_bad() {
	echo "FAIL: $*"
	OR_FAILS=$((OR_FAILS + 1))
}
# or_check WHAT COMMAND...: or_ok WHAT if COMMAND succeeds, else or_bad.
or_check() {
	local what=$1
	shift
	if "$@"; then or_ok "$what"; else or_bad "$what"; fi
}
# or_summary: the verdict line; false if a counted check failed.
or_summary() {
	if [ "$OR_FAILS" = 0 ]; then
		echo "$OR_NAME: all ok"
	else
		echo "$OR_NAME: $OR_FAILS check(s) failed"
		return 1
	fi
}

# or_log MESSAGE: progress, to stderr.
or_log() { echo "$OR_NAME: $*" >&2; }

# or_need_bins NAME...: exit 1 unless $BIN/NAME are built.
or_need_bins() {
	local b
	for b in "$@"; do
		[ -x "$BIN/$b" ] || { echo "missing $BIN/$b (build first: make)" >&2; exit 1; }
	done
}

# or_json JSON CODE: runs the Python statements CODE with json and sys
# imported and r = JSON parsed (an assert failing makes it exit 1).
or_json() {
	python3 -c 'import json, sys
r = json.loads(sys.argv[1])
exec(sys.argv[2])' "$1" "$2"
}

# ---- configuration ----------------------------------------------------------
# or_key FILE: a fresh random master key, mode 0600.
or_key() {
	(umask 077 && python3 -c 'import os; print(os.urandom(32).hex())' >"$1") &&
		chmod 600 "$1"
}

# Each or_ini_* prints one section (to be collected into a file); LINEs are
# more "key = value" lines of that section.

# or_ini_eal [EAL_ARG...]: no hugepages, no PCI, this run's file prefix.
# shellcheck disable=SC2120 # (the arguments are optional)
or_ini_eal() {
	printf '[eal]\nargs = --no-huge -m 256 --no-pci --file-prefix=%s%s\n' \
		"$PREFIX" "${*:+ $*}"
}

# or_ini_dataplane TABLE_ENTRIES [LINE...]: channel $T/dp.sock; auth =
# $OR_AUTH (protocol version 2 with yes, the default of the dataplane; a
# test that still sends version-1 frames runs with OR_AUTH=no, the default
# here until every test speaks version 2).
or_ini_dataplane() {
	printf '[dataplane]\nchannel = %s\ntable_entries = %s\nauth = %s\n' \
		"$T/dp.sock" "$1" "${OR_AUTH:-no}"
	shift
	[ $# = 0 ] || printf '%s\n' "$@"
}

# or_ini_port NAME DEVICE IP MAC [LINE...]
or_ini_port() {
	printf '[port %s]\ndevice = %s\nip = %s\nmac = %s\n' "$1" "$2" "$3" "$4"
	shift 4
	[ $# = 0 ] || printf '%s\n' "$@"
}

# The appliance of the traffic tests. Port client 192.0.2.1, one worker; its
# peer, a phone, is OR_PHONE_MAC, 192.0.2.10. Port delivery NET.1; its peer,
# delivery node 1 (next hop 1), is OR_NODE_MAC, NET.5, UDP port 7041.
OR_PHONE_MAC=02:00:00:00:00:0a
OR_NODE_MAC=02:00:00:00:02:05

# or_ini_appliance CLIENT_DEVICE DELIVERY_DEVICE NET: both ports, next hop 1.
or_ini_appliance() {
	or_ini_port client "$1" 192.0.2.1 02:00:00:00:01:01 "workers = 1"
	or_ini_port delivery "$2" "$3.1" 02:00:00:00:02:01
	printf '[nexthop 1]\nport = delivery\nmac = %s\nip = %s\nudp_port = 7041\n' \
		"$OR_NODE_MAC" "$3.5"
}

# or_ini_control [LINE...]: management socket $T/cp.sock, store $T/store,
# key $T/key.
or_ini_control() {
	printf '[control]\nmgmt_socket = %s\nstore_path = %s\nkey_file = %s\n' \
		"$T/cp.sock" "$T/store" "$T/key"
	[ $# = 0 ] || printf '%s\n' "$@"
}

# ---- network namespaces -----------------------------------------------------
# or_netns NS...: creates the namespaces (loopback up), removed by
# or_cleanup; or_fail if one cannot be created.
or_netns() {
	local ns
	for ns in "$@"; do
		OR_NETNS+=("$ns")
		ns_add "$ns" 2>"$T/netns.err" ||
			or_fail "cannot create a network namespace: $(cat "$T/netns.err")"
	done
}

# One namespace NS for the dataplane and the kernel ends of its two net_tap
# ports CIF (port client) and DIF (port delivery), set by or_tap_ns.
NS=
CIF=
DIF=
in_ns() { ip netns exec "$NS" "$@"; }

# or_tap_ns: creates NS; names CIF and DIF.
or_tap_ns() {
	NS=or_${OR_NAME}_$$
	CIF=orc$$
	DIF=ord$$
	or_netns "$NS"
}

# or_ini_tap_appliance NET: or_ini_appliance on net_tap ports CIF and DIF.
or_ini_tap_appliance() {
	or_ini_appliance "net_tap0,iface=$CIF" "net_tap1,iface=$DIF" "$1"
}

# or_tap_peers NET: the kernel ends of both taps, in NS, as the phone and
# delivery node 1 (see or_ini_appliance) once the dataplane runs.
or_tap_peers() {
	ns_wait_link "$NS" "$DIF" || or_fail "no interface $DIF in $NS"
	ns_set_link "$NS" "$CIF" "$OR_PHONE_MAC" 192.0.2.10/24 || or_fail "cannot set up $CIF"
	ns_set_link "$NS" "$DIF" "$OR_NODE_MAC" "$1.5/24" || or_fail "cannot set up $DIF"
}

# ---- daemons ----------------------------------------------------------------
# or_wait_sock PATH PID SECONDS: until the Unix socket PATH exists; false if
# process PID exited or SECONDS passed first.
or_wait_sock() {
	local i
	for i in $(seq 1 $(($3 * 10))); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	[ -S "$1" ]
}

# or_start_dp INI [NS]: starts optroute-dataplane (log appended to
# $T/dp.log, pid in DP_PID), in network namespace NS if given, and waits
# (OR_DP_START_S seconds, default 30) until its update channel $T/dp.sock
# listens: its ports are started then (a net_tap's interface exists) and
# its telemetry socket is up.
or_start_dp() {
	# nsenter execs (ip netns exec forks): $! is the dataplane itself.
	${2:+nsenter --net=/var/run/netns/$2} "$BIN/optroute-dataplane" -c "$1" \
		>>"$T/dp.log" 2>&1 &
	DP_PID=$!
	or_wait_sock "$T/dp.sock" "$DP_PID" "${OR_DP_START_S:-30}" ||
		or_fail "optroute-dataplane did not start"
}

# or_start_cp INI [NS]: starts optroute-control (log appended to $T/cp.log,
# pid in CP_PID), in network namespace NS if given, and waits up to 5 s
# until it answers on $T/cp.sock.
or_start_cp() {
	local i
	${2:+nsenter --net=/var/run/netns/$2} "$BIN/optroute-control" -c "$1" \
		>>"$T/cp.log" 2>&1 &
	CP_PID=$!
	for i in $(seq 1 100); do
		timeout 10 "$BIN/optroutectl" -s "$T/cp.sock" version >/dev/null 2>&1 &&
			return 0
		kill -0 "$CP_PID" 2>/dev/null || break
		sleep 0.05
	done
	or_fail "optroute-control did not start"
}

# or_stop VAR [SIGNAL]: sends SIGNAL (default TERM) to the process whose pid
# is in variable VAR, waits for it to exit (OR_STOP_S seconds, default 20;
# then SIGKILL), empties VAR and returns the process's exit status.
or_stop() {
	local pid=${!1} rc=0
	{ # (stderr: not the shell's line "Killed" on a SIGKILL)
		kill "-${2:-TERM}" "$pid" || true
		timeout "${OR_STOP_S:-20}" tail --pid="$pid" -f /dev/null || kill -KILL "$pid" || true
		wait "$pid" || rc=$?
	} 2>/dev/null
	printf -v "$1" '%s' ''
	return "$rc"
}

# or_telemetry [-w SECONDS] CMD...: DPDK telemetry of this run's dataplane,
# one JSON object a command.
or_telemetry() {
	python3 "$TOOLS/optroute-telemetry.py" -p "$PREFIX" "$@"
}

# or_stat NAME: one counter of /optroute/stats.
or_stat() {
	or_telemetry /optroute/stats | python3 -c '
import json, sys
print(json.load(sys.stdin)["/optroute/stats"][sys.argv[1]])' "$1"
}

# or_gen_entries COUNT NAME OUT_EVERY [NOROUTE_EVERY]: $T/entries.txt for
# optroute-chanctl resync and optroute-pcapgen -e: token i is the 16-byte
# BLAKE2b of "NAME-i"; every OUT_EVERY-th is opted out; every
# NOROUTE_EVERY-th has node 3 (no next hop), the others node 1 or 2.
or_gen_entries() {
	python3 - "$T/entries.txt" "$@" <<'EOF'
import hashlib, sys
out, n, name, oe = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ne = int(sys.argv[5]) if len(sys.argv) > 5 else 0
with open(out, "w") as f:
    for i in range(n):
        tok = hashlib.blake2b(b"%s-%d" % (name.encode(), i), digest_size=16).hexdigest()
        state = "out" if i % oe == oe - 1 else "in"
        node = 3 if ne and i % ne == ne - 1 else 1 + i % 2
        f.write(f"{tok} {state} {node}\n")
EOF
}

# or_wait_rx N: until the dataplane's rx counter is N and stays there
# (net_pcap reads its files once); or_fail with the log if not in 10 s.
or_wait_rx() {
	local rx prev=-1 i
	for i in $(seq 1 100); do
		rx=$(or_stat rx)
		[ "$rx" = "$1" ] && [ "$rx" = "$prev" ] && return 0
		prev=$rx
		sleep 0.1
	done
	or_fail "rx $rx of $1 frames"
}

# or_pcapcheck IN MANIFEST CLIENT_OUT DELIVER_OUT STATS [ARG...]: every
# output frame of the ports of or_ini_appliance (UDP port 7040) checked
# against the input by optroute-pcapcheck.py, with the table
# $T/entries.txt and next hop 1 (OR_NODE_MAC, NET.5 of 203.0.113, 7041);
# ARGs add next hops.
or_pcapcheck() {
	python3 "$TOOLS/optroute-pcapcheck.py" --in "$1" --manifest "$2" \
		--entries "$T/entries.txt" --client-out "$3" --deliver-out "$4" \
		--client "02:00:00:00:01:01,192.0.2.1,7040" \
		--egress "02:00:00:00:02:01,203.0.113.1,7040" \
		--nexthop "1,$OR_NODE_MAC,203.0.113.5,7041" --stats "$5" "${@:6}"
}

# ---- control plane requests (optroutectl on $T/cp.sock) --------------------
# Numbers go through stdin (-), never on a command line.

# or_synced [SYNCS]: true if the control plane is connected to the
# dataplane, not resyncing, has synced its table at least SYNCS times
# (default 1: full resyncs and resumes from the dataplane's mark, docs/
# channel.md "Resuming") and the dataplane acked every change (lag 0).
or_synced() {
	timeout 20 "$BIN/optroutectl" -j dataplane 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if r["connected"] and not r["syncing"] and
         r["resyncs"] + r["resumes"] >= int(sys.argv[1]) and r["lag"] == 0
         else 1)' "${1:-1}" 2>/dev/null
}

# or_wait_synced [RESYNCS]: or_synced within 20 s, else or_fail.
or_wait_synced() {
	local i
	for i in $(seq 1 200); do
		or_synced "$@" && return 0
		sleep 0.1
	done
	or_fail "the control plane did not sync with the dataplane"
}

# or_change optin|optout|erase NUMBER: the change with --wait; or_fail
# unless the dataplane applied it. Prints the number's token.
or_change() {
	local j
	j=$(echo "$2" | timeout 20 "$BIN/optroutectl" -j "$1" - --wait) ||
		or_fail "$1 --wait: $j"
	# An applied --wait reply also says how long the commit and the
	# enforcement (commit -> every worker, the dataplane's ack) took.
	or_json "$j" 'assert r["ok"] and r["applied"] is True, r
assert r["commit_us"] >= 0 and r["enforce_us"] >= 0, r
print(r["token"])' || or_fail "$1 --wait not applied: $j"
}

# or_token NUMBER: prints the number's token.
or_token() {
	local j
	j=$(echo "$1" | timeout 20 "$BIN/optroutectl" -j status -) || or_fail "status: $j"
	or_json "$j" 'print(r["token"])'
}
