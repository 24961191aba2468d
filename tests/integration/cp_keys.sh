#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Sender keys in optroute-control (protocol version 2): optroutectl keys,
# rotate, retire, optin --pubkey and rekey against a real daemon, with a
# scripted fake dataplane on the update channel that acks the AUTH_KEYS
# set (checking its keys against the master key) or refuses it the way a
# dataplane without sender authentication does (ERROR EOPNOTSUPP). Checks:
# the issuing epoch follows the dataplane's acks, a sealed key opens with
# the phone's secret key to K_sender, rotate is refused while the previous
# epoch is live, the state survives a restart, the audit trail records the
# key events and still verifies, and no K_auth or K_sender byte (raw, hex
# or base64) is in the daemon's log or store files. Then, if it is built,
# the real dataplane: the connection stays up whatever it answers.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
OR_PIDVARS="CP_PID FAKE_PID DP_PID"
FAKE_PID=
or_trap_exit or_cleanup
or_need_bins optroutectl optroute-control or_authkeys
CTL=$BIN/optroutectl
AK=$BIN/or_authkeys
OR_LOGS=("$T/cp.log" "$T/fake.log" "$T/dp.log")

N1=+15550110001
N2=+15550110002
N3=+15550110003

or_key "$T/key"
{
	or_ini_control "wait_timeout_ms = 1500" "channel_retry_ms = 100" \
		"channel_socket = $T/dp.sock"
} >"$T/cp.ini"

# ---- the fake dataplane -----------------------------------------------------
# One connection at a time: HELLO, then ACK (cumulative, after each read
# burst) for every seq-bearing message. AUTH_KEYS: mode "ack" checks the
# keys against K_auth computed here from the master key (libsodium's
# crypto_kdf is BLAKE2b with salt = LE64(epoch), person = context) and
# acks it; mode "refuse" answers ERROR EOPNOTSUPP without a seq and takes
# none, like a dataplane that does not know the message. Logs one line per
# message (epochs and whether the keys matched, never a key byte).
cat >"$T/fakedp.py" <<'EOF'
import hashlib, os, select, socket, struct, sys
path, mode, keyfile, log = sys.argv[1:5]
master = bytes.fromhex(open(keyfile).read().strip())
def k_auth(e):
    return hashlib.blake2b(b"", digest_size=16, key=master,
                           salt=struct.pack("<Q", e), person=b"optrauth").digest()
out = open(log, "a", buffering=1)
try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind(path)
srv.listen(1)
acked = 0
while True:
    c, _ = srv.accept()
    c.recv(65536)  # HELLO
    # version 2, no mark: every connection gets a full resync
    c.send(struct.pack("<HHIIIIIQQQQ32s", 1, 0, 88, 2, 2, 1, 2048, 0, acked,
                       0, 0, bytes(32)))
    out.write("hello\n")
    while True:
        msgs = []
        try:
            m = c.recv(65536)
            if not m:
                break
            msgs.append(m)
            while select.select([c], [], [], 0)[0]:
                m = c.recv(65536)
                if not m:
                    break
                msgs.append(m)
        except OSError:
            break
        take = acked
        for m in msgs:
            typ, _, ln = struct.unpack_from("<HHI", m)
            if typ == 7:  # STATS_REQUEST: no counters
                rid, = struct.unpack_from("<Q", m, 8)
                c.send(struct.pack("<HHIQII", 8, 0, 24, rid, 0, 1))
                continue
            if typ == 11:  # MARK: no seq, not acked
                out.write("mark\n")
                continue
            seq, = struct.unpack_from("<Q", m, 8)
            if typ == 10:
                if mode == "refuse":
                    text = b"unknown message type 10".ljust(96, b"\0")
                    c.send(struct.pack("<HHIIIQ", 9, 0, 120, 95, 0xffffffff, 0) + text)
                    out.write("keys refused\n")
                    continue
                ver, cnt = struct.unpack_from("<II", m, 16)
                eps, ok = [], ln == 72 and ver == 1
                for i in range(cnt):
                    e = m[24 + 24 * i]
                    eps.append(str(e))
                    ok = ok and m[24 + 24 * i + 8:24 + 24 * i + 24] == k_auth(e)
                out.write("keys epochs=%s match=%s\n" % (",".join(eps), "yes" if ok else "NO"))
            else:
                out.write({2: "batch", 3: "resync_begin", 4: "resync_data",
                           5: "resync_end"}.get(typ, "type%d" % typ) + "\n")
            take = max(take, seq)
        if take > acked:
            acked = take
            c.send(struct.pack("<HHIQQQ", 6, 0, 32, acked, 0, 0))
    c.close()
    out.write("closed\n")
EOF

