#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# optroute-client on loopback only, checked against docs/protocol.md by an
# independent Python implementation (standard library only):
#  1. recv as a delivery node: datagrams built by Python (valid and
#     broken) and MSGs sent by the client itself; the -j output must list
#     exactly the ids, tokens, epochs and payloads sent, and each broken
#     datagram as its error.
#  2. send against a fake appliance (Python) that checks every byte of the
#     client's MSGs and answers per recipient token: a BOUNCE, nothing, a
#     NO_ROUTE bounce, a duplicate bounce, or a run of broken replies
#     followed by a valid bounce; the client must report each one exactly,
#     and --expect must set the exit status.
#  3. command line errors (bad hex, host, port) exit 2 with a clear message.
#  4. version 2: keygen and open-key (a K_sender sealed here with
#     libsodium, as the control plane does); recv prints signed MSGs whose
#     tags Python recomputes (its own SipHash-2-4, lib/orauth.py); send
#     against the fake appliance, which checks tags and signs its bounces:
#     verified bounces, over_budget, forged bounces (exit 3, not counted),
#     and each test-only option seen on the wire; version 2 is the default
#     (no key: refused) and only --v1 selects version 1.
#  5. optroute-pcapgen's version-2 frames (tags recomputed here,
#     reproducible; version 2 by default: no key, no frames) and
#     optroute-pcapcheck.py's version-2 bounce checks, against outputs
#     made here.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_need_bins optroute-client optroute-pcapgen
CLI=$BIN/optroute-client
command -v python3 >/dev/null || { echo "python3 needed"; exit 1; }

cli() { timeout -k 2 30 "$CLI" "$@"; }
# wait_file FILE PATTERN: until FILE has a line matching PATTERN (5 s)
wait_file() {
	for _ in $(seq 50); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	or_fail "timed out waiting for '$2' in $1"
}

A=aa000000000000000000000000000001   # a sender (plain tokens: the
B=bb000000000000000000000000000002   # client never sees numbers)

# The Python parts build and check datagrams with lib/orproto.py: the spec
# (docs/protocol.md), implemented independently of the C code.

# ---------------------------------------------------------------------------
echo "1. recv as a delivery node"
cli recv --listen 127.0.0.1:0 --count 4 --timeout-ms 10000 -j \
	>"$T/recv.json" 2>"$T/recv.err" &
RPID=$!
OR_PIDS+=("$RPID")
wait_file "$T/recv.json" '"listening"'
RPORT=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["addr"].split(":")[1])' "$T/recv.json")

# Broken datagrams first (each must be reported, not counted), then one
# valid MSG built by Python with a non-printable payload.
python3 - "$RPORT" <<'PY'
import socket, sys
from orproto import build
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = ('127.0.0.1', int(sys.argv[1]))
t1, t2 = bytes([0x11] * 16), bytes([0x22] * 16)
good = build(1, 900, t1, t2, epoch=9, payload=b'\x00\x01bin\xff')
for d in (build(1, 901, t1, t2, magic=0x4f53),      # bad_magic
          good[:67],                                # short
          build(1, 902, t1, t2, version=3),         # bad_version
          build(1, 903, t1, t2, payload=b'ab', plen=3),  # bad_payload_len
          build(2, 904, t1, t2, reason=1),          # bad_type (a BOUNCE)
          good):
    s.sendto(d, dst)
PY
cli send --to "127.0.0.1:$RPORT" --v1 --from-token $A --to-token $B --id 1 \
	--epoch 3 --payload 'hello, "world"' --wait-ms 0 --expect none >/dev/null ||
	or_fail "send 1"
cli send --to "127.0.0.1:$RPORT" --v1 --from-token $B --to-token $A \
	--id 18446744073709551615 --payload-hex 00ff7f80 --wait-ms 0 >/dev/null ||
	or_fail "send 2"
cli send --to "127.0.0.1:$RPORT" --v1 --from-token $A --to-token $B --id 0x10 \
	--epoch 255 --wait-ms 0 >/dev/null || or_fail "send 3"
rc=0; wait "$RPID" || rc=$?
[ "$rc" = 0 ] || or_fail "recv exit $rc: $(cat "$T/recv.err")"

python3 - "$T/recv.json" "$A" "$B" <<'PY' || or_fail "recv output"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
a, b = sys.argv[2], sys.argv[3]
errs = [e['error'] for e in ev if e['event'] == 'error']
assert errs == ['bad_magic', 'short', 'bad_version', 'bad_payload_len',
                'bad_type'], errs
msgs = [{k: e.get(k) for k in ('msg_id', 'sender', 'recipient', 'epoch',
                               'payload_len', 'payload', 'payload_hex')}
        for e in ev if e['event'] == 'msg']
want = [
    dict(msg_id='900', sender='11' * 16, recipient='22' * 16, epoch=9,
         payload_len=6, payload=None, payload_hex='000162696eff'),
    dict(msg_id='1', sender=a, recipient=b, epoch=3, payload_len=14,
         payload='hello, "world"', payload_hex=b'hello, "world"'.hex()),
    dict(msg_id='18446744073709551615', sender=b, recipient=a, epoch=0,
         payload_len=4, payload=None, payload_hex='00ff7f80'),
    dict(msg_id='16', sender=a, recipient=b, epoch=255, payload_len=0,
         payload='', payload_hex=''),
]
assert msgs == want, msgs
s = ev[-1]
assert s['event'] == 'summary' and s['received'] == 4 and \
    s['invalid'] == 5 and not s['timed_out'], s
