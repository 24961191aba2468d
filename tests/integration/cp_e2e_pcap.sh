#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Both daemons end to end on net_pcap vdevs: no hugepages, no NIC, no
# network namespace. optroute-control starts first with a fresh key and
# store; numbers are opted in and out with optroutectl (numbers on stdin):
#   A, B  opted in;  C  opted in then out;  D  never registered.
# A pcap of four MSGs (built with orproto.py: optroute-pcapgen draws its
# pairs at random and cannot take explicit ones) goes to the client port of
# optroute-dataplane, which holds RX until the control plane's full resync
# (start_rx_after_sync = yes), so the frames meet exactly the table the
# control plane pushed:
#   A->B  delivered, rewritten to next hop 1
#   A->C  bounced (C opted out), reason RECIPIENT_UNAVAILABLE
#   A->D  bounced (D never registered)
#   D->A  dropped, counted as sender_not_opted_in
# Every output frame is checked byte for byte by optroute-pcapcheck.py
# (against docs/protocol.md, with the table as optroutectl status reports
# it), every counter too; the MSG bytes are cross-checked with orproto.py.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_need_bins optroute-dataplane optroute-control optroutectl

# The ports of or_ini_appliance (client 192.0.2.1, delivery 203.0.113.1,
# next hop 1 = OR_NODE_MAC, 203.0.113.5:7041), default UDP port.
CLIENT_MAC=02:00:00:00:01:01 CLIENT_IP=192.0.2.1
UDP=7040
NUM_A=+15550720001 NUM_B=+15550720002 NUM_C=+15550720003 NUM_D=+15550720004

{
	echo "; one file for both daemons"
	or_ini_eal
	or_ini_dataplane 1000 "udp_port = $UDP" "start_rx_after_sync = yes" \
		"idle_sleep_us = 100"
	or_ini_appliance "net_pcap0,rx_pcap=$T/in.pcap,tx_pcap=$T/client.pcap" \
		"net_pcap1,tx_pcap=$T/deliver.pcap" 203.0.113
	or_ini_control "node_policy = fixed 1" "wait_timeout_ms = 5000" \
		"channel_retry_ms = 100"
} >"$T/or.ini"
or_key "$T/key"
CTL="$BIN/optroutectl"

# cp_set optin|optout NUMBER: the change without --wait (no dataplane yet).
cp_set() {
	local j
	j=$(echo "$2" | timeout 20 "$CTL" -j "$1" -) || or_fail "$1: $j"
	or_json "$j" 'assert r["ok"], r' || or_fail "$1 failed: $j"
}

# cp_entry NUMBER: the number's record as optroutectl status reports it, in
# optroute-chanctl's entry format (nothing if it has none).
cp_entry() {
	local j
	j=$(echo "$1" | timeout 20 "$CTL" -j status -) || or_fail "status: $j"
	or_json "$j" 'assert r["ok"], r
if r["state"] != "none":
    print(r["token"], r["state"], r["node"])'
}

# 1. The control plane alone: consent changes go to its store.
or_start_cp "$T/or.ini"
cp_set optin "$NUM_A"
cp_set optin "$NUM_B"
cp_set optin "$NUM_C"
cp_set optout "$NUM_C"
A=$(or_token "$NUM_A") B=$(or_token "$NUM_B")
C=$(or_token "$NUM_C") D=$(or_token "$NUM_D")
for n in "$NUM_A" "$NUM_B" "$NUM_C" "$NUM_D"; do cp_entry "$n"; done >"$T/entries.txt"
printf '%s in 1\n%s in 1\n%s out 1\n' "$A" "$B" "$C" | cmp -s - "$T/entries.txt" ||
	or_fail "store state: $(cat "$T/entries.txt")"
echo "ok: A, B in; C out; D none (optroutectl status)"

# 2. The frames, and the manifest of what must become of each.
python3 - "$T" "$A" "$B" "$C" "$D" "$CLIENT_MAC" "$CLIENT_IP" "$UDP" <<'EOF'
import ipaddress, struct, sys
from orproto import MSG, build
t, a, b, c, d = sys.argv[1], *(bytes.fromhex(x) for x in sys.argv[2:6])
dmac = bytes(int(x, 16) for x in sys.argv[6].split(":"))
dip = ipaddress.IPv4Address(sys.argv[7]).packed
sip = ipaddress.IPv4Address("192.0.2.10").packed  # the phone (OR_PHONE_MAC)
port = int(sys.argv[8])

