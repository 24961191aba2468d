#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A restarted control plane resumes the running dataplane from its mark
# (docs/channel.md "Resuming") instead of a full resync, on net_tap ports in
# a network namespace this test creates (documentation addresses only):
#   1. both daemons up; phones S and R opt in with keys, X opts in; S -> R
#      and S -> X delivered.
#   2. the control plane stopped; the same store changed by a control plane
#      cut off from the dataplane (another channel socket): R opts out, X
#      is erased, U opts in. The dataplane still enforces the old state.
#   3. the control plane restarted: the dataplane is resumed with those 3
#      changes (no full resync on either side), and S -> R, S -> X bounce,
#      S -> U is delivered.
#   4. a control plane on another store (another chain): the mark is not
#      its, so a full resync, and S (unknown to that store) is dropped.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_tap_ns
# shellcheck disable=SC2034 # (killed through OR_PIDVARS)
RECV_PID=
OR_PIDVARS="RECV_PID $OR_PIDVARS"
OR_LOGS+=("$T/recv.json")

ini() { # ini [CONTROL LINE...]
	or_ini_eal
	OR_AUTH=yes or_ini_dataplane 1000 "idle_sleep_us = 200"
	or_ini_tap_appliance 203.0.113
	or_ini_control "node_policy = fixed 1" "wait_timeout_ms = 5000" \
		"channel_retry_ms = 100" "$@"
}
ini >"$T/or.ini"
ini "channel_socket = $T/nowhere.sock" >"$T/away.ini"
sed "s|^store_path = .*|store_path = $T/other|" "$T/or.ini" >"$T/other.ini"
or_key "$T/key"
# shellcheck source=lib/phone.sh
. "$OR_LIB/phone.sh"

# chan_stat FIELD: the dataplane updater's counter (telemetry).
chan_stat() {
	or_telemetry /optroute/channel | python3 -c '
import json, sys
print(json.load(sys.stdin)["/optroute/channel"][sys.argv[1]])' "$1"
}
# link_check PY: `optroutectl -j dataplane` satisfies PY on r.
link_check() {
	or_json "$("$CTL" -j dataplane)" "$1" || or_fail "channel: $1"
}

# ---- 1. -----------------------------------------------------------------------
or_start_dp "$T/or.ini" "$NS"
or_tap_peers 203.0.113
or_start_cp "$T/or.ini"
or_wait_synced 1
phone_recv "$T/recv.json" RECV_PID
S=$(phone s +15550930001)
R=$(phone r +15550930002)
X=$(or_change optin +15550930003)
U=$(or_token +15550930004)
expect delivered "S -> R" "$T/s.key" "$R"
expect delivered "S -> X" "$T/s.key" "$X"
expect bounced:recipient_unavailable "S -> U (never registered)" "$T/s.key" "$U"
[ "$(chan_stat mark_seq)" -gt 0 ] || or_fail "the dataplane's table has no mark"
or_ok "the dataplane's table is marked at store seq $(chan_stat mark_seq)"

# ---- 2. -----------------------------------------------------------------------
or_stop CP_PID || or_fail "optroute-control exited $?"
or_start_cp "$T/away.ini"
for c in "optout +15550930002" "erase +15550930003" "optin +15550930004"; do
	j=$(echo "${c#* }" | timeout 20 "$CTL" -j "${c%% *}" -) || or_fail "$c: $j"
	or_json "$j" 'assert r["ok"], r' || or_fail "$c: $j"
done
or_stop CP_PID || or_fail "optroute-control exited $?"
expect delivered "S -> R, while no control plane runs: the old state" \
	"$T/s.key" "$R"

# ---- 3. -----------------------------------------------------------------------
or_start_cp "$T/or.ini"
or_wait_synced 1
link_check 'assert r["resumes"] == 1 and r["resyncs"] == 0, r
assert r["resume_entries"] == 3 and r["marks"] >= 1, r'
[ "$(chan_stat resyncs)" = 1 ] || or_fail "the dataplane resynced: $(chan_stat resyncs)"
or_check "resumed, logged" grep -q "dataplane resumed from its mark at store seq .*: 3 changes since" "$T/cp.log"
expect bounced:recipient_unavailable "S -> R after the resume (R opted out)" "$T/s.key" "$R"
expect bounced:recipient_unavailable "S -> X after the resume (X erased)" "$T/s.key" "$X"
expect delivered "S -> U after the resume (U opted in)" "$T/s.key" "$U"

# ---- 4. -----------------------------------------------------------------------
or_stop CP_PID || or_fail "optroute-control exited $?"
or_start_cp "$T/other.ini"
or_wait_synced 1
link_check 'assert r["resumes"] == 0 and r["resyncs"] == 1, r'
[ "$(chan_stat resyncs)" = 2 ] || or_fail "no full resync: $(chan_stat resyncs)"
or_check "another chain: not resumed, logged" \
	grep -q "cannot resume from its mark at store seq .*no entry .* with that hash" "$T/cp.log"
expect dropped "S -> U: S unknown to the other store" "$T/s.key" "$U"

or_stop CP_PID || or_fail "optroute-control exited $?"
echo "cp_resume: ok"
