#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# optroute-exporter, the program of its own that serves /metrics
# (docs/exporter.md), with the real daemons: optroute-dataplane (net_ring,
# --no-huge) and optroute-control, all on this host, /metrics on a free
# loopback port.
#   1. configuration: [exporter] keys checked with the daemons' error
#      format, loopback only unless allow_remote, the management socket
#      read from [control] mgmt_socket; the control plane and the dataplane
#      accept the same file;
#   2. optroute-control does not link libmicrohttpd (readelf, ldd), the
#      exporter does;
#   3. real figures move: after an opt-in, requests_total, the opt-in
#      changes, the store and the consent table grow on /metrics;
#   4. the control plane stopped: the exporter answers with
#      optroute_control_up 0 and none of its figures, fetch failures
#      counted; restarted: figures back (the store's kept, counters reset);
#   5. HTTP: 404, 405; a second exporter on the same port exits 1 with the
#      reason; SIGTERM: exit 0, "stopped".
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/exporter.sh
. "$(dirname "$0")/lib/exporter.sh"
or_trap_exit or_cleanup
or_need_bins optroute-dataplane optroute-control optroute-exporter optroutectl
EXP=$BIN/optroute-exporter

or_key "$T/key"
{
	or_ini_eal --no-telemetry
	or_ini_dataplane 4096 "idle_sleep_us = 1000"
	or_ini_port p net_ring0 192.0.2.1 02:00:00:00:01:01 "workers = 1"
	or_ini_control "channel_retry_ms = 100"
	or_ini_exporter
} >"$T/or.ini"

# ---- 1. configuration ---------------------------------------------------------
check_cfg() { # check_cfg EXPECTED_RC TEXT_IN_OUTPUT [LINE...]: [exporter] + LINEs
	local want=$1 text=$2 rc=0
	shift 2
	{ or_ini_control; printf '[exporter]\n'; printf '%s\n' "$@"; } >"$T/m.ini"
	timeout 10 "$EXP" -c "$T/m.ini" --check >"$T/m.out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] && grep -q -- "$text" "$T/m.out" ||
		or_fail "config [$*]: exit $rc, want $want with '$text': $(cat "$T/m.out")"
}
check_cfg 0 "configuration OK"
check_cfg 2 "m.ini:6: \[exporter\] listen: 0.0.0.0:9140 is not a loopback address" \
	"listen = 0.0.0.0:9140"
check_cfg 2 "is not a loopback address" "listen = [2001:db8::1]:9140"
check_cfg 0 "configuration OK" "listen = 0.0.0.0:9140" "allow_remote = yes"
check_cfg 0 "configuration OK" "listen = [::1]:9141" "max_age_ms = 60000"
check_cfg 2 "listen: invalid value 'localhost:9140'" "listen = localhost:9140"
check_cfg 2 "listen: invalid value" "listen = 127.0.0.1:0"
check_cfg 2 "max_age_ms: invalid value" "max_age_ms = 60001"
check_cfg 2 "\[exporter\] metrics: unknown key" "metrics = 9140"
check_cfg 2 "listen: duplicate key" "listen = 9140" "listen = 9141"
{ or_ini_control; printf '[exporter-x]\n'; } >"$T/m.ini"
"$EXP" -c "$T/m.ini" --check >"$T/m.out" 2>&1 && or_fail "[exporter-x] accepted"
grep -q '\[exporter-x\]: unknown section (expected \[exporter\])' "$T/m.out" ||
	or_fail "a misspelt [exporter] section: $(cat "$T/m.out")"
rc=0; "$EXP" -c "$T/none.ini" >"$T/m.out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "none.ini: cannot open" "$T/m.out" || or_fail "missing file: exit $rc $(cat "$T/m.out")"
rc=0; "$EXP" >"$T/m.out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "^usage: optroute-exporter -c FILE" "$T/m.out" || or_fail "no -c: exit $rc"
"$BIN/optroute-control" -c "$T/or.ini" --check >/dev/null || or_fail "control refuses the file"
"$BIN/optroute-dataplane" -c "$T/or.ini" --check >/dev/null || or_fail "dataplane refuses the file"
echo "ok: configuration ([exporter] checked, loopback only unless allowed, one file for all three)"

# ---- 2. only the exporter links libmicrohttpd -------------------------------
readelf -d "$BIN/optroute-control" >"$T/cp.dyn" || or_fail "readelf optroute-control"
! grep -qi microhttpd "$T/cp.dyn" || or_fail "optroute-control needs libmicrohttpd: $(grep -i microhttpd "$T/cp.dyn")"
! ldd "$BIN/optroute-control" | grep -qi microhttpd || or_fail "optroute-control loads libmicrohttpd (ldd)"
readelf -d "$EXP" | grep -q 'NEEDED.*libmicrohttpd' || or_fail "optroute-exporter without libmicrohttpd?"
echo "ok: optroute-control does not link libmicrohttpd (readelf -d, ldd); optroute-exporter does"