PY
echo "ok: recv reported 4 messages exactly and 5 broken datagrams by name"

# recv is bounded: --count not reached within --timeout-ms -> exit 1.
start=$(date +%s%N)
rc=0; cli recv --listen 127.0.0.1:0 --count 1 --timeout-ms 300 >"$T/r2.txt" || rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" = 1 ] || or_fail "recv timeout exit $rc"
grep -q "^summary: received 0, invalid 0 (timed out)$" "$T/r2.txt" || or_fail "recv timeout summary: $(cat "$T/r2.txt")"
[ "$ms" -lt 5000 ] || or_fail "recv timeout took $ms ms"
echo "ok: recv times out (exit 1, ${ms} ms)"

# ---------------------------------------------------------------------------
echo "2. send against a fake appliance"
cat >"$T/fake.py" <<'PY'
# Fake appliance: checks every MSG against the spec (log: one JSON line per
# datagram) and answers by the recipient token's first byte. Version 2:
# the tag is checked under the K_sender of $T/fake.keys ("TOKEN KHEX"
# lines), a MSG whose tag is not its sender's is dropped (as the appliance
# does), and bounces are signed under the sender's key.
import json, os, socket, struct, sys, time
from orproto import HDR, bounce
from orauth import HDR2, bounce2, tag_ok
T = sys.argv[1]


def keys():
    try:
        return {t: bytes.fromhex(k) for t, k in
                (l.split() for l in open(T + '/fake.keys') if l.strip())}
    except FileNotFoundError:
        return {}


def v2(d, src):
    (magic, ver, typ, flags, epoch, reason, rsvd, mid, snd, rcp, st, plen,
     rsvd2, tag) = HDR2.unpack(d[:68])
    errs = [name for name, got, want in (
        ('type', typ, 1), ('flags', flags, 0), ('reason', reason, 0),
        ('reserved', rsvd, 0), ('payload_len', plen, len(d) - 68),
        ('reserved2', rsvd2, 0)) if got != want]
    ks = keys()
    signer = next((t for t, k in ks.items() if tag_ok(d, k)), None)
    log.write(json.dumps({'version': 2, 'errors': errs, 'msg_id': str(mid),
                          'sender': snd.hex(), 'recipient': rcp.hex(),
                          'epoch': epoch, 'send_time': st, 'signer': signer,
                          'recv_ms': int(time.time() * 1000),
                          'payload_hex': d[68:].hex(), 'raw': d.hex(),
                          'src_port': src[1]}) + '\n')
    if signer != snd.hex():
        return                                            # bad tag: dropped
    k, mode = ks[signer], rcp[0]
    if mode == 0xbb:
        s.sendto(bounce2(d, k), src)
    elif mode == 0xb3:
        s.sendto(bounce2(d, k, reason=3), src)            # over_budget
    elif mode == 0xf0:
        s.sendto(bounce2(d, k)[:60] + os.urandom(8), src)  # forged
    elif mode == 0xf1:
        s.sendto(bounce2(d), src)                         # forged: MSG's tag
        s.sendto(bounce2(d, k), src)
    elif mode == 0xb1:
        b = bytearray(bounce2(d, k))
        b[2] = 1
        s.sendto(bytes(b), src)                           # bad_version
    # anything else: no reply
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
other.bind(('127.0.0.1', 0))
log = open(T + '/fake.log', 'a', buffering=1)
open(T + '/fake.port.tmp', 'w').write(str(s.getsockname()[1]))
import os; os.rename(T + '/fake.port.tmp', T + '/fake.port')
s.settimeout(0.2)
end = time.time() + 180         # bounded even if nobody kills it
while time.time() < end:
    try:
        d, src = s.recvfrom(65535)
    except socket.timeout:
        continue
    errs = []
    if len(d) < 68:
        log.write(json.dumps({'errors': ['short']}) + '\n')
        continue
    if d[:3] == b'\x4f\x52\x02':
        v2(d, src)
        continue
    (magic, ver, typ, flags, epoch, reason, rsvd, mid, snd, rcp, tag,
     plen, rsvd2) = HDR.unpack(d[:68])
    for name, got, want in (('magic', magic, 0x4f52), ('version', ver, 1),
                            ('type', typ, 1), ('flags', flags, 0),
                            ('reason', reason, 0), ('reserved', rsvd, 0),
                            ('auth_tag', tag, bytes(16)),
                            ('payload_len', plen, len(d) - 68),
                            ('reserved2', rsvd2, 0)):
        if got != want:
            errs.append(name)
    log.write(json.dumps({'version': ver, 'errors': errs, 'msg_id': str(mid),
                          'sender': snd.hex(), 'recipient': rcp.hex(),
                          'epoch': epoch, 'payload_hex': d[68:].hex(),
                          'src_port': src[1]}) + '\n')
    mode = rcp[0]
    b = bounce(d)
    if mode == 0xbb:
        s.sendto(b, src)
    elif mode == 0xab:
        s.sendto(bounce(d, reason=2), src)
    elif mode == 0xee:
        s.sendto(b, src)
        s.sendto(b, src)
    elif mode == 0xdd:
        other.sendto(b, src)                              # bad_source
        s.sendto(b'\x4f\x53' + b[2:], src)                # bad_magic
        s.sendto(b[:40], src)                             # short
        s.sendto(b[:2] + b'\x02' + b[3:], src)            # bad_version
        s.sendto(b[:64] + b'\x00\x04' + b[66:], src)      # bad_payload_len
        s.sendto(d, src)                                  # bad_type
        s.sendto(b[:64] + b'\x00\x03' + b[66:] + b'xyz', src)  # bad_bounce_len
        s.sendto(b[:8] + struct.pack('!Q', (mid + 1000) % 2**64) + b[16:],
                 src)                                     # unknown_msg_id
        s.sendto(b[:16] + b[32:48] + b[16:32] + b[48:], src)  # token_mismatch
        s.sendto(b, src)                                  # valid
    # 0xcc and anything else: no reply (delivered or dropped)
