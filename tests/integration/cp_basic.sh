#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# optroute-control + optroutectl without a dataplane: configuration errors,
# key file permissions, every CLI command, bad requests on the raw socket
# (garbage, wrong version, unknown command, oversized line, a client hung
# mid-line, too many clients, a refused uid), import, durability across
# kill -9, clean shutdown, and no plain number in the store or the log.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_need_bins optroutectl optroute-control
CTL=$BIN/optroutectl
CP=$BIN/optroute-control

# Numbers used in this test; none may appear in the store or the log.
N1=+15550100001
N2=+15550100002
N3=+15550100003
N4=+442079460004

or_key "$T/key"
{
	echo "; one file for both daemons: the dataplane's sections are ignored"
	or_ini_dataplane 1000
	or_ini_port client net_null0 192.0.2.1 02:00:00:00:01:01
	or_ini_control "node_policy = hash 4" "notice_version = 3" \
		"line_timeout_ms = 1000" "idle_timeout_ms = 4000" "wait_timeout_ms = 300" \
		"channel_retry_ms = 200" "max_clients = 8"
} >"$T/cp.ini"

# ---- configuration and key checks -----------------------------------------
or_check "--check accepts the shared file" "$CP" -c "$T/cp.ini" --check
printf '[control]\nkey_file = %s\nbogus = 1\n' "$T/key" >"$T/bad.ini"
out=$("$CP" -c "$T/bad.ini" 2>&1); rc=$?
or_check "unknown key refused with file:line: key" \
	test $rc = 2 -a -n "$(echo "$out" | grep -F "$T/bad.ini:3: [control] bogus: unknown key")"
printf '[control]\n\nkey_epoch = 300\n' >"$T/bad2.ini"
out=$("$CP" -c "$T/bad2.ini" 2>&1); rc=$?
or_check "bad value refused with line and key" \
	test $rc = 2 -a -n "$(echo "$out" | grep -F "bad2.ini:3: [control] key_epoch: invalid value '300'")"
printf '[controll]\nx = 1\n' >"$T/bad3.ini"
out=$("$CP" -c "$T/bad3.ini" 2>&1)
or_check "misspelt control section refused" grep -q "unknown section" <<<"$out"

chmod 644 "$T/key"
out=$(timeout 10 "$CP" -c "$T/cp.ini" 2>&1); rc=$?
or_check "key file 0644 refused" test $rc != 0
or_check "key refusal says why" grep -q "group/others" <<<"$out"
or_check "no socket left by the refused start" test ! -e "$T/cp.sock"
chmod 600 "$T/key"

# ---- CLI commands ---------------------------------------------------------
or_start_cp "$T/cp.ini"
out=$("$CTL" optin "$N1"); rc=$?
or_check "optin" test $rc = 0
or_check "optin answers a token" grep -Eq "^opted in: token [0-9a-f]{32} node [0-3] seq 1 " <<<"$out"
tok1=$(grep -Eo '[0-9a-f]{32}' <<<"$out")

j=$("$CTL" -j optin "$N2" --node 9 --notice 7 --method app)
or_check "-j prints the JSON reply" or_json "$j" '
assert r["ok"] is True and r["v"] == 1 and r["state"] == "in"
assert r["node"] == 9 and r["pinned"] is True and r["previous"] == "none"
assert len(r["token"]) == 32 and r["seq"] == 2
'

j=$("$CTL" -j status --token "$tok1")
or_check "status by token" or_json "$j" '
assert r["state"] == "in" and r["method"] == "operator" and r["notice"] == 3
assert r["applied"] is False      # no dataplane
assert r["as_of_seq"] == 2 and "fleet" not in r   # lmdb: the trail head
'
j=$("$CTL" -j status --token "$tok1" --after-seq 2)
or_check "status --after-seq of a change already read: answered at once" \
	or_json "$j" 'assert r["state"] == "in" and r["as_of_seq"] == 2'
out=$("$CTL" status --token "$tok1" --after-seq 99 2>&1); rc=$?
or_check "status --after-seq beyond the head: timeout, saying where reads are" \
	test $rc != 0 -a -n "$(grep -F "up to seq 2, not 99" <<<"$out")"

out=$(echo "$N1" | "$CTL" optout -); rc=$?
or_check "optout with the number on stdin" test $rc = 0
or_check "optout answers state out" grep -q "^opted out: token $tok1 .*(was in)" <<<"$out"
j=$(echo "$N1" | "$CTL" -j status -)
or_check "status after optout" or_json "$j" 'assert r["state"] == "out" and r["withdrawn_ms"] > 0'
j=$("$CTL" -j status "$N4")
or_check "status of an unknown number is none" or_json "$j" 'assert r["ok"] and r["state"] == "none"'