# ---- 3. figures move ----------------------------------------------------------
or_start_dp "$T/or.ini"
or_start_cp "$T/or.ini"
or_wait_synced 1
or_start_exp "$T/or.ini"
grep -q "serving http://127.0.0.1:$EXP_PORT/metrics from $T/cp.sock" "$T/exp.log" ||
	or_fail "the exporter does not say what it serves from where"
or_scrape >"$T/m1.txt" || or_fail "no /metrics"
for s in "optroute_control_up 1" "optroute_dataplane_up 1" "optroute_channel_connected 1" \
	"optroute_store_entries 0" "optroute_table_entries 0" \
	'optroute_control_changes_total{action="optin"} 0'; do
	grep -qx "$s" "$T/m1.txt" || or_fail "first scrape: no '$s'"
done
R1=$(or_metric "$T/m1.txt" optroute_control_requests_total)
[ -n "$R1" ] || or_fail "no optroute_control_requests_total"
TOK=$(or_change optin +15550900001)
or_scrape >"$T/m2.txt" || or_fail "no /metrics after the opt-in"
R2=$(or_metric "$T/m2.txt" optroute_control_requests_total)
[ "$R2" -gt "$R1" ] || or_fail "requests_total did not grow: $R1 -> $R2"
for s in 'optroute_control_changes_total{action="optin"} 1' "optroute_store_entries 1" \
	"optroute_store_opted_in_entries 1" "optroute_table_entries 1" \
	"optroute_channel_acked_seq 1" "optroute_metrics_fetch_failures_total 0"; do
	grep -qx "$s" "$T/m2.txt" || or_fail "after the opt-in: no '$s'"
done
! grep -qi -e 1555090 -e "$TOK" "$T/m2.txt" || or_fail "a number or a token on /metrics"
echo "ok: figures move: requests_total $R1 -> $R2, optin changes 1, store and table 1 entry"

# ---- 4. the control plane restarts under the exporter -------------------------
or_stop CP_PID || or_fail "optroute-control exited $?"
or_scrape >"$T/m3.txt" || or_fail "no answer while the control plane is down"
grep -qx "optroute_control_up 0" "$T/m3.txt" || or_fail "control down: optroute_control_up not 0"
grep -qx "optroute_dataplane_up 0" "$T/m3.txt" || or_fail "control down: optroute_dataplane_up not 0"
! grep -q -e '^optroute_control_requests_total' -e '^optroute_store_' -e '^optroute_table_' \
	-e '^optroute_metrics_age_seconds' "$T/m3.txt" || or_fail "control down: old figures still shown"
F3=$(or_metric "$T/m3.txt" optroute_metrics_fetch_failures_total)
[ "$F3" -ge 1 ] || or_fail "fetch failure not counted: $F3"
or_scrape >"$T/m4.txt" || or_fail "no second answer while the control plane is down"
F4=$(or_metric "$T/m4.txt" optroute_metrics_fetch_failures_total)
[ "$F4" -gt "$F3" ] || or_fail "each scrape retries: failures $F3 -> $F4"
kill -0 "$EXP_PID" || or_fail "the exporter died with the control plane"
echo "ok: control plane down: the exporter answers, optroute_control_up 0, no figures, failures $F4"
or_start_cp "$T/or.ini"
or_wait_synced 1
or_scrape >"$T/m5.txt" || or_fail "no /metrics after the restart"
for s in "optroute_control_up 1" "optroute_dataplane_up 1" "optroute_store_entries 1" \
	"optroute_table_entries 1" 'optroute_control_changes_total{action="optin"} 0'; do
	grep -qx "$s" "$T/m5.txt" || or_fail "after the restart: no '$s'"
done
grep -q "stats requests answered again" "$T/exp.log" || or_fail "the recovery is not logged"
echo "ok: control plane restarted: figures back (store kept, counters from 0)"

# ---- 5. HTTP, a taken port, clean stop ----------------------------------------
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X "$1" "http://127.0.0.1:$EXP_PORT$2"; }
[ "$(code GET /)" = 404 ] && [ "$(code GET /metricsx)" = 404 ] || or_fail "other paths not 404"
[ "$(code POST /metrics)" = 405 ] || or_fail "POST not 405"
[ "$(code HEAD /metrics)" = 200 ] || or_fail "HEAD not 200"
curl -sf -D "$T/h.txt" -o /dev/null "http://127.0.0.1:$EXP_PORT/metrics" || or_fail "headers"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/h.txt" || or_fail "content type: $(cat "$T/h.txt")"
rc=0; timeout 10 "$EXP" -c "$T/or.ini" >"$T/exp2.log" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "cannot listen on 127.0.0.1:$EXP_PORT: Address already in use" "$T/exp2.log" ||
	or_fail "second exporter on the same port: exit $rc: $(cat "$T/exp2.log")"
echo "ok: HTTP 404/405/HEAD, content type; a taken port: exit 1 with the reason"
or_stop EXP_PID || or_fail "optroute-exporter exited $? on SIGTERM"
grep -q "optroute-exporter notice: stopped" "$T/exp.log" || or_fail "the exporter did not log its stop"
or_stop CP_PID || or_fail "optroute-control exited $?"
or_stop DP_PID || or_fail "optroute-dataplane exited $?"
echo "exporter: ok"