PY
python3 "$T/fake.py" "$T" &
OR_PIDS+=("$!")
wait_file "$T/fake.port" '[0-9]'
FP=$(cat "$T/fake.port")
TO="127.0.0.1:$FP"
# fake_log_check N: the last N MSGs the fake got are spec-clean
fake_clean() {
	python3 - "$T/fake.log" "$1" <<'PY' || or_fail "fake appliance saw a non-conforming MSG"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])][-int(sys.argv[2]):]
bad = [r for r in recs if r['errors']]
assert not bad, bad
PY
}
# check FILE PYEXPR...: evaluate assertions over the -j events of FILE
check() {
	local f=$1; shift
	python3 - "$f" "$@" <<'PY' || or_fail "unexpected output in $f: $(cat "$f")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
by = lambda k: [e for e in ev if e['event'] == k]
summ = by('summary')[0]
for expr in sys.argv[2:]:
    assert eval(expr), expr
PY
}

# 2a. Bounced: 3 messages, each bounced with RECIPIENT_UNAVAILABLE; the
# client stops as soon as all are bounced (far before --wait-ms).
start=$(date +%s%N)
cli send --to "$TO" --v1 --from-token $A --to-token $B --id 100 --count 3 \
	--epoch 7 --payload hello --wait-ms 20000 -j --expect bounce >"$T/s1.json" ||
	or_fail "expect bounce: exit $?"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 10000 ] || or_fail "send did not stop once all were bounced ($ms ms)"
check "$T/s1.json" \
	"[e['msg_id'] for e in by('sent')] == ['100', '101', '102']" \
	"[e['msg_id'] for e in by('bounce')] == ['100', '101', '102']" \
	"all(e['reason'] == 'recipient_unavailable' and e['reason_code'] == 1 and e['epoch'] == 7 and e['sender'] == '$A' and e['recipient'] == '$B' and not e['duplicate'] for e in by('bounce'))" \
	"summ['sent'] == 3 and summ['bounced'] == 3 and summ['no_reply'] == 0 and summ['invalid'] == 0" \
	"by('no_reply') == []"
python3 - "$T/fake.log" "$A" "$B" <<'PY' || or_fail "fake log of 2a"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-3:]
assert [x['msg_id'] for x in r] == ['100', '101', '102'], r
assert all(x['sender'] == sys.argv[2] and x['recipient'] == sys.argv[3] and
           x['epoch'] == 7 and x['payload_hex'] == b'hello'.hex() and
           not x['errors'] for x in r), r
PY
echo "ok: 3 bounces reported (recipient_unavailable), stopped after ${ms} ms"

rc=0; cli send --to "$TO" --v1 --from-token $A --to-token $B --wait-ms 2000 \
	--expect none >"$T/s2.txt" || rc=$?
[ "$rc" = 1 ] || or_fail "--expect none with a bounce: exit $rc"
grep -q "^bounce msg_id=[0-9]* reason=recipient_unavailable (1) epoch=0$" "$T/s2.txt" ||
	or_fail "text bounce line: $(cat "$T/s2.txt")"
echo "ok: --expect none fails on a bounce (text output checked)"

# 2b. No reply: reported per message after --wait-ms, in text and JSON.
C=cc000000000000000000000000000003
cli send --to "$TO" --v1 --from-token $A --to-token $C --id 7 --count 2 \
	--interval-ms 50 --wait-ms 300 --expect none >"$T/s3.txt" ||
	or_fail "expect none without replies: exit $?"
grep -qx "msg_id=7: no reply (delivered or dropped)" "$T/s3.txt" || or_fail "no reply 7: $(cat "$T/s3.txt")"
grep -qx "msg_id=8: no reply (delivered or dropped)" "$T/s3.txt" || or_fail "no reply 8"
grep -qx "summary: sent 2, bounced 0, no reply 2, duplicate 0, invalid 0" "$T/s3.txt" || or_fail "summary: $(cat "$T/s3.txt")"
rc=0; cli send --to "$TO" --v1 --from-token $A --to-token $C --wait-ms 200 \
	--expect bounce -j >"$T/s4.json" || rc=$?
[ "$rc" = 1 ] || or_fail "--expect bounce without a bounce: exit $rc"
check "$T/s4.json" "len(by('no_reply')) == 1" "by('no_reply')[0]['msg_id'] == by('sent')[0]['msg_id']"
fake_clean 3
echo "ok: no reply reported; --expect bounce fails without one"

# 2c. A random msg_id by default, a fixed source port with --bind, a
# binary payload: the fake saw exactly those.
BP=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cli send --to "$TO" --v1 --from-token $A --to-token $C --bind "127.0.0.1:$BP" \
	--payload-hex 00010203fffe --wait-ms 0 -j >"$T/s5.json" || or_fail "send --bind"
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["msg_id"])' "$T/s5.json")
sleep 0.2
python3 - "$T/fake.log" "$id" "$BP" <<'PY' || or_fail "fake log of 2c"
import json, sys
r = json.loads(open(sys.argv[1]).readlines()[-1])
assert r['msg_id'] == sys.argv[2] and r['src_port'] == int(sys.argv[3]) and \
    r['payload_hex'] == '00010203fffe' and not r['errors'], r
