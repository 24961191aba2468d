#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The `make run` demo: protocol version 2 end to end, on the appliance that
# deploy/dev/run.sh brought up (it runs this once ready; run it again from
# a second terminal, as root, any time). Each step prints its command, then
# what came back:
#   1. phones A and B (fictional numbers) make X25519 key pairs, opt in with
#      their public keys and open the K_sender sealed to them;
#   2. A sends B a signed MSG: delivery node 1 receives it;
#   3. B opts out; A's next MSG comes back as a BOUNCE, signed under A's key
#      (optroute-client checks that tag);
#   4. what the operator sees: the dataplane's counters.
# The numbers go on stdin and are never printed. B stays opted out; the
# key files stay in $OPTROUTE_DEV_DIR/phones for trying more by hand.
#
# Environment: BUILD, OPTROUTE_DEV_DIR, OPTROUTE_DEV_NAME as for run.sh.
# Exit status: 0 if every step did what it shows, else 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=deploy/dev/env.sh
. deploy/dev/env.sh
PH=$DIR/phones
CTL() { "$BIN/optroutectl" -s "$DIR/control.sock" "$@"; }
CLIENT() { "$BIN/optroute-client" "$@"; }
NUM_A=+15550100001
NUM_B=+15550100002
RECV_PID=

say() { echo "[demo] $*"; }
# show COMMAND_TEXT: prints the command as the reader would type it.
show() { echo "[demo] \$ $*"; }
# out FILE: a step's output, indented.
out() { sed 's/^/[demo]     /' "$1"; }
# fail WHAT: says what failed, with the dataplane's counters that are not
# zero (a drop reason names the cause), and exits 1.
fail() {
	echo "[demo] FAILED: $*" >&2
	"$BIN/optroutectl" -s "$DIR/control.sock" -j stats 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin).get("dataplane") or {}
print("[demo] dataplane counters:", ", ".join(
    "%s %s" % (k, v) for k, v in d.items()
    if isinstance(v, int) and v and "." not in k and k != "tsc_hz") or "none")' >&2 || true
	exit 1
}
trap '[ -z "$RECV_PID" ] || kill "$RECV_PID" 2>/dev/null || true' EXIT

[ -S "$DIR/control.sock" ] || fail "no appliance: start it with make run"
mkdir -p "$PH"
chmod 700 "$PH"

# phone X NUMBER: key pair, opt-in with the public key, the sealed K_sender
# opened into $PH/X.key; the token in TOKEN.
phone() {
	local x=$1 pk j tok ep sealed
	rm -f "$PH/$x.secret" "$PH/$x.key"
	show "optroute-client keygen --secret $PH/$x.secret"
	pk=$(CLIENT keygen --secret "$PH/$x.secret") || fail "keygen $x"
	show "echo \$NUM_${x^^} | optroutectl optin - --wait --pubkey $pk"
	j=$(echo "$2" | timeout 20 "$BIN/optroutectl" -s "$DIR/control.sock" \
		-j optin - --wait --pubkey "$pk") || fail "optin $x: $j"
	read -r tok ep sealed < <(python3 -c 'import json, sys
r = json.loads(sys.argv[1])
if r.get("applied") is not True:
    sys.exit("not applied by the dataplane")
print(r["token"], r["key_epoch"], r["sealed_key"])' "$j") || fail "optin $x: $j"
	say "    token $tok, key_epoch $ep, sealed_key (${#sealed} base64 characters:" \
		"only $x's secret key opens it); applied by the dataplane"
	show "echo \$SEALED_KEY | optroute-client open-key --secret $PH/$x.secret" \
		"--epoch $ep --token $tok --out $PH/$x.key"
	echo "$sealed" | CLIENT open-key --secret "$PH/$x.secret" --epoch "$ep" \
		--token "$tok" --out "$PH/$x.key" >/dev/null || fail "open-key $x"
	TOKEN=$tok
}

say "1. Phones A and B get key pairs, opt in with their public keys and"
say "   open the sender keys sealed to them"
phone a "$NUM_A"
A=$TOKEN
phone b "$NUM_B"
B=$TOKEN

say "2. A sends B a signed message; delivery node 1 receives it"
show "ip netns exec $NS_D optroute-client recv --listen 198.51.100.5:7041 --count 1 &"
ip netns exec "$NS_D" timeout 30 "$BIN/optroute-client" recv \
	--listen 198.51.100.5:7041 --count 1 --timeout-ms 15000 >"$PH/recv.out" 2>&1 &
RECV_PID=$!
for _ in $(seq 1 50); do
	grep -q '^listening' "$PH/recv.out" && break
	sleep 0.1
done
show "ip netns exec $NS_C optroute-client send --to 192.0.2.1 --key $PH/a.key" \
	"--to-token $B --payload hello"
ip netns exec "$NS_C" timeout 20 "$BIN/optroute-client" send --to 192.0.2.1 \
	--key "$PH/a.key" --to-token "$B" --payload hello --expect none \
	>"$PH/send.out" 2>&1 || { out "$PH/send.out"; fail "send A -> B"; }
out "$PH/send.out"
rc=0
wait "$RECV_PID" || rc=$?
RECV_PID=
say "    delivery node 1:"
grep -v '^listening' "$PH/recv.out" | sed 's/^/[demo]     /'
[ "$rc" = 0 ] && grep -q "^msg .*sender=$A recipient=$B .*payload=\"hello\"" "$PH/recv.out" ||
	fail "delivery node 1 did not receive A's message"

say "3. B opts out; A's next message bounces, signed under A's key (A's"
say "   phone then falls back to carrier SMS)"
show "echo \$NUM_B | optroutectl optout - --wait"
echo "$NUM_B" | timeout 20 "$BIN/optroutectl" -s "$DIR/control.sock" optout - --wait \
	>"$PH/optout.out" 2>&1 || { out "$PH/optout.out"; fail "optout B"; }
grep -q 'applied by the dataplane' "$PH/optout.out" || { out "$PH/optout.out"; fail "optout B not applied"; }
say "    applied by the dataplane"
show "ip netns exec $NS_C optroute-client send --to 192.0.2.1 --key $PH/a.key" \
	"--to-token $B --payload hello --expect bounce"
ip netns exec "$NS_C" timeout 20 "$BIN/optroute-client" send --to 192.0.2.1 \
	--key "$PH/a.key" --to-token "$B" --payload hello --expect bounce \
	>"$PH/send.out" 2>&1 || { out "$PH/send.out"; fail "no verified bounce"; }
out "$PH/send.out"
grep -q '^bounce .*reason=recipient_unavailable' "$PH/send.out" || fail "bounce reason"

say "4. What the operator sees: the dataplane's counters"
show "optroutectl stats"
CTL -j stats >"$PH/stats.json" || fail "optroutectl stats"
python3 - "$PH/stats.json" <<'EOF' || fail "counters"
import json, sys
d = json.load(open(sys.argv[1]))["dataplane"]
print("[demo]     dataplane: rx %d, delivered %d, bounced %d, dropped %d "
      "(bad tag %d, stale %d, replay %d, over budget %d)" % (
          d["rx"], d["delivered"], d["bounced"], d["dropped"],
          d["drop_bad_tag"], d["drop_stale"],
          d["drop_replay"], d["over_budget"]))
EOF
say "ok: keys end to end: a signed message delivered, a signed bounce verified"
