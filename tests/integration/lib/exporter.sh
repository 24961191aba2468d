# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# optroute-exporter in an integration test (docs/exporter.md); sourced after
# lib/common.sh. Its pid in EXP_PID (killed by or_cleanup before the
# control plane's), its log $T/exp.log, its /metrics on 127.0.0.1:EXP_PORT,
# a free port of this run (tests may run side by side; the default 9140
# may be taken).

EXP_PID=
OR_PIDVARS="EXP_PID $OR_PIDVARS"
OR_LOGS+=("$T/exp.log")
EXP_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# or_ini_exporter [LINE...]: [exporter] on 127.0.0.1:EXP_PORT, figures
# fetched at every scrape (max_age_ms = 0).
or_ini_exporter() {
	printf '[exporter]\nlisten = 127.0.0.1:%s\nmax_age_ms = 0\n' "$EXP_PORT"
	[ $# = 0 ] || printf '%s\n' "$@"
}

# or_scrape [PATH]: the body of GET http://127.0.0.1:EXP_PORT/PATH (default
# metrics) on stdout; false on an HTTP error or no answer in 10 s.
or_scrape() {
	curl -sf --max-time 10 "http://127.0.0.1:$EXP_PORT/${1:-metrics}"
}

# or_start_exp INI [NS]: starts optroute-exporter (log appended to
# $T/exp.log, pid in EXP_PID), in network namespace NS if given, and waits
# up to 5 s until it serves /metrics.
or_start_exp() {
	local i
	${2:+nsenter --net=/var/run/netns/$2} "$BIN/optroute-exporter" -c "$1" \
		>>"$T/exp.log" 2>&1 &
	EXP_PID=$!
	for i in $(seq 1 100); do
		grep -q "serving http://" "$T/exp.log" 2>/dev/null && return 0
		kill -0 "$EXP_PID" 2>/dev/null || break
		sleep 0.05
	done
	or_fail "optroute-exporter did not start"
}

# or_metric TEXTFILE SERIES: the value of one series (name with its labels,
# exactly as exported) in a scrape; empty if absent.
or_metric() {
	awk -v s="$2" '$1 == s { print $2; exit }' "$1"
}