PY
echo "ok: random msg_id $id, source port $BP, binary payload as sent"

# 2d. NO_ROUTE reason and a duplicate bounce.
N=ab000000000000000000000000000004
cli send --to "$TO" --v1 --from-token $A --to-token $N --id 42 -j --wait-ms 2000 \
	--expect bounce >"$T/s6.json" || or_fail "no_route: exit $?"
check "$T/s6.json" "by('bounce')[0]['reason'] == 'no_route' and by('bounce')[0]['reason_code'] == 2"
D=ee000000000000000000000000000005
rc=0; cli send --to "$TO" --v1 --from-token $A --to-token $D --id 43 -j \
	--wait-ms 500 >"$T/s7.json" || rc=$?
[ "$rc" = 0 ] || or_fail "duplicate: exit $rc"
check "$T/s7.json" "[e['duplicate'] for e in by('bounce')] == [False, True]" \
	"summ['bounced'] == 1 and summ['duplicate'] == 1 and summ['invalid'] == 0"
echo "ok: no_route reason; duplicate bounce counted once"

# 2e. Broken replies: each refused by name, then the valid bounce counts.
# --expect bounce fails on any invalid reply; without --expect, exit 0.
G=dd000000000000000000000000000006
for expect in bounce any; do
	args=(); [ "$expect" = any ] || args=(--expect "$expect")
	rc=0; cli send --to "$TO" --v1 --from-token $A --to-token $G --id 500 -j \
		--wait-ms 3000 "${args[@]}" >"$T/s8.json" || rc=$?
	want=1; [ "$expect" = any ] && want=0
	[ "$rc" = "$want" ] || or_fail "broken replies, expect $expect: exit $rc"
	check "$T/s8.json" \
		"[e['error'] for e in by('error')] == ['bad_source', 'bad_magic', 'short', 'bad_version', 'bad_payload_len', 'bad_type', 'bad_bounce_len', 'unknown_msg_id', 'token_mismatch']" \
		"all(e['what'] == 'reply' for e in by('error'))" \
		"[e['msg_id'] for e in by('bounce')] == ['500']" \
		"summ['bounced'] == 1 and summ['invalid'] == 9"
done
fake_clean 6
echo "ok: 9 broken replies refused by name, the valid bounce accepted"

# ---------------------------------------------------------------------------
echo "3. command line errors"
# usage_err EXPECTED_STDERR_PATTERN ARGS...: exit 2 and the message
usage_err() {
	local pat=$1; shift
	local rc=0
	cli "$@" >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || or_fail "exit $rc (want 2) for: $*"
	grep -q -- "$pat" "$T/err" || or_fail "message for '$*': $(cat "$T/err")"
}
usage_err "bad host" send --to 300.0.0.1 --from-token $A --to-token $B
usage_err "bad host" send --to localhost --from-token $A --to-token $B
usage_err "bad port" send --to 127.0.0.1:0 --from-token $A --to-token $B
usage_err "bad port" send --to 127.0.0.1:70000 --from-token $A --to-token $B
usage_err "bad port" recv --listen 127.0.0.1:x
usage_err "bad token" send --to 127.0.0.1 --from-token ${A}0 --to-token $B
usage_err "bad token" send --to 127.0.0.1 --from-token $A --to-token zz${B:2}
usage_err "even number of hex digits" send --to 127.0.0.1 --from-token $A --to-token $B --payload-hex abc
usage_err "even number of hex digits" send --to 127.0.0.1 --from-token $A --to-token $B --payload-hex 0g
usage_err "longer than 1404" send --to 127.0.0.1 --from-token $A --to-token $B --payload "$(head -c 1405 /dev/zero | tr '\0' x)"
usage_err "--expect" send --to 127.0.0.1 --from-token $A --to-token $B --expect maybe
usage_err "needs --to" send --from-token $A --to-token $B
usage_err "--count" send --to 127.0.0.1 --from-token $A --to-token $B --count 0
usage_err "--wait-ms" send --to 127.0.0.1 --from-token $A --to-token $B --wait-ms 999999999
# Something that is not a token is never echoed (it may be a number).
usage_err "bad token" send --to 127.0.0.1 --from-token +15550100123 --to-token $B
! grep -q 15550100123 "$T/err" || or_fail "bad token value echoed"
echo "ok: command line errors"

# ---------------------------------------------------------------------------
echo "4. version 2"
# 4a. keygen and open-key: the phone's key pair, K_sender sealed to it here
# (libsodium's crypto_box_seal, as the control plane does), opened into a
# key file. Nothing ever prints a key.
for n in a b; do
	cli keygen --secret "$T/$n.secret" >"$T/$n.pub" || or_fail "keygen $n"
done
[ "$(stat -c %a "$T/a.secret")" = 600 ] || or_fail "secret file mode $(stat -c %a "$T/a.secret")"
rc=0; cli keygen --secret "$T/a.secret" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 1 ] && grep -q "refusing to overwrite" "$T/err" ||
	or_fail "keygen over an existing file: exit $rc, $(cat "$T/err")"
