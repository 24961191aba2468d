#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Protocol version 2 end to end with the real daemons (docs/protocol.md
# sections 5 and 6): optroute-dataplane on two net_tap ports in a network
# namespace this test creates (documentation addresses only), with
# optroute-control pushing the live auth epochs. Phones S and R opt in with
# their X25519 public keys and open the sealed K_sender they get back
# (optroute-client keygen / open-key); every MSG is signed.
#
#   kernel "phone" 192.0.2.10 --- tap orc<pid> --- port client 192.0.2.1
#   kernel "node"  203.0.113.5 --- tap ord<pid> --- port delivery 203.0.113.1
#
# Each message's outcome is checked one by one (delivered: seen by the
# delivery node with its tokens and payload; bounced: a bounce whose tag
# the sender verified, with its reason; dropped: neither), and the drop
# counters against what was sent:
#   valid -> delivered; forged tag, another sender's key, a tag copied from
#   another sender's MSG, a header field changed after signing (flags,
#   reason, reserved bytes, msg_id, either token, send time), stale,
#   future, unknown epoch -> dropped, never bounced (bad_tag, and no other
#   counter moved); recipient never registered ->
#   bounced (signed); a MSG sent twice -> delivered once (replay); the
#   budget used up -> OVER_BUDGET for every MSG
#   whatever the recipient, normal service after a refill; a rotation while
#   a stream flows drops none of it; a retired epoch is refused.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_tap_ns
# shellcheck disable=SC2034 # (killed through OR_PIDVARS)
RECV_PID=
STREAM_PID=
OR_PIDVARS="STREAM_PID RECV_PID $OR_PIDVARS"
OR_LOGS+=("$T/recv.json")
or_fail_extra() {
	[ -n "$DP_PID" ] || return 0
	echo "--- dataplane counters"
	timeout 10 python3 "$TOOLS/optroute-telemetry.py" -p "$PREFIX" \
		/optroute/stats /optroute/auth 2>&1 || true
	cat "$T"/probe*.json "$T"/probe*.err 2>/dev/null | tail -n 20
}

# Budget: 3 bounces, one back every 30 s (120 an hour): the over-budget
# probes take a few seconds, then the test waits for one permit.
{
	or_ini_eal
	OR_AUTH=yes or_ini_dataplane 1000 "idle_sleep_us = 200" \
		"budget_burst = 3" "budget_refill_per_hour = 120"
	or_ini_tap_appliance 203.0.113
	or_ini_control "node_policy = fixed 1" "wait_timeout_ms = 5000" \
		"channel_retry_ms = 100"
} >"$T/or.ini"
or_key "$T/key"
# shellcheck source=lib/phone.sh
. "$OR_LIB/phone.sh"

or_start_dp "$T/or.ini" "$NS"
or_tap_peers 203.0.113
or_start_cp "$T/or.ini"
or_wait_synced 1
echo "ok: both daemons up, control plane synced"

phone_recv "$T/recv.json" RECV_PID

S=$(phone s +15550900001)
R=$(phone r +15550900002)
U=$(or_token +15550900003)
O=$(or_change optin +15550900004)
or_change optout +15550900004 >/dev/null
echo "ok: S and R opted in with keys, O opted out, U never registered"

# stats_save FILE; stats_delta FILE NAME=DELTA...: since FILE, each NAME
# moved by DELTA, and no other counter of a verdict moved (the other
# drops of a header, of the version-2 checks and of the decision,
# delivered, bounced, over_budget). Counters of traffic the kernel's ends
# of the taps send on their own (rx, not_ipv4, ARP) are left out.
OR_VERDICTS="drop_bad_magic drop_bad_version drop_bounce_to_us drop_bad_type
drop_bad_payload_len drop_bad_udp_csum drop_sender_not_opted_in drop_no_route
drop_unknown_epoch drop_bad_tag drop_stale drop_replay drop_replay_full
delivered bounced over_budget"
stats_save() {
	or_telemetry /optroute/stats >"$1" || or_fail "telemetry"
}
stats_delta() {
	local f=$1
	shift
	stats_save "$T/stats.now"
	python3 - "$f" "$T/stats.now" "$OR_VERDICTS" "$@" <<'EOF' || or_fail "counters"
import json, sys
a, b = (json.load(open(f))["/optroute/stats"] for f in sys.argv[1:3])
want = {k: int(v) for k, v in (x.split("=") for x in sys.argv[4:])}
bad = ["%s %+d (want %+d)" % (k, b[k] - a[k], want.get(k, 0))
       for k in sorted(set(sys.argv[3].split()) | set(want))
       if b[k] - a[k] != want.get(k, 0)]
if bad:
    sys.exit("counters moved: " + ", ".join(bad))
EOF
}
# ---- the tag and the time ---------------------------------------------------
expect delivered "valid MSG" "$T/s.key" "$R"
expect dropped "forged tag" "$T/s.key" "$R" --forge-tag
expect dropped "tag under another sender's key" "$T/s.key" "$R" \
	--key-from-other "$T/r.key"