out=$("$CTL" audit "$N1"); rc=$?
or_check "audit" test $rc = 0
or_check "audit lists optin then optout" \
	test "$(grep -Ec '^[0-9]+ +[0-9T:.Z-]+ +(optin|optout) ' <<<"$out")" = 2
j=$("$CTL" -j audit --verify)
or_check "audit --verify" or_json "$j" '
assert r["verified"] is True and r["entries"] == 3 and r["head_seq"] == 3
assert len(r["head_hash"]) == 64'
# Verifications run in the background of the event loop (cp_job.c): several
# at once, with a change among them, all answered, each covering at least
# the chain as it was when it was asked for.
vpids=()
for i in 1 2 3; do "$CTL" -j audit --verify >"$T/verify.$i" & vpids+=($!); done
j=$("$CTL" -j status "$N2")
wait "${vpids[@]}"
for i in 1 2 3; do
	or_check "concurrent audit --verify $i" or_json "$(cat "$T/verify.$i")" '
assert r["verified"] is True and r["entries"] >= 3 and "verify_ms" in r'
done
or_check "a request between verifications" or_json "$j" 'assert r["state"] == "in"'

pk=$("$CTL" -j pubkey)
or_check "pubkey" or_json "$pk" '
import base64
assert len(r["hex"]) == 64 and base64.b64decode(r["base64"]).hex() == r["hex"]'
out=$("$CTL" optin "$N3" --seal); rc=$?
or_check "optin --seal (sealed on the client)" test $rc = 0
j=$("$CTL" -j status "$N3")
or_check "sealed opt-in has method sealed" or_json "$j" 'assert r["state"] == "in" and r["method"] == "sealed"'

out=$("$CTL" optin 15550100009 2>&1); rc=$?
or_check "invalid number refused by the CLI" test $rc = 2
or_check "the error does not echo the number" test -z "$(grep 15550100009 <<<"$out")"
out=$("$CTL" optin --token 1234 2>&1); rc=$?
or_check "invalid token refused" test $rc = 2

out=$("$CTL" optin "$N4" --wait 2>&1); rc=$?
or_check "--wait without a dataplane fails" test $rc = 1
or_check "--wait says no dataplane, change committed" \
	grep -q "dataplane_unavailable: change committed" <<<"$out"
j=$("$CTL" -j dataplane)
or_check "dataplane: not connected, lag counted" or_json "$j" '
assert r["connected"] is False and r["acked_seq"] == 0 and r["lag"] == r["committed_seq"] == 5'
out=$("$CTL" table 2>&1); rc=$?
or_check "table without a dataplane: clear error" \
	test $rc = 1 -a -n "$(grep dataplane_unavailable <<<"$out")"
j=$("$CTL" -j stats)
or_check "stats" or_json "$j" '
assert r["control"]["optins"] == 4 and r["control"]["optouts"] == 1
assert r["store"]["entries"] == 4 and r["dataplane"] is None'
"$CTL" -j stats --clear | grep -q '"cleared":true' && or_ok "stats --clear" || or_bad "stats --clear"
j=$("$CTL" -j stats)
or_check "counters cleared" or_json "$j" '
r = r["control"]
assert r["optins"] == 0 and r["requests"] == 1 and r["clients_connected"] == 1, r'
out=$("$CTL" erase "$N2"); rc=$?
or_check "erase" test $rc = 0 -a -n "$(grep '^erased: token ' <<<"$out")"
j=$("$CTL" -j audit "$N2")
or_check "erased: status none, audit keeps the history" or_json "$j" '
assert [e["action"] for e in r["entries"]] == ["optin", "erase"], r'
"$CTL" -j status "$N2" | grep -q '"state":"none"' && or_ok "erased status" || or_bad "erased status"
out=$("$CTL" help)
or_check "help" grep -q "import FILE" <<<"$out"

# ---- import ---------------------------------------------------------------
{
	echo "# comment"
	echo "+15550200001"
	echo ""
	echo "  +15550200002  "
	echo "15550200003"
	printf '+15550200004\r\n'
	echo "00112233445566778899aabbccddeeff"
	echo "+1555020000x"
	for i in $(seq 10 1300); do echo "+1555030$(printf %04d "$i")"; done
} >"$T/import.txt"
out=$("$CTL" import "$T/import.txt" --optin --chunk 500 2>"$T/import.err"); rc=$?
or_check "import with bad lines exits 1" test $rc = 1
or_check "import counts" grep -q "imported 1299 lines: 1295 changes .* 2 skipped, 2 invalid, 0 failed" <<<"$out"
or_check "import reports line 5 and 8 by number" \
	test "$(grep -c '^line [58]: invalid_number' "$T/import.err")" = 2
