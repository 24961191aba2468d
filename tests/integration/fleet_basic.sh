#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two appliances of one fleet (store = postgresql, docs/fleet.md), each a
# control plane and a dataplane on two net_tap ports in a network
# namespace of its own (documentation addresses only, the same layout in
# both), protocol version 2: opt-ins, opt-outs and erasures made on either
# appliance, each answered once both dataplanes enforce it (--wait=fleet),
# are enforced by both, checked message by message through each:
#
#   namespace of a1: phone 192.0.2.10 -- port client 192.0.2.1 [a1's
#     dataplane] port delivery 203.0.113.1 -- delivery node 203.0.113.5
#   namespace of a2: the same addresses, a2's dataplane
#
# S gets its sender key from a1, R and O theirs from a2: the fleet shares
# the master key, so a key issued by one appliance is good at every
# other. Each MSG's outcome is seen by the phone and the delivery node of
# that namespace (delivered, a bounce whose tag the phone verified, or
# nothing), and at the end each dataplane's counters equal what was sent
# through it. An auth epoch rotated on a1 is issued (by a2) only once both
# dataplanes hold it, keys of both live epochs pass both, and the old
# epoch retired on a2 is dropped by both.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$OR_LIB/pg.sh"
# shellcheck source=lib/fleet.sh
. "$OR_LIB/fleet.sh"
# shellcheck source=lib/phone.sh
. "$OR_LIB/phone.sh"
OR_PIDVARS="RX_a1 RX_a2 CP_a1 CP_a2 DP_a1 DP_a2"
or_trap_exit pg_or_cleanup
or_need_bins optroutectl optroute-control optroute-dataplane optroute-client or_pgtool
OR_LOGS=("$T/a1.log" "$T/a2.log" "$T/a1-dp.log" "$T/a2-dp.log")
or_fail_extra() { pg_log_tail db; }

fleet_pg
FLEET_POLICY="fixed 1" # every recipient's delivery node is next hop 1

# at NAME: the namespace, taps and delivery node's events of appliance
# NAME for what follows (send_msg, outcome, or_tap_peers).
at() {
	NS=or_fleet_$1_$$
	CIF=orc$1$$
	DIF=ord$1$$
	RECV=$T/$1-recv.json
}
# dp_synced NAME: NAME's control plane connected to its dataplane, lag 0.
dp_synced() {
	ctl "$1" -j dataplane 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if r["connected"] and not r["syncing"] and r["lag"] == 0 else 1)'
}
for a in a1 a2; do
	at $a
	or_netns "$NS"
	fleet_ini $a >"$T/$a.ini"
	fleet_dp $a "DP_$a" "$NS"
	or_tap_peers 203.0.113
	fleet_start $a "CP_$a"
	phone_recv "$RECV" "RX_$a"
	for _ in $(seq 1 200); do
		dp_synced $a && break
		sleep 0.1
	done
	or_check "$a: control plane, dataplane (taps in $NS) and delivery node up" dp_synced $a
done

# fchange NAME ACTION NUMBER: the change on appliance NAME, answered once
# both dataplanes enforce it; prints the token.
fchange() {
	local j
	j=$(echo "$3" | ctl "$1" -j "$2" - --wait=fleet) || or_fail "$2 on $1: $j"
	or_json "$j" 'assert r["ok"] and r["applied"] is True, r
assert sorted(r["fleet"]["enforced"]) == ["a1", "a2"] and not r["fleet"]["lagging"], r
print(r["token"])' || or_fail "$2 on $1 not enforced by both: $j"
}
# both OUTCOME WHAT KEYFILE TO_TOKEN: the same MSG (a new msg_id each) sent
# through a1, then through a2; each must have OUTCOME. N[NAME:OUTCOME]
# counts what went through each (delivered, bounced, dropped).
declare -A N=([a1:delivered]=0 [a1:bounced]=0 [a1:dropped]=0
	[a2:delivered]=0 [a2:bounced]=0 [a2:dropped]=0)
both() {
	local want=$1 what=$2 k
	shift 2
	for a in a1 a2; do
		at $a
		expect "$want" "$what, through $a" "$@"
		k=$a:${want%%:*}
		N[$k]=$((${N[$k]} + 1))
	done
}

