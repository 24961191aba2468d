# SPDX-License-Identifier: BSD-3-Clause
#
# Sourced by the fleet tests (tests/integration/fleet_*.sh) after common.sh
# and pg.sh: appliances of one PostgreSQL system of record, each named
# NAME with its files $T/NAME.* (configuration, management socket, local
# copy, log; its dataplane's $T/NAME-dp.*). The test sets APP (the
# appliances' connection string) and the key $T/key before using them.
#
#   fleet_pg                   server db, migrated; APP and $T/key set
#   fleet_ini NAME [KEY [APPLIANCE_NAME]]  [control] section on stdout
#                              (node_policy FLEET_POLICY, default hash 4)
#   fleet_dp NAME VAR [NS]     a dataplane (null port, or taps in NS)
#   fleet_start NAME VAR       optroute-control, pid in VAR, answering
#   ctl NAME ARGS...           optroutectl on NAME's socket
#   ctl_ok NAME ARGS...        the same, its output dropped (or_check)
#   state NAME NUMBER          in, out or none as NAME has it
#   until_state NAME NUMBER STATE, until_caught_up NAME   (bounded polls)
#   store NAME FIELD           a figure of NAME's store (stats)
#   head_seq                   the fleet's head (server db)

CTL=$BIN/optroutectl

# fleet_pg: the fleet's PostgreSQL (server db), its schema migrated by
# its owner; APP, the appliances' connection string; the master key.
fleet_pg() {
	pg_start db || or_fail "no PostgreSQL server"
	"$BIN/or_pgtool" migrate "$(pg_conninfo db optroute_owner)" >/dev/null ||
		or_fail "migrations"
	APP=$(pg_conninfo db or_app)
	or_key "$T/key"
}

# fleet_ini NAME [KEY]: an appliance's configuration in $T/NAME.ini.
fleet_ini() {
	printf '[control]\nmgmt_socket = %s\nstore_path = %s\nkey_file = %s\n' \
		"$T/$1.sock" "$T/$1.store" "${2:-$T/key}"
	printf 'channel_socket = %s\nnode_policy = %s\n' "$T/$1-dp.sock" \
		"${FLEET_POLICY:-hash 4}"
	printf 'store = postgresql\nstore_conninfo = %s\n' "$APP"
	printf 'appliance_name = %s\nfleet_report_ms = 200\n' "${3:-$1}"
	printf 'fleet_silence_ms = 1500\nwait_timeout_ms = 3000\n'
	printf 'channel_retry_ms = 200\n'
}
# fleet_dp NAME VAR [NS]: appliance NAME's dataplane (channel
# $T/NAME-dp.sock, telemetry under file prefix ${PREFIX}_NAME), pid in VAR,
# once its channel listens. Without NS, on a null port, protocol version
# 1; with NS, inside it on the taps CIF and DIF of or_ini_tap_appliance,
# protocol version 2.
fleet_dp() {
	{
		printf '[eal]\nargs = --no-huge -m 256 --no-pci --file-prefix=%s_%s\n' \
			"$PREFIX" "$1"
		printf '[dataplane]\nchannel = %s\ntable_entries = 100000\n' \
			"$T/$1-dp.sock"
		if [ -n "${3:-}" ]; then
			printf 'auth = yes\nidle_sleep_us = 200\n'
			or_ini_tap_appliance 203.0.113
		else
			printf 'auth = no\n'
			or_ini_port client net_null0 192.0.2.1 02:00:00:00:01:01 "workers = 1"
		fi
	} >"$T/$1-dp.ini"
	${3:+nsenter --net=/var/run/netns/$3} "$BIN/optroute-dataplane" \
		-c "$T/$1-dp.ini" >>"$T/$1-dp.log" 2>&1 &
	printf -v "$2" '%s' "$!"
	or_wait_sock "$T/$1-dp.sock" "${!2}" 30 || or_fail "dataplane $1 did not start"
}
# fleet_start NAME VAR: starts optroute-control NAME (pid in VAR), waits
# until it answers.
fleet_start() {
	"$BIN/optroute-control" -c "$T/$1.ini" >>"$T/$1.log" 2>&1 &
	printf -v "$2" '%s' "$!"
	for _ in $(seq 1 100); do
		timeout 10 "$CTL" -s "$T/$1.sock" version >/dev/null 2>&1 && return 0
		kill -0 "${!2}" 2>/dev/null || break
		sleep 0.1
	done
	or_fail "optroute-control $1 did not start"
}
ctl() {
	local n=$1
	shift
	timeout 60 "$CTL" -s "$T/$n.sock" "$@"
}
ctl_ok() { ctl "$@" >/dev/null; }
# state NAME NUMBER: "in", "out" or "none" as appliance NAME has it.
state() {
	ctl "$1" -j status "$2" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r.get("state", "none") if r.get("ok") else "error")'
}
# until_state NAME NUMBER STATE: polls for up to 10 s.
until_state() {
	for _ in $(seq 1 100); do
		[ "$(state "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
# store NAME FIELD: a figure of the appliance's store ("stats").
store() {
	ctl "$1" -j stats | python3 -c '
import json, sys
print(json.load(sys.stdin)["store"][sys.argv[1]])' "$2"
}
head_seq() { pg_sql db "SELECT head_seq FROM optroute.fleet"; }
# until_caught_up NAME: its copy at the fleet's head, within 20 s.
until_caught_up() {
	for _ in $(seq 1 200); do
		[ "$(store "$1" last_seq)" = "$(head_seq)" ] && return 0
		sleep 0.1
	done
	return 1
}