python3 - "$T" <<'PY' || or_fail "sealing K_sender"
import base64, os, sys
from orauth import seal
T = sys.argv[1]
for n in 'ab':
    pk = base64.b64decode(open(f'{T}/{n}.pub').read().strip(), validate=True)
    assert len(pk) == 32, len(pk)
    k = os.urandom(16)
    open(f'{T}/{n}.k', 'w').write(k.hex())
    open(f'{T}/{n}.sealed', 'w').write(base64.b64encode(seal(k, pk)).decode() + '\n')
PY
KA=$(cat "$T/a.k")
KB=$(cat "$T/b.k")
cli open-key --secret "$T/a.secret" --epoch 5 --token $A --out "$T/a.key" \
	<"$T/a.sealed" >"$T/ok.txt" 2>&1 || or_fail "open-key a: $(cat "$T/ok.txt")"
cli open-key --secret "$T/b.secret" --epoch 5 --token $B --out "$T/b.key" \
	--sealed "$(cat "$T/b.sealed")" >>"$T/ok.txt" 2>&1 || or_fail "open-key b"
[ "$(stat -c %a "$T/a.key")" = 600 ] || or_fail "key file mode"
{ grep -qx "token $A" "$T/a.key" && grep -qx "epoch 5" "$T/a.key" &&
	grep -qx "k_sender $KA" "$T/a.key"; } || or_fail "key file a: $(grep -v k_sender "$T/a.key")"
grep -qx "k_sender $KB" "$T/b.key" || or_fail "key file b"
! grep -qi -e "$KA" -e "$KB" "$T/ok.txt" || or_fail "open-key printed a key"
# Sealed to b's key: a's secret cannot open it, and no key file is left.
rc=0; cli open-key --secret "$T/a.secret" --epoch 5 --token $A --out "$T/x.key" \
	<"$T/b.sealed" 2>"$T/err" || rc=$?
{ [ "$rc" = 1 ] && grep -q "could not be opened" "$T/err" && [ ! -e "$T/x.key" ]; } ||
	or_fail "open-key of a stranger's sealed key: exit $rc, $(cat "$T/err")"
printf '%s %s\n%s %s\n' $A "$KA" $B "$KB" >"$T/fake.keys"
echo "ok: keygen and open-key (files 0600, no key printed, a stranger's sealed key refused)"

# 4b. recv --v2: signed MSGs printed with send_time and tag (recomputed
# here), a version-1 datagram refused.
cli recv --listen 127.0.0.1:0 --v2 --count 2 --timeout-ms 10000 -j \
	>"$T/recv2.json" 2>"$T/recv2.err" &
RPID=$!
OR_PIDS+=("$RPID")
wait_file "$T/recv2.json" '"listening"'
RPORT=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["addr"].split(":")[1])' "$T/recv2.json")
t0=$(date +%s%3N)
python3 - "$RPORT" <<'PY'
import socket, sys
from orproto import build
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
    build(1, 950, bytes(16), bytes(16)), ('127.0.0.1', int(sys.argv[1])))
PY
cli send --to "127.0.0.1:$RPORT" --key "$T/a.key" --to-token $B --id 960 \
	--payload v2 --wait-ms 0 -j >"$T/s20.json" || or_fail "v2 send 1"
cli send --to "127.0.0.1:$RPORT" --key "$T/b.key" --to-token $A --id 961 \
	--epoch 9 --wait-ms 0 >/dev/null || or_fail "v2 send 2"
rc=0; wait "$RPID" || rc=$?
[ "$rc" = 0 ] || or_fail "recv --v2 exit $rc: $(cat "$T/recv2.err")"
python3 - "$T" "$A" "$B" "$t0" "$(date +%s%3N)" <<'PY' || or_fail "recv --v2 output: $(cat "$T/recv2.json")"
import json, sys
from orauth import HDR2, tag_ok
T, a, b, t0, t1 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
keys = {t: bytes.fromhex(k) for t, k in (l.split() for l in open(T + '/fake.keys'))}
ev = [json.loads(l) for l in open(T + '/recv2.json')]
assert [e['error'] for e in ev if e['event'] == 'error'] == ['bad_version'], ev
msgs = [e for e in ev if e['event'] == 'msg']
assert [(m['msg_id'], m['sender'], m['recipient'], m['epoch'], m['version'])
        for m in msgs] == [('960', a, b, 5, 2), ('961', b, a, 9, 2)], msgs
sent = json.loads(open(T + '/s20.json').readline())
assert sent['send_time'] == msgs[0]['send_time'], (sent, msgs[0])
for m in msgs:
    assert t0 - 1000 <= m['send_time'] <= t1 + 1000, (m, t0, t1)
    h = HDR2.pack(0x4f52, 2, 1, m['flags'], m['epoch'], 0, 0, int(m['msg_id']),
                  bytes.fromhex(m['sender']), bytes.fromhex(m['recipient']),
                  m['send_time'], m['payload_len'], 0,
                  bytes.fromhex(m['auth_tag']))
    assert tag_ok(h, keys[m['sender']]), m
PY
echo "ok: recv --v2 printed 2 signed MSGs (tags recomputed, send_time now), refused version 1"

# 4c. send against the fake appliance: signed MSGs, verified bounces.
t0=$(date +%s%3N)
cli send --to "$TO" --key "$T/a.key" --to-token $B --id 300 --count 2 \
	--payload hello --wait-ms 5000 --expect bounce -j >"$T/s21.json" ||
	or_fail "v2 expect bounce: exit $?"
