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
# sent before the table is filled is dropped; then a python3 client sends
# real UDP MSGs, the "delivery node" socket receives
# the delivered one and the client receives the bounces. Counters are read
# over telemetry. Everything is removed on exit (trap).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
TOOLS=tests/tools
T=$(mktemp -d /tmp/or-dp-tap.XXXXXX)
ID=$$
NS=or_dp_tap_$ID
PREFIX=or_dp_tap_$ID
CIF=orc$ID
DIF=ord$ID
DP_PID=

cleanup() {
	if [ -n "$DP_PID" ] && kill -0 "$DP_PID" 2>/dev/null; then
		kill -KILL "$DP_PID" 2>/dev/null || true
		wait "$DP_PID" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$T" "/var/run/dpdk/$PREFIX"
}
trap cleanup EXIT
# run-all.sh's timeout sends TERM: exit through the EXIT trap, so clean-up runs.
trap 'exit 143' TERM
trap 'exit 130' INT

if ! ip netns add "$NS" 2>"$T/netns.err"; then
	echo "dp_tap: cannot create a network namespace: $(cat "$T/netns.err")"
	exit 1
fi
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up

# Tokens (hex): sender S in (node 1), recipient R in (node 1),
# recipient O opted out, U unknown, X an unknown sender.
S=5e000000000000000000000000000001
R=5e000000000000000000000000000002
O=5e000000000000000000000000000003
U=5e000000000000000000000000000004
X=5e000000000000000000000000000005
printf '%s in 1\n%s in 1\n%s out 1\n' $S $R $O >"$T/entries.txt"

cat >"$T/dp.ini" <<EOF
[eal]
args = --no-huge -m 256 --no-pci --file-prefix=$PREFIX
[dataplane]
channel = $T/dp.sock
table_entries = 1000
idle_sleep_us = 200
[port client]
device = net_tap0,iface=$CIF
workers = 1
ip = 192.0.2.1
mac = 02:00:00:00:01:01
[port delivery]
device = net_tap1,iface=$DIF
ip = 203.0.113.1
mac = 02:00:00:00:02:01
[nexthop 1]
port = delivery
mac = 02:00:00:00:02:05
ip = 203.0.113.5
udp_port = 7041
EOF

# nsenter execs (ip netns exec forks): $! is the dataplane itself.
nsenter --net="/var/run/netns/$NS" "$BIN/optroute-dataplane" -c "$T/dp.ini" >"$T/dp.log" 2>&1 &
DP_PID=$!
python3 "$TOOLS/optroute-telemetry.py" -w 20 -p "$PREFIX" /optroute/stats >/dev/null ||
	{ cat "$T/dp.log"; exit 1; }

# The taps exist now (DPDK made them). The kernel side gets its own MAC,
# no IPv6 (its router solicitations would only add drops), an address.
for i in $(seq 1 50); do in_ns ip link show "$DIF" >/dev/null 2>&1 && break; sleep 0.1; done
for spec in "$CIF 02:00:00:00:00:0a 192.0.2.10/24" "$DIF 02:00:00:00:02:05 203.0.113.5/24"; do
	set -- $spec
	in_ns sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"
	in_ns ip link set "$1" address "$2"
	in_ns ip addr add "$3" dev "$1"
	in_ns ip link set "$1" up
done

# Before the control plane fills the table every MSG is dropped, silently.
in_ns timeout 20 python3 - "$S" "$R" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.10", 40001))
s.settimeout(1.0)
snd, rcp = (bytes.fromhex(h) for h in sys.argv[1:])
s.sendto(struct.pack("!HBBBBBBQ16s16s16sHH", 0x4F52, 1, 1, 0, 0, 0, 0, 9,
                     snd, rcp, bytes(16), 0, 0), ("192.0.2.1", 7040))
try:
    sys.exit(f"answer to a MSG on an empty table: {s.recvfrom(2048)}")
except socket.timeout:
    pass
EOF
for i in $(seq 1 20); do
	python3 "$TOOLS/optroute-telemetry.py" -p "$PREFIX" /optroute/stats >"$T/empty.json"
	grep -q '"drop_sender_not_opted_in": 1' "$T/empty.json" && break
	sleep 0.1
done
# The kernel's ARP request for 192.0.2.1 came first, and was answered.
grep -q '"drop_sender_not_opted_in": 1,' "$T/empty.json" && grep -q '"delivered": 0,' "$T/empty.json" &&
	grep -qE '"arp_replies": [1-9]' "$T/empty.json" ||
	{ echo "empty table:"; cat "$T/empty.json"; exit 1; }

timeout 30 "$BIN/optroute-chanctl" -s "$T/dp.sock" resync "$T/entries.txt"
python3 "$TOOLS/optroute-telemetry.py" -p "$PREFIX" /optroute/clear >/dev/null

in_ns timeout 30 python3 - "$S" "$R" "$O" "$U" "$X" <<'EOF'
import socket, struct, sys

S, R, O, U, X = (bytes.fromhex(h) for h in sys.argv[1:])
APPL = ("192.0.2.1", 7040)
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.bind(("192.0.2.10", 40000))
client.settimeout(0.2)
node = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
node.bind(("203.0.113.5", 7041))
node.settimeout(0.2)

def msg(snd, rcp, msg_id, payload=b"ciphertext!", magic=0x4F52):
    h = struct.pack("!HBBBBBBQ16s16s16sHH", magic, 1, 1, 0, 3, 0, 0, msg_id,
                    snd, rcp, bytes(range(0xa0, 0xb0)), len(payload), 0)
    return h + payload

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
    magic, ver, typ, _, epoch, reason, _, mid = struct.unpack("!HBBBBBBQ", data[:16])
    ids.append(mid)
    orig = sent[mid]
    want = orig[:3] + bytes([2]) + orig[4:6] + bytes([1]) + orig[7:64] + b"\0\0" + orig[66:68]
    if data != want:
        fails.append(f"bounce {mid} differs: {data.hex()} want {want.hex()}")
if sorted(ids) != [2, 3]:
    fails.append(f"bounces for msg ids {sorted(ids)}, want [2, 3]")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
EOF

python3 "$TOOLS/optroute-telemetry.py" -p "$PREFIX" /optroute/stats >"$T/stats.json"
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

kill -TERM "$DP_PID"
timeout 20 tail --pid="$DP_PID" -f /dev/null
wait "$DP_PID" && rc=0 || rc=$?
DP_PID=
cat "$T/dp.log"
[ "$rc" = 0 ] || { echo "optroute-dataplane exited $rc"; exit 1; }
echo "dp_tap: ok"
