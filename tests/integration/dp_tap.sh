#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# optroute-dataplane with real kernel traffic: two net_tap ports inside a
# network namespace this test creates (documentation addresses only).
#
#   kernel "client" 192.0.2.10 --- tap orc<pid> --- port client 192.0.2.1
#   kernel "node"  203.0.113.5 --- tap ord<pid> --- port delivery 203.0.113.1
#
# The kernel resolves 192.0.2.1 by ARP (answered by the dataplane); a MSG
# sent before the table is synced is dropped (not_synced); then a python3
# client sends real UDP MSGs, the "delivery node" socket receives
# the delivered one and the client receives the bounces. Counters are read
# over telemetry. Everything is removed on exit (trap).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_tap_ns

# Tokens (hex): sender S in (node 1), recipient R in (node 1),
# recipient O opted out, U unknown, X an unknown sender.
S=5e000000000000000000000000000001
R=5e000000000000000000000000000002
O=5e000000000000000000000000000003
U=5e000000000000000000000000000004
X=5e000000000000000000000000000005
printf '%s in 1\n%s in 1\n%s out 1\n' $S $R $O >"$T/entries.txt"

{
	or_ini_eal
	or_ini_dataplane 1000 "idle_sleep_us = 200"
	or_ini_tap_appliance 203.0.113
} >"$T/dp.ini"
or_start_dp "$T/dp.ini" "$NS"
# The taps exist now (DPDK made them). The kernel side gets its own MAC,
# no IPv6 (its router solicitations would only add drops), an address.
or_tap_peers 203.0.113

# Before the first resync every MSG is dropped, silently, and counted as
# not synced (docs/dataplane.md, "Before the first resync").
in_ns timeout 20 python3 - "$S" "$R" <<'EOF'
import socket, sys
from orproto import MSG, build
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.10", 40001))
s.settimeout(1.0)
snd, rcp = (bytes.fromhex(h) for h in sys.argv[1:])
s.sendto(build(MSG, 9, snd, rcp), ("192.0.2.1", 7040))
try:
    sys.exit(f"answer to a MSG on an empty table: {s.recvfrom(2048)}")
except socket.timeout:
    pass
EOF
for i in $(seq 1 20); do
	or_telemetry /optroute/stats >"$T/empty.json"
	grep -q '"drop_not_synced": 1' "$T/empty.json" && break
	sleep 0.1
done
# The kernel's ARP request for 192.0.2.1 came first, and was answered.
grep -q '"drop_not_synced": 1,' "$T/empty.json" && grep -q '"drop_sender_not_opted_in": 0,' "$T/empty.json" &&
	grep -q '"delivered": 0,' "$T/empty.json" &&
	grep -qE '"arp_replies": [1-9]' "$T/empty.json" ||
	{ echo "empty table:"; cat "$T/empty.json"; exit 1; }

timeout 30 "$BIN/optroute-chanctl" -s "$T/dp.sock" resync "$T/entries.txt"
or_telemetry /optroute/clear >/dev/null

in_ns timeout 30 python3 - "$S" "$R" "$O" "$U" "$X" <<'EOF'
import socket, sys
from orproto import HDR, MSG, build, bounce

S, R, O, U, X = (bytes.fromhex(h) for h in sys.argv[1:])
APPL = ("192.0.2.1", 7040)
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.bind(("192.0.2.10", 40000))
client.settimeout(0.2)
node = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
node.bind(("203.0.113.5", 7041))
node.settimeout(0.2)

def msg(snd, rcp, msg_id, payload=b"ciphertext!", magic=0x4F52):
    return build(MSG, msg_id, snd, rcp, epoch=3, payload=payload, magic=magic,
                 tag=bytes(range(0xa0, 0xb0)))

def drain(sock, want, secs):
    got = []
    for _ in range(int(secs / 0.2)):
        try:
            got.append(sock.recvfrom(2048))
        except socket.timeout:
            if len(got) >= want:
                break
    return got

sent = {
    1: msg(S, R, 1),           # delivered
    2: msg(S, O, 2),           # bounced: opted out
    3: msg(S, U, 3),           # bounced: never registered
    4: msg(X, R, 4),           # dropped: sender not opted in
    5: msg(S, R, 5, magic=0x1234),  # dropped: bad magic
}
for k in sorted(sent):
    client.sendto(sent[k], APPL)

fails = []
delivered = drain(node, 1, 3)
if len(delivered) != 1:
    fails.append(f"delivery node got {len(delivered)} datagrams, want 1")
else:
    data, src = delivered[0]
    if src != ("203.0.113.1", 7040):
        fails.append(f"delivered from {src}")
    if data != sent[1]:
        fails.append("delivered datagram differs from what was sent")

bounces = drain(client, 2, 3)
ids = []
for data, src in bounces:
    if src != APPL:
        fails.append(f"bounce from {src}")
    if len(data) != 68:
        fails.append(f"bounce of {len(data)} bytes")
        continue
    mid = HDR.unpack(data)[7]
    ids.append(mid)
    # The sent header, type BOUNCE, reason 1, payload_len 0, no payload.
    want = bounce(sent[mid], 1)
    if data != want:
        fails.append(f"bounce {mid} differs: {data.hex()} want {want.hex()}")
if sorted(ids) != [2, 3]:
    fails.append(f"bounces for msg ids {sorted(ids)}, want [2, 3]")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
EOF

or_telemetry /optroute/stats >"$T/stats.json"
cat "$T/stats.json"
python3 - "$T/stats.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["/optroute/stats"]
want = {"delivered": 1, "bounced": 2, "drop_sender_not_opted_in": 1,
        "drop_bad_magic": 1}
fails = [f"{k} = {s[k]}, want {v}" for k, v in want.items() if s[k] != v]
if s["tx"] != s["delivered"] + s["bounced"] + s["arp_replies"]:
    fails.append(f"tx {s['tx']} != delivered + bounced + arp_replies")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
EOF

rc=0
or_stop DP_PID || rc=$?
cat "$T/dp.log"
[ "$rc" = 0 ] || { echo "optroute-dataplane exited $rc"; exit 1; }
echo "dp_tap: ok"