t1=$(date +%s%3N)
check "$T/s21.json" \
	"[e['msg_id'] for e in by('bounce')] == ['300', '301']" \
	"all(e['reason'] == 'recipient_unavailable' and e['epoch'] == 5 and e['sender'] == '$A' and e['send_time'] == s['send_time'] for e, s in zip(by('bounce'), by('sent')))" \
	"summ['bounced'] == 2 and summ['forged'] == 0 and summ['invalid'] == 0 and summ['version'] == 2"
# fake_last N PYEXPR...: assertions over the fake's last N log records r
fake_last() {
	local n=$1; shift
	sleep 0.2
	python3 - "$T/fake.log" "$n" "$@" <<'PY' || or_fail "fake log: $(tail -n "$n" "$T/fake.log")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-int(sys.argv[2]):]
for expr in sys.argv[3:]:
    assert eval(expr), expr
PY
}
fake_last 2 "[x['msg_id'] for x in r] == ['300', '301']" \
	"all(x['version'] == 2 and not x['errors'] and x['signer'] == x['sender'] == '$A' and x['epoch'] == 5 and $t0 <= x['send_time'] <= $t1 for x in r)"
O=b3000000000000000000000000000008
cli send --to "$TO" --key "$T/a.key" --to-token $O --wait-ms 5000 \
	--expect bounce >"$T/s22.txt" || or_fail "over_budget: exit $?"
grep -q "^bounce msg_id=[0-9]* reason=over_budget (3) epoch=5$" "$T/s22.txt" ||
	or_fail "over_budget line: $(cat "$T/s22.txt")"
echo "ok: signed MSGs (tag, epoch, send_time), verified bounces, over_budget (3)"

# 4d. Forged bounces: reported, not counted, exit 3 whatever --expect says.
F0=f0000000000000000000000000000009
rc=0; cli send --to "$TO" --key "$T/a.key" --to-token $F0 --id 400 \
	--wait-ms 1000 >"$T/s23.txt" || rc=$?
[ "$rc" = 3 ] || or_fail "forged bounce: exit $rc"
grep -qx "forged bounce msg_id=400 reason=recipient_unavailable (1) from=$TO: bad tag" "$T/s23.txt" ||
	or_fail "forged line: $(cat "$T/s23.txt")"
grep -qx "summary: sent 1, bounced 0, no reply 1, duplicate 0, invalid 0, forged 1" "$T/s23.txt" ||
	or_fail "forged summary: $(cat "$T/s23.txt")"
F1=f100000000000000000000000000000a
rc=0; cli send --to "$TO" --key "$T/a.key" --to-token $F1 --id 410 -j \
	--wait-ms 3000 --expect bounce >"$T/s24.json" || rc=$?
[ "$rc" = 3 ] || or_fail "forged then valid bounce: exit $rc"
check "$T/s24.json" "[e['msg_id'] for e in by('forged_bounce')] == ['410']" \
	"[e['msg_id'] for e in by('bounce')] == ['410']" \
	"summ['bounced'] == 1 and summ['forged'] == 1 and summ['invalid'] == 0"
V1=b100000000000000000000000000000b
rc=0; cli send --to "$TO" --key "$T/a.key" --to-token $V1 --id 420 -j \
	--wait-ms 1000 --expect bounce >"$T/s25.json" || rc=$?
[ "$rc" = 1 ] || or_fail "version-1 bounce to a version-2 run: exit $rc"
check "$T/s25.json" "[e['error'] for e in by('error')] == ['bad_version']" \
	"summ['bounced'] == 0 and summ['forged'] == 0"
echo "ok: forged bounces reported and not counted (exit 3); a version-1 bounce refused"

# 4e. The test-only options, as the fake saw them.
rc=0; cli send --to "$TO" --key "$T/a.key" --to-token $B --id 500 --forge-tag \
	--wait-ms 300 --expect none >/dev/null || rc=$?
[ "$rc" = 0 ] || or_fail "--forge-tag: exit $rc (the fake drops a bad tag)"
fake_last 1 "r[0]['msg_id'] == '500' and r[0]['signer'] is None and not r[0]['errors']"
cli send --to "$TO" --key "$T/a.key" --key-from-other "$T/b.key" --to-token $B \
	--id 501 --wait-ms 300 --expect none >/dev/null || or_fail "--key-from-other"
fake_last 1 "r[0]['msg_id'] == '501' and r[0]['sender'] == '$A' and r[0]['signer'] == '$B'"
for off in -600000 600000; do
	cli send --to "$TO" --key "$T/a.key" --to-token $B --id 502 \
		--time-offset-ms "$off" --wait-ms 3000 --expect bounce >/dev/null ||
		or_fail "--time-offset-ms $off"
	fake_last 1 "r[0]['signer'] == '$A' and abs(r[0]['send_time'] - r[0]['recv_ms'] - ($off)) < 5000"
done
cli send --to "$TO" --key "$T/a.key" --to-token $C --id 504 --repeat 3 \
	--wait-ms 300 -j >"$T/s26.json" || or_fail "--repeat"
check "$T/s26.json" "by('sent')[0]['copies'] == 3 and summ['sent'] == 1"
fake_last 3 "[x['msg_id'] for x in r] == ['504'] * 3" \
	"r[0]['raw'] == r[1]['raw'] == r[2]['raw'] and r[0]['signer'] == '$A'"
cli send --to "$TO" --key "$T/a.key" --to-token $C --id 505 --epoch 9 \
	--wait-ms 0 >/dev/null || or_fail "--epoch over the key's"