# fake_start MODE: the fake dataplane on $T/dp.sock (log $T/fake.log).
fake_start() {
	python3 "$T/fakedp.py" "$T/dp.sock" "$1" "$T/key" "$T/fake.log" &
	FAKE_PID=$!
	or_wait_sock "$T/dp.sock" "$FAKE_PID" 10 || or_fail "the fake dataplane did not start"
}
fake_stop() {
	or_kill "$FAKE_PID"
	FAKE_PID=
	rm -f "$T/dp.sock"
}

# keys_wait PY: until `optroutectl -j keys` satisfies the Python condition
# PY on r (10 s), else or_fail.
keys_wait() {
	local i j
	for i in $(seq 1 100); do
		j=$("$CTL" -j keys 2>/dev/null) && or_json "$j" "assert $1" 2>/dev/null &&
			return 0
		sleep 0.1
	done
	or_fail "keys never satisfied '$1': $j"
}

# key_check REPLY SK: the JSON reply's sealed_key opens with the phone's
# secret key SK to K_sender of its token and key_epoch (computed by
# or_authkeys from the master key); prints the key epoch, and notes the
# key in $T/issued for the leak check.
key_check() {
	local j=$1 sk=$2 tok ep got want
	tok=$(or_json "$j" 'print(r["token"])') || return 1
	ep=$(or_json "$j" 'print(r["key_epoch"])') || return 1
	got=$("$AK" open "$sk" "$(or_json "$j" 'print(r["sealed_key"])')") || return 1
	want=$("$AK" sender "$T/key" "$ep" "$tok") || return 1
	echo "$tok $ep $want" >>"$T/issued"
	[ "$got" = "$want" ] && echo "$ep"
}

read -r PK1 SK1 < <("$AK" keypair)
read -r PK2 SK2 < <("$AK" keypair)

# ---- a fresh store, the fake acking ------------------------------------------
fake_start ack
or_start_cp "$T/cp.ini"
or_wait_synced
keys_wait 'r["current"] == 0 and r["previous"] is None and r["issuing"] == 0 and r["seq"] == 0 and r["enforced"] is True and r["dataplane"] == "acked"'
or_ok "fresh store: epoch 0 only, enforced by the dataplane"
or_check "keys sent after HELLO, before the resync" \
	test "$(head -n 3 "$T/fake.log" | tr '\n' ' ')" = "hello keys epochs=0 match=yes resync_begin "

j=$(echo "$N1" | "$CTL" -j optin - --pubkey "$PK1" --wait)
or_check "optin --pubkey: committed, applied, a sealed key" or_json "$j" '
assert r["ok"] and r["state"] == "in" and r["applied"] is True, r
assert r["key_epoch"] == 0 and len(r["sealed_key"]) == 88, r'
ep=$(key_check "$j" "$SK1")
or_check "the sealed key opens to K_sender of epoch 0" test "$ep" = 0
out=$(echo "$N1" | "$CTL" optin - --pubkey "$PK1")
or_check "optin --pubkey prints the sealed key" grep -Eq '^sealed_key [A-Za-z0-9+/]{86}==$' <<<"$out"

out=$("$CTL" rotate); rc=$?
or_check "rotate" test $rc = 0
or_check "rotate: epoch 1 current, 0 previous, enforced, issuing 1" or_json "$("$CTL" -j keys)" '
assert r["current"] == 1 and r["previous"] == 0 and r["issuing"] == 1, r
assert r["enforced"] is True, r'
or_check "rotate reply says enforced" grep -q "^enforced  *yes" <<<"$out"
or_check "the fake got epochs 1 and 0, keys right" grep -q "^keys epochs=1,0 match=yes" "$T/fake.log"
or_check "the fake got no key that did not match" test -z "$(grep 'match=NO' "$T/fake.log")"

j=$(echo "$N2" | "$CTL" -j optin - --pubkey "$PK2")
ep=$(key_check "$j" "$SK2")
or_check "after the ack, optin issues epoch 1" test "$ep" = 1
j=$(echo "$N1" | "$CTL" -j rekey - --pubkey "$PK2" --method app)
or_check "rekey reply: token, seq, key" or_json "$j" '
assert r["ok"] and len(r["token"]) == 32 and r["seq"] > 0 and r["key_epoch"] == 1, r
assert "state" not in r, r'
ep=$(key_check "$j" "$SK2")
or_check "rekey's sealed key opens to K_sender of epoch 1" test "$ep" = 1

out=$("$CTL" rotate 2>&1); rc=$?
or_check "a second rotate is refused (exit 1)" test $rc = 1
or_check "... with 'retire epoch 0 first'" grep -q "conflict: .*retire epoch 0 first" <<<"$out"