def csum(data):
    data += b"\0" * (len(data) % 2)
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def frame(i, msg):
    udp = struct.pack("!HHHH", 40000 + i, port, 8 + len(msg), 0) + msg
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i,
                               0x4000, 64, 17, 0, sip, dip))
    ip[10:12] = struct.pack("!H", csum(bytes(ip)))
    uc = csum(sip + dip + struct.pack("!BBH", 0, 17, len(udp)) + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", uc) + udp[8:]
    return dmac + bytes.fromhex("02000000000a") + b"\x08\x00" + bytes(ip) + udp

cases = [(a, b, "deliver"), (a, c, "bounce"), (a, d, "bounce"),
         (d, a, "drop sender_not_opted_in")]
with open(f"{t}/in.pcap", "wb") as p, open(f"{t}/manifest.txt", "w") as m:
    p.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, (s, r, want) in enumerate(cases):
        f = frame(i, build(MSG, 0x6532650000 + i, s, r, epoch=0,
                           payload=bytes(range(i, i + 48)), tag=bytes([i]) * 16))
        p.write(struct.pack("<IIII", 1700000000, i, len(f), len(f)) + f)
        m.write(f"{i} {want}\n")
EOF

# 3. The dataplane: RX held until the control plane's full resync.
or_start_dp "$T/or.ini"
or_wait_synced 1
echo "ok: control plane connected and resynced the dataplane"

# net_pcap reads its file once: wait until every frame went through.
or_wait_rx 4
or_telemetry /optroute/stats >"$T/stats.json"

# The control plane sees the same counters (fetched from the dataplane).
or_json "$(timeout 20 "$CTL" -j stats)" '
d = r["dataplane"]
want = {"rx": 4, "delivered": 1, "bounced": 2, "dropped": 1,
        "drop_sender_not_opted_in": 1, "table.entries": 3}
bad = {k: (d.get(k), v) for k, v in want.items() if d.get(k) != v}
assert r["ok"] and not bad, bad' || or_fail "optroutectl stats"
echo "ok: optroutectl stats: 1 delivered, 2 bounced, 1 sender_not_opted_in"

# Clean shutdown: exit 0, and net_pcap flushes its output files.
or_stop DP_PID INT || or_fail "optroute-dataplane exited $?"
or_stop CP_PID || or_fail "optroute-control exited $?"

or_pcapcheck "$T/in.pcap" "$T/manifest.txt" "$T/client.pcap" \
	"$T/deliver.pcap" "$T/stats.json" ||
	or_fail "output frames or counters differ (above)"

# Cross-check with orproto.py: the delivered MSG byte-identical to A->B,
# the bounces orproto.bounce() of A->C and A->D (RECIPIENT_UNAVAILABLE).
python3 - "$T" <<'EOF' || or_fail "orproto cross-check"
import struct, sys
from orproto import bounce

def udp_payloads(path):
    data, off, out = open(path, "rb").read(), 24, []
    while off + 16 <= len(data):
        n = struct.unpack("<I", data[off + 8:off + 12])[0]
        f = data[off + 16:off + 16 + n]
        out.append(f[42:14 + struct.unpack("!H", f[16:18])[0]])
        off += 16 + n
    return out

t = sys.argv[1]
msgs = udp_payloads(f"{t}/in.pcap")
assert udp_payloads(f"{t}/deliver.pcap") == [msgs[0]], "delivery port"
assert udp_payloads(f"{t}/client.pcap") == [bounce(msgs[1], 1),
                                             bounce(msgs[2], 1)], "client port"
EOF
echo "ok: A->B delivered as sent; A->C, A->D bounced (recipient_unavailable)"

if grep -rqa 1555072000 "$T/store" "$T/cp.log" "$T/dp.log"; then
	or_fail "a plain number in the store or a log"
fi
echo "cp_e2e_pcap: ok"