fake_last 1 "r[0]['epoch'] == 9 and r[0]['signer'] == '$A'"
echo "ok: --forge-tag, --key-from-other, --time-offset-ms, --repeat, --epoch seen on the wire"

# 4f. Version 2 is the default: without --v1, --v2 or --key, send refuses
# to go out unsigned (exit 2, nothing sent), --key alone signs, --help
# says so; only --v1 sends version 1 (as sections 1 and 2 do).
n_fake=$(wc -l <"$T/fake.log")
usage_err "version 2 needs --key" send --to "$TO" --from-token $A --to-token $C --id 599 --wait-ms 0
sleep 0.2
[ "$(wc -l <"$T/fake.log")" = "$n_fake" ] || or_fail "send without a version or a key sent something"
cli send --to "$TO" --key "$T/a.key" --to-token $C --id 600 --wait-ms 0 >/dev/null ||
	or_fail "send --key (no --v2)"
fake_last 1 "r[0]['version'] == 2 and not r[0]['errors'] and r[0]['msg_id'] == '600' and r[0]['signer'] == '$A'"
cli send --to "$TO" --v1 --from-token $A --to-token $C --id 601 --wait-ms 0 >/dev/null ||
	or_fail "send --v1"
fake_last 1 "r[0]['version'] == 1 and not r[0]['errors'] and r[0]['msg_id'] == '601'"
cli --help | tr '\n' ' ' | grep -q 'else version 2\.' || or_fail "--help does not name version 2 as the default"
cp "$T/a.key" "$T/open.key"
chmod 644 "$T/open.key"
usage_err "is for version 2" send --to 127.0.0.1 --from-token $A --to-token $B --v1 --key "$T/a.key"
usage_err "is for version 2" send --to 127.0.0.1 --v1 --from-token $A --to-token $B --forge-tag
usage_err "needs --key" send --to 127.0.0.1 --from-token $A --to-token $B --v2
usage_err "exclude each other" send --to 127.0.0.1 --key "$T/a.key" --to-token $B --v1 --v2
usage_err "exclude each other" send --to 127.0.0.1 --key "$T/a.key" --to-token $B --forge-tag --key-from-other "$T/b.key"
usage_err "not the token" send --to 127.0.0.1 --key "$T/a.key" --from-token $B --to-token $B
usage_err "chmod 600" send --to 127.0.0.1 --key "$T/open.key" --to-token $B
usage_err "No such file" send --to 127.0.0.1 --key "$T/none.key" --to-token $B
usage_err "--repeat" send --to 127.0.0.1 --key "$T/a.key" --to-token $B --repeat 0
usage_err "--time-offset-ms" send --to 127.0.0.1 --key "$T/a.key" --to-token $B --time-offset-ms 1x
usage_err "exclude each other" recv --listen 127.0.0.1:0 --v1 --v2
usage_err "needs --secret" keygen
usage_err "open-key needs" open-key --secret "$T/a.secret" --epoch 5 --out "$T/y.key"
echo "ok: version 2 by default (no key: refused, nothing sent), version 1 only with --v1; version-2 command line errors"

# ---------------------------------------------------------------------------
echo "5. optroute-pcapgen and optroute-pcapcheck.py, version 2"
# Signed frames, the same bytes again for the same --send-time-ms; every
# MSG's tag right under AES-128(K_auth, sender) (computed here).
KAUTH=000102030405060708090a0b0c0d0e0f
printf '%s in 1\n%s in 1\n%s out 0\n' $A $B $C >"$T/entries.txt"
for n in 1 2; do
	"$BIN/optroute-pcapgen" -o "$T/v2_$n.pcap" -l "$T/v2.man" -e "$T/entries.txt" \
		-n 40 -b 30 -x 10 -m --dst-mac 02:00:00:00:01:01 --dst-ip 192.0.2.1 \
		--auth-key $KAUTH --epoch 6 --send-time-ms 1700000000000 2>/dev/null ||
		or_fail "pcapgen --auth-key"
done
cmp -s "$T/v2_1.pcap" "$T/v2_2.pcap" || or_fail "pcapgen --send-time-ms: not reproducible"
# Version 2 is pcapgen's default too: no unsigned frames without --v1.
rc=0
"$BIN/optroute-pcapgen" -o "$T/nokey.pcap" -e "$T/entries.txt" -n 4 \
	--dst-mac 02:00:00:00:01:01 --dst-ip 192.0.2.1 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -q 'version 2 needs --auth-key' "$T/err" && [ ! -s "$T/nokey.pcap" ] ||
	or_fail "pcapgen without --v1 or --auth-key: exit $rc, $(cat "$T/err")"
# pcapcheck against outputs made here as the appliance would (its rewrites
# with bounces signed by lib/orauth.py): passes with and without
# --auth-key; a bounce not signed anew fails both, a wrong tag fails with it.
python3 - "$T" $KAUTH <<'PY' || or_fail "pcapgen/pcapcheck version 2"
import importlib.util, json, os, struct, subprocess, sys
from orauth import HDR2, bounce2, sender_key, tag_ok
T, ka = sys.argv[1], bytes.fromhex(sys.argv[2])
spec = importlib.util.spec_from_file_location('pc', 'tests/tools/optroute-pcapcheck.py')
pc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pc)
frames = pc.read_pcap(T + '/v2_1.pcap')
man = [l.split() for l in open(T + '/v2.man')]
msgs = 0
for f, m in zip(frames, man):
    h = f[pc.l2_len(f) + 28:]
    if m[1] in ('deliver', 'bounce') or m[2:] == ['sender_not_opted_in']:
        assert HDR2.unpack(h[:68])[1:5] == (2, 1, 0, 6), m
        assert HDR2.unpack(h[:68])[10] == 1700000000000, m
        assert tag_ok(h, sender_key(ka, h[16:32])), m
        msgs += 1