j=$("$CTL" -j retire)
or_check "retire: enforced, epoch 0 gone" or_json "$j" '
assert r["ok"] and r["enforced"] is True and r["retired"] == 0, r
assert r["current"] == 1 and r["previous"] is None and r["issuing"] == 1, r'
or_check "the fake got epoch 1 alone" grep -q "^keys epochs=1 match=yes" "$T/fake.log"
out=$("$CTL" retire 2>&1); rc=$?
or_check "retire without a previous epoch refused" \
	test $rc = 1 -a -n "$(grep 'conflict: no previous epoch' <<<"$out")"
or_wait_synced

# ---- a dataplane that refuses AUTH_KEYS --------------------------------------
fake_stop
fake_start refuse
or_wait_synced 2
keys_wait 'r["dataplane"] == "refused" and r["enforced"] is False and "refusal" in r'
or_ok "refused key set reported, the channel stays up and resynced"
or_check "the refusal is logged, without key bytes" \
	grep -q "dataplane refused the auth key set of store seq .*: sender keys are not enforced" "$T/cp.log"
j=$("$CTL" -j rotate)
or_check "rotate against a refusing dataplane: committed, not enforced" or_json "$j" '
assert r["ok"] and r["current"] == 2 and r["previous"] == 1, r
assert r["enforced"] is False and "refused" in r["warning"], r
assert r["issuing"] == 1, r'
j=$(echo "$N2" | "$CTL" -j rekey - --pubkey "$PK1")
ep=$(key_check "$j" "$SK1")
or_check "epoch 2 is not issued before the dataplane acks it" test "$ep" = 1
or_wait_synced 2
or_check "the rotation's seq counts as applied (lag 0)" or_json "$("$CTL" -j dataplane)" '
assert r["connected"] and r["lag"] == 0 and r["errors"] >= 2, r'

# ---- no dataplane --------------------------------------------------------------
fake_stop
j=$("$CTL" -j retire)
or_check "retire without a dataplane: committed, warning after the wait" or_json "$j" '
assert r["ok"] and r["enforced"] is False and "none is connected" in r["warning"], r
assert r["current"] == 2 and r["previous"] is None and r["issuing"] == 2, r'
j=$(echo "$N3" | "$CTL" -j rekey - --pubkey "$PK1")
or_check "rekey of a subject never opted in: not_opted_in" or_json "$j" '
assert r["ok"] is False and r["error"]["code"] == "not_opted_in", r
assert "sealed_key" not in r, r'
echo "$N1" | "$CTL" optout - >/dev/null
j=$(echo "$N1" | "$CTL" -j rekey - --pubkey "$PK1" 2>/dev/null)
or_check "rekey of an opted-out subject: not_opted_in" or_json "$j" '
assert r["error"]["code"] == "not_opted_in" and "sealed_key" not in r, r'
out=$(echo "$N1" | "$CTL" rekey - 2>&1); rc=$?
or_check "rekey without --pubkey: usage error" test $rc = 2
out=$(echo "$N2" | "$CTL" rekey - --pubkey "$PK1" --wait 2>&1); rc=$?
or_check "rekey takes no --wait (optroutectl says so, as the daemon would)" \
	test $rc = 2 -a -n "$(grep -- "--wait is not an option of rekey" <<<"$out")"
out=$(echo "$N1" | "$CTL" optin - --pubkey abc 2>&1); rc=$?
or_check "a bad --pubkey is refused by the CLI" test $rc = 2
printf 'not base64 at all\n' >"$T/bad.pub"
out=$(echo "$N1" | "$CTL" optin - --pubkey-file "$T/bad.pub" 2>&1); rc=$?
or_check "a bad --pubkey-file is refused by the CLI" test $rc = 2
echo "$PK2" >"$T/phone.pub"
j=$(echo "$N3" | "$CTL" -j optin - --pubkey-file "$T/phone.pub")
ep=$(key_check "$j" "$SK2")
or_check "optin --pubkey-file (base64 text)" test "$ep" = 2
python3 -c 'import base64, sys; sys.stdout.buffer.write(base64.b64decode(sys.argv[1]))' "$PK1" >"$T/phone.raw"
j=$(echo "$N3" | "$CTL" -j rekey - --pubkey-file "$T/phone.raw")
ep=$(key_check "$j" "$SK1")
or_check "rekey --pubkey-file (32 raw bytes)" test "$ep" = 2

python3 - "$T/cp.sock" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
def expect(req, code):
    s.sendall(json.dumps(req).encode() + b"\n")
    r = json.loads(f.readline())
    assert r["ok"] is False and r["error"]["code"] == code, (req, r)
    assert "sealed_key" not in r, r
    print("ok: raw", req["cmd"], "->", code)
