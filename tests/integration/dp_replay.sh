#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The replay filter across workers (docs/protocol.md section 5, replay.md):
# optroute-dataplane with protocol version 2 and two workers on net_pcap,
# no hugepages, no NIC. The client port's two RX queues (lcores 1 and 2,
# sharing CPU 1) read the SAME pcap of signed MSGs, so every MSG arrives
# twice, once on each queue and worker: exactly one copy of each must be
# delivered and the other dropped as `replay`, whichever worker saw it
# first. Then the same frames once more on a third pass: all replays.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup

CLIENT_MAC=02:00:00:00:01:01 CLIENT_IP=192.0.2.1
EGRESS_MAC=02:00:00:00:02:01 EGRESS_IP=203.0.113.1
N=300

# 60 entries, all opted in (no bounce: every MSG is delivered or a replay).
or_gen_entries 60 dp-rp 1000
KAUTH=$(python3 -c 'import os; print(os.urandom(16).hex())')
NOW_MS=$(python3 -c 'import time; print(int(time.time() * 1000))')
"$BIN/optroute-pcapgen" -o "$T/in.pcap" -e "$T/entries.txt" -N 1,2 -n $N \
	-b 0 -x 0 -s 5 --dst-mac $CLIENT_MAC --dst-ip $CLIENT_IP \
	--auth-key "$KAUTH" --epoch 0 --send-time-ms "$NOW_MS"

{
	or_ini_eal
	echo "lcore_cpus = 2@1"
	OR_AUTH=yes or_ini_dataplane 1000 "start_rx_after_sync = yes" \
		"idle_sleep_us = 100" "replay_capacity = 100000"
	or_ini_port client "net_pcap0,rx_pcap=$T/in.pcap,rx_pcap=$T/in.pcap,
  tx_pcap=$T/client0.pcap,tx_pcap=$T/client1.pcap" $CLIENT_IP $CLIENT_MAC \
		"workers = 1,2"
	or_ini_port delivery "net_pcap1,tx_pcap=$T/deliver0.pcap,
  tx_pcap=$T/deliver1.pcap" $EGRESS_IP $EGRESS_MAC
	printf '[nexthop 1]\nport = delivery\nmac = 02:00:00:00:02:05\nip = 203.0.113.5\n'
	printf '[nexthop 2]\nport = delivery\nmac = 02:00:00:00:02:06\nip = 203.0.113.6\n'
} >"$T/dp.ini"
or_start_dp "$T/dp.ini"

# Keys first, then the table: RX opens with the resync, every tag verifies.
timeout 30 "$BIN/optroute-chanctl" -s "$T/dp.sock" -q auth-keys 0 "$KAUTH"
timeout 30 "$BIN/optroute-chanctl" -s "$T/dp.sock" -t 10000 resync "$T/entries.txt"
or_wait_rx $((2 * N))
or_telemetry /optroute/stats >"$T/stats.json"
for l in 1 2; do
	or_telemetry "/optroute/workers,$l" >"$T/w$l.json"
done
or_telemetry /optroute/auth >"$T/auth.json"
python3 - "$T" "$N" <<'EOF'
import json, sys
t, n = sys.argv[1], int(sys.argv[2])
s = json.load(open(f"{t}/stats.json"))["/optroute/stats"]
a = json.load(open(f"{t}/auth.json"))["/optroute/auth"]
ws = [next(iter(json.load(open(f"{t}/w{l}.json")).values())) for l in (1, 2)]
assert [w["rx"] for w in ws] == [n, n], [w["rx"] for w in ws]
assert s["delivered"] == n, f"delivered {s['delivered']}, want {n} (one copy each)"
assert s["drop_replay"] == n, f"drop_replay {s['drop_replay']}, want {n}"
assert s["dropped"] == n and s["bounced"] == 0, s
assert a["replay_seen"] == n and a["replay_full"] == 0, a
# Both workers saw frames first (the copies race), and every frame that
# one worker delivered the other dropped: per worker, rx = delivered +
# replays.
for w in ws:
    assert w["rx"] == w["delivered"] + w["drop_replay"], w
print("per worker delivered/replay:", [(w["delivered"], w["drop_replay"]) for w in ws])
EOF

# The delivered copies are exactly the MSGs of the pcap, each once.
python3 - "$T/in.pcap" "$T/deliver0.pcap" "$T/deliver1.pcap" <<'EOF' || or_fail "delivered frames"
import struct, sys
def frames(path):
    d = open(path, "rb").read()
    off, out = 24, []
    while off + 16 <= len(d):
        incl = struct.unpack_from("<I", d, off + 8)[0]
        out.append(d[off + 16:off + 16 + incl])
        off += 16 + incl
    return out
# The OR header (at 42, untagged): unchanged on delivery.
sent = sorted(f[42:42 + 68] for f in frames(sys.argv[1]))
got = sorted(f[42:42 + 68] for p in sys.argv[2:] for f in frames(p))
if sent != got:
    sys.exit(f"{len(got)} delivered headers, {len(sent)} sent; equal: {sent == got}")
EOF
rc=0
or_stop DP_PID INT || rc=$?
[ "$rc" = 0 ] || or_fail "optroute-dataplane exited $rc"
echo "dp_replay: ok"