or_check "import errors do not echo numbers" test -z "$(grep -E '1555020000' "$T/import.err")"
j=$("$CTL" -j status +15550301300)
or_check "imported number is in" or_json "$j" 'assert r["state"] == "in" and r["method"] == "import"'
j=$(printf '+15550200001\n+15550200002\n' | "$CTL" -j import - --optout)
or_check "import --optout from stdin" or_json "$j" 'assert r["ok"] and r["changes"] == 2'
j=$("$CTL" -j stats)
or_check "import grouped into few transactions" or_json "$j" '
r = r["control"]
assert r["commit_max"] >= 500, r'

# ---- raw socket abuse -----------------------------------------------------
python3 - "$T/cp.sock" <<'EOF'
import json, socket, sys, time
P = sys.argv[1]
class conn:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(P)
        self.s.settimeout(10)
        self.f = self.s.makefile("rb")
    def sendall(self, b): self.s.sendall(b)
    def shutdown(self, how): self.s.shutdown(how)
    def close(self): self.f.close(); self.s.close()
    def eof(self): return self.f.read() == b""
def line(s):
    b = s.f.readline()
    return json.loads(b) if b else None
def expect(s, req, code):
    s.sendall(req)
    r = line(s)
    assert r["ok"] is False and r["error"]["code"] == code, (req, r)
    assert b"1555" not in json.dumps(r).encode(), r
    print("ok: raw", req[:40], "->", code)

s = conn()
expect(s, b"garbage\n", "bad_json")
expect(s, b"\xff\xfe\x00\x01\n", "bad_json")
expect(s, b'{"v":1,"cmd":"optin","number":+15550100001}\n', "bad_json")
expect(s, b'{"cmd":"help"}\n', "bad_request")
expect(s, b'{"v":"1","cmd":"help"}\n', "bad_request")
expect(s, b'{"v":2,"cmd":"help"}\n', "unsupported_version")
expect(s, b'{"v":1,"cmd":"launch"}\n', "unknown_command")
expect(s, b'{"v":1,"cmd":"optin","number":15550100001}\n', "bad_request")
expect(s, b'{"v":1,"cmd":"optin","number":"+1555010000a"}\n', "invalid_number")
expect(s, b'{"v":1,"cmd":"optin","sealed":"%%%%"}\n', "invalid_sealed")
expect(s, b'{"v":1,"cmd":"status","token":"00"}\n', "invalid_token")
expect(s, b'{"v":1,"cmd":"optin","number":"+15550100001","node":70000}\n', "bad_request")
# the id is echoed, also on errors; pipelined requests are all answered
s.sendall(b'{"v":1,"id":41,"cmd":"version"}\n{"v":1,"id":"x-42","cmd":"nope"}\n\n')
a, b = line(s), line(s)
assert a["id"] == 41 and a["ok"] and b["id"] == "x-42" and not b["ok"], (a, b)
print("ok: raw pipelined ids echoed")
# after_seq (read-your-writes): a status waits until reads hold the seq;
# here the change that brings it comes after it on the same connection.
N = b'"number":"+15550500001"'
s.sendall(b'{"v":1,"id":1,"cmd":"status",' + N + b'}\n')
a = line(s)
head = a["as_of_seq"]
assert a["ok"] and a["state"] == "none" and head > 0 and "fleet" not in a, a
s.sendall(b'{"v":1,"id":2,"cmd":"status",%s,"after_seq":%d}\n'
          b'{"v":1,"id":3,"cmd":"optin",%s}\n' % (N, head + 1, N))
r = {x["id"]: x for x in (line(s), line(s))}
assert r[3]["ok"] and r[3]["seq"] == head + 1, r
assert r[2]["ok"] and r[2]["state"] == "in" and r[2]["seq"] == head + 1, r
assert r[2]["as_of_seq"] >= head + 1, r
t0 = time.monotonic()
s.sendall(b'{"v":1,"id":4,"cmd":"status",%s,"after_seq":%d}\n'
          % (N, head + 1000))
x = line(s)
dt = time.monotonic() - t0
assert not x["ok"] and x["error"]["code"] == "timeout", x
assert x["as_of_seq"] == head + 1 and 0.25 <= dt < 5, (x, dt)
assert "not %d" % (head + 1000) in x["error"]["message"], x
s.sendall(b'{"v":1,"id":5,"cmd":"stats"}\n')
st = line(s)["control"]   # cleared above: these two waits only
assert (st["status_waits"], st["status_wait_timeouts"]) == (2, 1), st
print("ok: raw status after_seq: waits for the change, times out beyond")
expect(s, b'{"v":1,"cmd":"status",' + N + b',"after_seq":0}\n', "bad_request")
expect(s, b'{"v":1,"cmd":"status",' + N + b',"after_seq":"9"}\n', "bad_request")
expect(s, b'{"v":1,"cmd":"optout",' + N + b',"after_seq":9}\n', "bad_request")