assert msgs >= 40, msgs
# -m: version 2's own drops, each with the one fault it is named for.
kind = {m[2]: (f, frames[i - 1]) for i, (f, m) in enumerate(zip(frames, man))
        if m[1] == 'drop' and len(m) > 2}
hd = lambda f: f[pc.l2_len(f) + 28:][:68]
ks = lambda h: sender_key(ka, h[16:32])
h = hd(kind['unknown_epoch'][0]); assert h[5] == 6 ^ 0x80 and tag_ok(h, ks(h))
h = hd(kind['bad_tag'][0]); assert h[5] == 6 and not tag_ok(h, ks(h))
h = hd(kind['stale'][0])
assert tag_ok(h, ks(h)) and HDR2.unpack(h)[10] == 1700000000000 - 3600000
assert kind['replay'][0] == kind['replay'][1] and tag_ok(hd(kind['replay'][0]), ks(hd(kind['replay'][0])))
assert hd(kind['bad_version'][0])[2] == 1
# docs/protocol.md section 11: K_sender of token 10..1f under K_auth 00..0f.
assert sender_key(bytes(range(16)), bytes(range(0x10, 0x20))).hex() == \
    '07feef74e1d5036e900eee118e949293'
port = {'mac': pc.mac('02:00:00:00:01:01'), 'ip': pc.ip4('192.0.2.1'), 'port': 7040}
nh = {'mac': pc.mac('02:00:00:00:03:01'), 'ip': pc.ip4('203.0.113.5'), 'port': 7041}
eg = {'mac': pc.mac('02:00:00:00:02:01'), 'ip': pc.ip4('203.0.113.1'), 'port': 7040}
cl, dl, st = [], [], {'rx': len(frames), 'delivered': 0, 'bounced': 0,
                      'arp_replies': 0, 'dropped': 0}
for f, m in zip(frames, man):
    if m[1] == 'deliver':
        dl.append(pc.expect_deliver(f, nh, eg)); st['delivered'] += 1
    elif m[1] == 'bounce':
        b = pc.expect_bounce(f, port, ka)
        l = pc.l2_len(f) + 28
        assert b[l:l + 68] == bounce2(f[l:], sender_key(ka, f[l + 16:l + 32])), m
        cl.append(b); st['bounced'] += 1
    elif m[1] == 'arp':
        cl.append(pc.expect_arp(f, port)); st['arp_replies'] += 1
    else:
        st['dropped'] += 1
        st['drop_' + m[2]] = st.get('drop_' + m[2], 0) + 1
st['tx'] = st['delivered'] + st['bounced'] + st['arp_replies']
json.dump(st, open(T + '/stats.json', 'w'))


def write(path, fr):
    with open(path, 'wb') as o:
        o.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for x in fr:
            o.write(struct.pack('<IIII', 0, 0, len(x), len(x)) + x)


def check(client, key):
    write(T + '/c.pcap', client)
    write(T + '/d.pcap', dl)
    r = subprocess.run(['python3', 'tests/tools/optroute-pcapcheck.py',
                        '--in', T + '/v2_1.pcap', '--manifest', T + '/v2.man',
                        '--entries', T + '/entries.txt', '--client-out', T + '/c.pcap',
                        '--deliver-out', T + '/d.pcap',
                        '--client', '02:00:00:00:01:01,192.0.2.1,7040',
                        '--egress', '02:00:00:00:02:01,203.0.113.1,7040',
                        '--nexthop', '1,02:00:00:00:03:01,203.0.113.5,7041',
                        '--stats', T + '/stats.json'] +
                       (['--auth-key', sys.argv[2]] if key else []),
                       capture_output=True, text=True)
    return r.returncode, r.stdout


bi = next(i for i, b in enumerate(cl) if len(b) > 100)
l = pc.l2_len(cl[bi]) + 28
src = frames[[i for i, m in enumerate(man) if m[1] in ('bounce', 'arp')][bi]]
stale = bytearray(cl[bi]); stale[l + 60:l + 68] = src[l + 60:l + 68]
wrong = bytearray(cl[bi]); wrong[l + 60] ^= 1
for key in (True, False):
    rc, out = check(cl, key)
    assert rc == 0, (key, out)
    rc, out = check(cl[:bi] + [pc.take_tag(bytes(stale), bytes(stale))] + cl[bi + 1:], key)
    assert rc == 1 and ('differs at byte' if key else 'not signed anew') in out, (key, out)
rc, out = check(cl[:bi] + [pc.take_tag(bytes(wrong), bytes(wrong))] + cl[bi + 1:], True)
assert rc == 1 and 'differs at byte' in out, out
rc, out = check(cl[:bi] + [pc.take_tag(bytes(wrong), bytes(wrong))] + cl[bi + 1:], False)
assert rc == 0, out     # layout only: the tag is the C tests' to check
print(f"ok: {msgs} signed MSGs; pcapcheck passes {len(cl)} client and {len(dl)} "
      "delivered frames, refuses a bounce not signed anew, and a wrong tag with --auth-key")
PY

echo "client_loopback: all ok"