expect({"v": 1, "cmd": "rekey", "number": "+15550110003"}, "bad_request")
expect({"v": 1, "cmd": "optin", "number": "+15550110003", "pubkey": "AAAA"}, "bad_request")
expect({"v": 1, "cmd": "optin", "number": "+15550110003", "pubkey": 32}, "bad_request")
expect({"v": 1, "cmd": "optin", "number": "+15550110003", "pubkey": "A" * 43 + "="}, "bad_request")
expect({"v": 1, "cmd": "optout", "number": "+15550110003", "pubkey": "A" * 43 + "="}, "bad_request")
expect({"v": 1, "cmd": "rotate", "number": "+15550110003"}, "bad_request")
EOF
[ $? = 0 ] || or_bad "raw requests"

# One key issued was not checked (printed); rotate and retire twice each.
or_check "stats count keys issued, rotations, retirements" or_json "$("$CTL" -j stats)" "
c = r['control']
assert c['keys_issued'] == $(wc -l <"$T/issued") + 1, c
assert c['rotations'] == 2 and c['retirements'] == 2, c"

# ---- durable across a restart ----------------------------------------------------
or_stop CP_PID || or_bad "optroute-control exits 0 on SIGTERM"
or_start_cp "$T/cp.ini"
or_check "the auth epoch state survives a restart" or_json "$("$CTL" -j keys)" '
assert r["current"] == 2 and r["previous"] is None and r["issuing"] == 2, r
assert r["seq"] > 0 and r["dataplane"] == "disconnected", r'
j=$("$CTL" -j audit --token 00000000000000000000000000000000)
or_check "the appliance's epoch history in the audit trail" or_json "$j" '
assert [(e["action"], e["epoch"]) for e in r["entries"]] == \
    [("rotate", 1), ("retire", 0), ("rotate", 2), ("retire", 1)], r'
j=$(echo "$N1" | "$CTL" -j audit -)
or_check "a subject's audit lists its keys with their epochs" or_json "$j" '
acts = [(e["action"], e["epoch"], e["method"]) for e in r["entries"]]
assert acts[:2] == [("optin", 0, "operator"), ("key", 0, "operator")], acts
assert ("key", 1, "app") in acts and acts[-1][0] == "optout", acts'
out=$("$CTL" audit "$N1")
or_check "audit prints key entries" grep -Eq '^[0-9]+ +[0-9T:.Z-]+ +key ' <<<"$out"
or_check "audit --verify" or_json "$("$CTL" -j audit --verify)" 'assert r["verified"] is True, r'

# ---- no key byte on disk or in the log ---------------------------------------------
for e in 0 1 2 3; do "$AK" auth "$T/key" "$e"; done >"$T/secrets"
cut -d' ' -f3 "$T/issued" >>"$T/secrets"
or_check "the test computed keys to look for" test "$(sort -u "$T/secrets" | wc -l)" -ge 8
python3 - "$T/secrets" "$T/cp.log" "$T/store/data.mdb" "$T/store/lock.mdb" <<'EOF' || or_bad "key bytes found"
import base64, sys
keys = [bytes.fromhex(l.split()[0]) for l in open(sys.argv[1]) if l.strip()]
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    for k in keys:
        forms = [k, k.hex().encode(), k.hex().upper().encode(),
                 base64.b64encode(k).rstrip(b"="), base64.urlsafe_b64encode(k).rstrip(b"=")]
        for f in forms:
            assert f not in data, "a key found in %s" % path
    print("ok: no K_auth/K_sender in", path.split("/")[-1])
EOF

# ---- the real dataplane, if built ----------------------------------------------
if [ -x "$BIN/optroute-dataplane" ]; then
	or_stop CP_PID || true
	{
		or_ini_eal
		or_ini_dataplane 1000
		or_ini_port client net_null0 192.0.2.1 02:00:00:00:01:01 "workers = 1"
	} >"$T/dp.ini"
	or_start_dp "$T/dp.ini"
	or_start_cp "$T/cp.ini"
	or_wait_synced
	keys_wait 'r["dataplane"] in ("acked", "refused")'
	j=$("$CTL" -j keys)
	or_ok "the real dataplane answers the key set: $(or_json "$j" 'print(r["dataplane"])')"
	j=$("$CTL" -j rotate)
	or_check "rotate against the real dataplane answers" or_json "$j" '
assert r["ok"] and r["current"] == 3 and r["previous"] == 2, r
assert r["enforced"] is True or "refused" in r["warning"], r'
	echo "$N2" | "$CTL" optin - --wait >/dev/null || or_bad "optin --wait after rotate"
	or_check "channel still up after the key set" or_json "$("$CTL" -j dataplane)" '
assert r["connected"] and r["disconnects"] == 0, r'
	or_check "the dataplane is still running" kill -0 "$DP_PID"
fi

or_summary