# one client's replies keep request order, even around the group commit
s.sendall(b'{"v":1,"id":1,"cmd":"optin","number":"+15550100005"}\n'
          b'{"v":1,"id":2,"cmd":"version"}\n'
          b'nonsense\n'
          b'{"v":1,"id":4,"cmd":"optout","number":"+15550100005"}\n'
          b'{"v":1,"id":5,"cmd":"pubkey"}\n')
ids = [line(s).get("id") for _ in range(5)]
assert ids == [1, 2, None, 4, 5], ids
print("ok: raw pipelined replies in order")

# a client hung mid-line does not block others, and is dropped later
h = conn(); h.sendall(b'{"v":1,"cmd":"ver')
o = conn(); o.sendall(b'{"v":1,"cmd":"version"}\n')
assert line(o)["ok"]; print("ok: raw other client served while one hangs")
t0 = time.time()
r = line(h)
assert r["error"]["code"] == "idle_timeout" and time.time() - t0 < 5, r
assert h.eof()
print("ok: raw hung client dropped after the line timeout")

# oversized line: error, then the connection is closed
big = conn()
try:
    big.sendall(b'{"v":1,"cmd":"help","x":"' + b"9" * 70000)
except OSError:
    pass
r = line(big)
assert r["error"]["code"] == "line_too_long", r
print("ok: raw oversized line refused")

# too many clients: max_clients = 8
many = [conn() for _ in range(8)]
time.sleep(0.3)
r = line(many[-1])
assert r is not None and r["error"]["code"] == "too_many_clients", r
for m in many:
    m.close()
time.sleep(0.3)
c = conn(); c.sendall(b'{"v":1,"cmd":"version"}\n'); assert line(c)["ok"]
print("ok: raw too many clients refused, then served again")

# a connection stays usable after a wait reply (timed out: no dataplane)
c = conn()
for i in range(3):
    c.sendall(b'{"v":1,"id":%d,"cmd":"optout","number":"+15550100004","wait":true}\n' % i)
    r = line(c)
    assert r["id"] == i and r["error"]["code"] == "dataplane_unavailable" and r["committed"], r
    c.sendall(b'{"v":1,"id":"v%d","cmd":"version"}\n' % i)
    assert line(c)["id"] == "v%d" % i
print("ok: raw connection kept after wait replies")

# half-closed client (shutdown after the request) still gets its reply
c = conn(); c.sendall(b'{"v":1,"id":9,"cmd":"version"}'); c.shutdown(socket.SHUT_WR)
assert line(c)["id"] == 9; print("ok: raw unterminated last line answered")
EOF
[ $? = 0 ] && or_ok "raw socket abuse" || or_bad "raw socket abuse"
or_check "daemon still alive after abuse" kill -0 "$CP_PID"

# ---- peer credentials -----------------------------------------------------
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	chmod 0666 "$T/cp.sock"; chmod 0755 "$T"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$CTL" -s "$T/cp.sock" version 2>&1); rc=$?
	or_check "other uid refused (SO_PEERCRED)" test $rc = 1 -a -n "$(grep permission_denied <<<"$out")"
	chmod 0660 "$T/cp.sock"; chmod 0700 "$T"
else
	echo "skip: peer credential test needs root and setpriv"
fi

# ---- durability and shutdown ----------------------------------------------
"$CTL" optin +15550400001 >/dev/null
or_stop CP_PID KILL
or_start_cp "$T/cp.ini"
j=$("$CTL" -j status +15550400001)
or_check "acknowledged change survives kill -9" or_json "$j" 'assert r["state"] == "in"'
j=$("$CTL" -j audit --verify)
or_check "audit chain verifies after kill -9" or_json "$j" 'assert r["verified"]'
or_stop CP_PID; rc=$?
or_check "SIGTERM: clean exit" test $rc = 0
or_check "SIGTERM: socket removed" test ! -e "$T/cp.sock"

# ---- privacy --------------------------------------------------------------
leaks=0
for n in "$N1" "$N2" "$N3" "$N4" +15550200001 +15550301300 +15550400001; do
	d=${n#+}
	if grep -rqa -- "$d" "$T/store" "$T/cp.log"; then
		echo "number $n found in store or log"; leaks=1
	fi
done
or_check "no plain number in the store or the log" test $leaks = 0

or_summary