# ---- keys issued by either appliance are good at both ------------------------
S=$(PHONE_WAIT=--wait=fleet phone s +15550400001 -s "$T/a1.sock")
R=$(PHONE_WAIT=--wait=fleet phone r +15550400002 -s "$T/a2.sock")
O=$(PHONE_WAIT=--wait=fleet phone o +15550400004 -s "$T/a2.sock")
U=$(echo +15550400003 | ctl a1 -j status - | python3 -c '
import json, sys
print(json.load(sys.stdin)["token"])')
or_ok "S opted in with a key from a1, R and O with keys from a2, U never"
both delivered "S to R (key from a1, R opted in on a2)" "$T/s.key" "$R"
both delivered "R to S (key from a2, S opted in on a1)" "$T/r.key" "$S"
both bounced:recipient_unavailable "S to U (never registered)" "$T/s.key" "$U"

# ---- changes on either, enforced by both --------------------------------------
fchange a1 optout +15550400004 >/dev/null
both dropped "O, opted out on a1, to R" "$T/o.key" "$R"
both bounced:recipient_unavailable "S to O (opted out on a1)" "$T/s.key" "$O"
fchange a2 optin +15550400004 >/dev/null
both delivered "O, back in on a2 (its key unchanged), to R" "$T/o.key" "$R"

fchange a1 optout +15550400002 >/dev/null
both bounced:recipient_unavailable "S to R (opted out on a1)" "$T/s.key" "$R"
fchange a2 optin +15550400002 >/dev/null
both delivered "S to R (back in on a2)" "$T/s.key" "$R"

fchange a2 erase +15550400001 >/dev/null
both dropped "S, erased on a2, to R" "$T/s.key" "$R"
both bounced:recipient_unavailable "R to S (erased on a2)" "$T/r.key" "$S"

# ---- an auth epoch rotated on a1, retired on a2 ---------------------------------
# keys NAME: "current previous issuing enforced" as NAME's control plane
# sees them (enforced: its dataplane verifies with exactly that set).
keys() {
	ctl "$1" -j keys | python3 -c 'import json, sys
r = json.load(sys.stdin)
print(r["current"], r["previous"], r["issuing"], r["enforced"])'
}
# keys_at NAME WANT: until keys NAME says WANT (10 s).
keys_at() {
	for _ in $(seq 1 100); do
		[ "$(keys "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
j=$(ctl a1 -j rotate) || or_fail "rotate on a1: $j"
or_json "$j" 'assert r["current"] == 1 and r["previous"] == 0 and r["enforced"] is True, r' ||
	or_fail "rotate on a1: $j"
or_ok "epoch 1 started on a1, its dataplane holds it"
or_check "a2 follows: epoch 1 issued once both dataplanes hold it" keys_at a2 "1 0 1 True"
or_check "... and a1 issues it too" keys_at a1 "1 0 1 True"
P=$(PHONE_WAIT=--wait=fleet phone p +15550400005 -s "$T/a2.sock")
or_check "P's key from a2 is of epoch 1" test "$(cut -d' ' -f2 "$T/p.reply")" = 1
both delivered "P (epoch 1 key from a2) to R" "$T/p.key" "$R"
both delivered "R (epoch 0 key, still live) to P" "$T/r.key" "$P"
j=$(ctl a2 -j retire) || or_fail "retire on a2: $j"
or_json "$j" 'assert r["retired"] == 0 and r["current"] == 1 and r["previous"] is None, r' ||
	or_fail "retire on a2: $j"
or_check "epoch 0 retired on a2; a1 follows, its dataplane too" keys_at a1 "1 None 1 True"
or_check "... and a2's dataplane" keys_at a2 "1 None 1 True"
for a in a1 a2; do
	at $a
	expect dropped "R (epoch 0, retired on a2) to P, through $a" "$T/r.key" "$P"
done
both delivered "P (epoch 1) to R" "$T/p.key" "$R"

# ---- each dataplane counted what went through it -------------------------------
for a in a1 a2; do
	PREFIX=${PREFIX}_$a or_telemetry /optroute/stats >"$T/$a-stats.json" ||
		or_fail "telemetry of $a"
	want="${N[$a:delivered]} ${N[$a:bounced]} ${N[$a:dropped]}"
	python3 - "$T/$a-stats.json" "$want" <<'EOF' || or_fail "$a's counters"
import json, sys
s = json.load(open(sys.argv[1]))["/optroute/stats"]
want = tuple(int(v) for v in sys.argv[2].split())
got = (s["delivered"], s["bounced"], s["drop_sender_not_opted_in"],
       s["drop_unknown_epoch"])
assert got == want + (1,), "delivered, bounced, sender not opted in, unknown epoch: %s, want %s" % (got, want + (1,))
bad = {k: s[k] for k in ("drop_bad_tag", "drop_stale",
                         "drop_replay", "over_budget", "drop_no_route") if s[k]}
assert not bad, bad
EOF
	or_ok "$a: counters match what went through it (delivered, bounced, dropped: $want)"
done

for a in a1 a2; do
	or_stop "CP_$a" || or_fail "optroute-control $a exited $?"
	or_stop "DP_$a" || or_fail "optroute-dataplane $a exited $?"
done
if grep -rqa 1555040000 "$T"/a1* "$T"/a2*; then
	or_fail "a plain number in a store, a log or a capture"
fi
or_ok "no plain number in the appliances' files"
echo "fleet_basic: all ok"