expect dropped "stale send time (-60 s)" "$T/s.key" "$R" --time-offset-ms -60000
expect dropped "future send time (+60 s)" "$T/s.key" "$R" --time-offset-ms 60000
expect dropped "unknown epoch" "$T/s.key" "$R" --epoch 9
# S's valid MSG (the first probe) as R would copy it off the wire: the same
# msg_id, send time, recipient, payload length and tag on R's MSG. The tag
# covers the sender token, so it fails (bad_tag, before the replay filter
# that saw this tag accepted).
VALID=1001
expect dropped "S's tag on R's otherwise identical MSG" "$T/r.key" "$R" \
	--id $VALID --send-time "$(sent $VALID send_time)" --tag "$(sent $VALID auth_tag)"
expect delivered "the same MSG sent twice: delivered once" "$T/s.key" "$R" --repeat 2
[ "$(or_stat drop_replay)" = 1 ] || or_fail "drop_replay $(or_stat drop_replay), want 1"
[ "$(or_stat drop_bad_tag)" = 3 ] || or_fail "drop_bad_tag $(or_stat drop_bad_tag), want 3"
[ "$(or_stat drop_stale)" = 2 ] || or_fail "drop_stale $(or_stat drop_stale), want 2"
[ "$(or_stat drop_unknown_epoch)" = 1 ] || or_fail "drop_unknown_epoch $(or_stat drop_unknown_epoch), want 1"
[ "$(or_stat bounced)" = 0 ] || or_fail "a refused MSG was bounced"
echo "ok: refused MSGs counted (bad_tag 3, stale 2, unknown_epoch 1), none bounced"

# ---- the budget ----------------------------------------------------------------
# Three bounces use it up (to U, never registered, and O, opted out: the same
# reason); then every MSG of S, whatever the recipient, gets OVER_BUDGET.
expect bounced:recipient_unavailable "bounce 1 (never registered)" "$T/s.key" "$U"
BOUNCE1=$MID
expect bounced:recipient_unavailable "bounce 2 (opted out)" "$T/s.key" "$O"
expect bounced:recipient_unavailable "bounce 3" "$T/s.key" "$U"
expect bounced:over_budget "over budget, recipient never registered" "$T/s.key" "$U"
expect bounced:over_budget "over budget, recipient opted out" "$T/s.key" "$O"
expect bounced:over_budget "over budget, recipient opted in" "$T/s.key" "$R"
expect delivered "R is not over budget" "$T/r.key" "$S"
RVALID=$MID

# ---- while S waits for its refill: tags copied, fields changed -------------
# Each would be visible if it got through: S is over budget (a bounce),
# R's MSGs to S would be delivered, a changed msg_id or recipient token
# would reach the delivery node or come back as a bounce the sender
# refuses; a changed sender token would be a silent sender_not_opted_in,
# which the counters tell apart from bad_tag.
stats_save "$T/stats.flip"
spoil "R's tag on S's otherwise identical MSG" "$T/s.key" "$S" \
	--id $RVALID --send-time "$(sent $RVALID send_time)" --tag "$(sent $RVALID auth_tag)"
# OFFSET:MASK:FIELD: R's MSG to S with that byte changed after signing.
for f in 4:0x01:flags 6:0x01:reason 7:0x80:reserved 15:0x01:msg_id \
	16:0x01:sender 40:0xff:recipient 55:0x01:send_time+1ms 59:0x01:reserved2; do
	spoil "${f##*:} changed after signing" "$T/r.key" "$S" --flip-byte "${f%:*}"
