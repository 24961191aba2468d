# SPDX-License-Identifier: BSD-3-Clause
#
# Sourced by the tests that send protocol-version-2 MSGs from a phone
# (optroute-client) through a dataplane on net_tap ports in namespace NS
# (the layout of or_ini_tap_appliance: the phone 192.0.2.10, port client
# 192.0.2.1, delivery node 1 203.0.113.5:7041), after common.sh. CLIENT
# and CTL name the binaries.
#
#   phone_recv FILE VAR         the delivery node, its events in FILE
#   phone NAME NUMBER [OPT...]  opt-in with a key pair; $T/NAME.key
#   expect OUTCOME WHAT KEYFILE TO_TOKEN [CLIENT OPTION...]
#   spoil WHAT KEYFILE TO_TOKEN [OPTION...], all_dropped
#   sent MID FIELD              what MSG MID carried on the wire
# Every MSG gets the next msg_id (MID); outcome reads RECV.

CLIENT=${CLIENT:-$BIN/optroute-client}
CTL=${CTL:-$BIN/optroutectl}

# phone_recv FILE VAR: delivery node 1 (203.0.113.5:7041, in NS) for the
# whole run, bounded by its own timeout: its events in FILE, its pid in VAR.
phone_recv() {
	nsenter --net="/var/run/netns/$NS" "$CLIENT" recv --listen 203.0.113.5:7041 \
		--v2 --timeout-ms 600000 -j >"$1" 2>"$1.err" &
	printf -v "$2" '%s' "$!"
	for _ in $(seq 1 50); do
		grep -q '"listening"' "$1" 2>/dev/null && break
		sleep 0.1
	done
	grep -q '"listening"' "$1" || or_fail "receiver not listening"
}

# phone NAME NUMBER [CTL OPTION...]: a key pair, the opt-in with its public
# key (PHONE_WAIT, default --wait), the sealed K_sender opened into
# $T/NAME.key; prints the token.
phone() {
	local name=$1 number=$2 pk j
	shift 2
	pk=$("$CLIENT" keygen --secret "$T/$name.secret") || or_fail "keygen $name"
	echo "$pk" >"$T/$name.pub"
	j=$(echo "$number" | timeout 20 "$CTL" "$@" -j optin - \
		"${PHONE_WAIT:---wait}" --pubkey "$pk") ||
		or_fail "optin $name: $j"
	or_json "$j" 'assert r["applied"] is True, r
print(r["token"], r["key_epoch"], r["sealed_key"])' >"$T/$name.reply" ||
		or_fail "optin $name reply: $j"
	read -r tok ep sealed <"$T/$name.reply"
	echo "$sealed" | "$CLIENT" open-key --secret "$T/$name.secret" --epoch "$ep" \
		--token "$tok" --out "$T/$name.key" >/dev/null || or_fail "open-key $name"
	echo "$tok"
}
# Each probe is one MSG from the phone, msg_id MID (the next one each).
MID=1000
# send_msg KEYFILE TO_TOKEN [CLIENT OPTION...]: MSG $MID (payload "m$MID")
# from the phone; the sender's events in $T/probe$MID.json.
send_msg() {
	local key=$1 to=$2 out=$T/probe$MID.json
	shift 2
	in_ns timeout 20 "$CLIENT" send --to 192.0.2.1 --bind 192.0.2.10:40000 \
		--key "$key" --to-token "$to" --id "$MID" --payload "m$MID" \
		--wait-ms 300 -j "$@" >"$out" 2>"$out.err" || true
}
# outcome MID POLLS: what became of MSG MID: delivered, bounced:REASON or
# dropped (after POLLS more looks, 50 ms apart, for a delivery at the
# receiver whose events are in RECV, default $T/recv.json).
outcome() {
	python3 - "$T/probe$1.json" "${RECV:-$T/recv.json}" "$1" "$2" <<'EOF'
import json, sys, time
send_f, recv_f, mid, polls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ev = [json.loads(l) for l in open(send_f) if l.strip()]
for e in ev:
    if e["event"] == "error":
        sys.exit("sender saw an invalid or forged reply: %s" % e)
# This run sent one MSG: any bounce is its own (a test option may have
# changed its msg_id), and a delivery is found by its payload too.
b = [e for e in ev if e["event"] == "bounce"]
for i in range(polls + 1):
    d = [m for m in (json.loads(l) for l in open(recv_f) if l.strip())
         if m.get("event") == "msg" and
         (m["msg_id"] == mid or m.get("payload") == "m" + mid)]
    if d or b or i == polls:
        break
    time.sleep(0.05)
if d and b:
    sys.exit("message %s delivered and bounced" % mid)
if len(d) > 1 or len(b) > 1:
    sys.exit("message %s more than once" % mid)
if d:
    if d[0].get("payload") != "m" + mid or d[0]["msg_id"] != mid:
        sys.exit("message %s: payload %r" % (mid, d[0].get("payload")))
    print("delivered")
elif b:
    print("bounced:" + b[0]["reason"])
else:
    print("dropped")
EOF
}
expect() { # expect OUTCOME WHAT KEYFILE TO_TOKEN [CLIENT OPTION...]
	local want=$1 what=$2 got
	shift 2
	MID=$((MID + 1))
	send_msg "$@"
	got=$(outcome "$MID" 20) || or_fail "$what: $got"
	[ "$got" = "$want" ] || or_fail "$what: $got, want $want"
	echo "ok: $what: $got"
}
# spoil WHAT KEYFILE TO_TOKEN [CLIENT OPTION...]: a MSG that must be
# dropped, sent now and checked by all_dropped with the others: one wait
# for all of them instead of one each.
SPOILED=()
spoil() {
	local what=$1
	shift
	MID=$((MID + 1))
	send_msg "$@"
	SPOILED+=("$MID:$what")
}
all_dropped() {
	local s got polls=20
	for s in "${SPOILED[@]}"; do
		got=$(outcome "${s%%:*}" $polls) || or_fail "${s#*:}: $got"
		[ "$got" = dropped ] || or_fail "${s#*:}: $got, want dropped"
		echo "ok: ${s#*:}: $got"
		polls=0 # (the first waited for all)
	done
	SPOILED=()
}
# sent MID FIELD: a field of the "sent" event of probe MID (send_time,
# auth_tag: the tag as it went on the wire).
sent() {
	python3 - "$T/probe$1.json" "$2" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print([e for e in ev if e["event"] == "sent"][0][sys.argv[2]])
EOF
}