done
all_dropped
stats_delta "$T/stats.flip" drop_bad_tag=9
echo "ok: copied tags and changed fields: bad_tag +9, no other verdict"
# S has one permit again 30 s after its first bounce (docs/budget.md: its
# three charges put full_at 90 s after that one, and over budget is more
# than two permits of debt), a second one 30 s later: wait for the first,
# with a second to spare (a send time is the phone's clock; the charge
# came a few ms later), however long the steps above took.
left=$(($(sent "$BOUNCE1" send_time) + 31000 - $(date +%s%3N)))
[ "$left" -le 0 ] || sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
expect delivered "S after a refill, to R" "$T/s.key" "$R"
expect bounced:recipient_unavailable "S after a refill, to U" "$T/s.key" "$U"
expect bounced:over_budget "S over budget again" "$T/s.key" "$R"
[ "$(or_stat over_budget)" = 4 ] || or_fail "over_budget $(or_stat over_budget), want 4"
echo "ok: budget: OVER_BUDGET whatever the recipient, service back after a refill"

# ---- rotation while a stream flows, then retirement -------------------------
in_ns timeout 30 "$CLIENT" send --to 192.0.2.1 --bind 192.0.2.10:40001 \
	--key "$T/r.key" --to-token "$S" --id 5000 --count 100 --interval-ms 20 \
	--payload stream --wait-ms 500 -j >"$T/stream.json" 2>&1 &
STREAM_PID=$!
sleep 0.5
j=$(timeout 20 "$CTL" -j rotate) || or_fail "rotate: $j"
or_json "$j" 'assert r["ok"], r' || or_fail "rotate: $j"
wait "$STREAM_PID" || or_fail "stream sender failed"
STREAM_PID=
python3 - "$T/recv.json" <<'EOF' || or_fail "stream across the rotation"
import json, sys
got = {int(m["msg_id"]) for m in (json.loads(l) for l in open(sys.argv[1]) if l.strip())
       if m.get("event") == "msg" and 5000 <= int(m["msg_id"]) < 5100}
if got != set(range(5000, 5100)):
    sys.exit("delivered %d of 100: missing %s" % (len(got), sorted(set(range(5000, 5100)) - got)[:10]))
EOF
echo "ok: rotation while a stream flowed: 100 of 100 delivered"

# R (whose budget is untouched: S may still be over budget here) gets the
# new epoch's K_sender for the same phone key pair.
OLD_EP=$(python3 -c 'import sys; print(open(sys.argv[1]).read().split()[1])' "$T/r.reply")
j=$(echo +15550900002 | timeout 20 "$CTL" -j rekey - --pubkey "$(cat "$T/r.pub")") ||
	or_fail "rekey: $j"
or_json "$j" 'print(r["token"], r["key_epoch"], r["sealed_key"])' >"$T/r2.reply" ||
	or_fail "rekey reply: $j"
read -r tok ep sealed <"$T/r2.reply"
[ "$ep" != "$OLD_EP" ] || or_fail "rekey after rotate still issued epoch $ep"
echo "$sealed" | "$CLIENT" open-key --secret "$T/r.secret" --epoch "$ep" \
	--token "$tok" --out "$T/r2.key" >/dev/null || or_fail "open-key (new epoch)"
expect delivered "new epoch's key" "$T/r2.key" "$S"
expect delivered "previous epoch's key, still live" "$T/r.key" "$S"
j=$(timeout 20 "$CTL" -j retire) || or_fail "retire: $j"
or_json "$j" 'assert r["ok"], r' || or_fail "retire: $j"
before=$(or_stat drop_unknown_epoch)
expect dropped "retired epoch's key" "$T/r.key" "$S"
[ "$(or_stat drop_unknown_epoch)" = $((before + 1)) ] ||
	or_fail "retired epoch not counted as unknown_epoch"
expect delivered "current epoch's key after retire" "$T/r2.key" "$S"

# ---- no K_sender bytes in what the daemons wrote -----------------------------
for f in "$T/dp.log" "$T/cp.log" "$T/store"/*; do
	for k in "$T/s.key" "$T/r.key" "$T/r2.key"; do
		python3 - "$f" "$k" <<'EOF' || or_fail "K_sender bytes in $f"
import base64, sys
data = open(sys.argv[1], "rb").read()
ks = [l.split()[1] for l in open(sys.argv[2]) if l.startswith("k_sender ")]
assert len(ks) == 1, "no k_sender line in the key file"
raw = bytes.fromhex(ks[0])
for form in (raw, ks[0].encode(), ks[0].upper().encode(), base64.b64encode(raw)):
    if form in data:
        sys.exit("found")
EOF
	done
done
echo "ok: no K_sender of S or R in the logs or the store"
echo "e2e_auth: ok"
