#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# optroute-dataplane with two workers on net_pcap, no hugepages, no NIC.
# The client port has two RX queues (one pcap each) served by worker lcores
# 1 and 2, which share CPU 1 ([eal] lcore_cpus = 2@1; this machine may have
# two CPUs). Each worker sends on its own TX queue of every port (one pcap
# per queue), so the output of queue i is exactly what input i must give:
# every frame is checked byte for byte by optroute-pcapcheck.py against
# that worker's own counters (/optroute/workers,LCORE), and the totals
# (/optroute/stats) are their sums. The table is filled over the channel
# first, its ACK waiting for both workers' quiescent states.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup

CLIENT_MAC=02:00:00:00:01:01 CLIENT_IP=192.0.2.1
EGRESS_MAC=02:00:00:00:02:01 EGRESS_IP=203.0.113.1
UDP=7040

# 80 entries, every 5th opted out, nodes 1 and 2.
or_gen_entries 80 dp-mw 5

for q in 0 1; do
	"$BIN/optroute-pcapgen" -o "$T/in$q.pcap" -l "$T/manifest$q.txt" \
		-e "$T/entries.txt" -N 1,2 -n 400 -b 20 -x 10 -m -s $((q + 11)) \
		--dst-mac $CLIENT_MAC --dst-ip $CLIENT_IP --dst-port $UDP --v1
done

{
	or_ini_eal
	echo "lcore_cpus = 2@1"
	or_ini_dataplane 1000 "udp_port = $UDP" "start_rx_after_sync = yes" \
		"idle_sleep_us = 100"
	or_ini_port client "net_pcap0,rx_pcap=$T/in0.pcap,rx_pcap=$T/in1.pcap,
  tx_pcap=$T/client0.pcap,tx_pcap=$T/client1.pcap" $CLIENT_IP $CLIENT_MAC \
		"workers = 1,2"
	or_ini_port delivery "net_pcap1,tx_pcap=$T/deliver0.pcap,
  tx_pcap=$T/deliver1.pcap" $EGRESS_IP $EGRESS_MAC
	cat <<EOF
[nexthop 1]
port = delivery
mac = 02:00:00:00:02:05
ip = 203.0.113.5
udp_port = 7041
[nexthop 2]
port = delivery
mac = 02:00:00:00:02:06
ip = 203.0.113.6
EOF
} >"$T/dp.ini"
or_start_dp "$T/dp.ini"

timeout 30 "$BIN/optroute-chanctl" -s "$T/dp.sock" -t 10000 resync "$T/entries.txt"
timeout 20 "$BIN/optroute-chanctl" -s "$T/dp.sock" hello >"$T/hello.txt"
grep -qx "workers 2" "$T/hello.txt" && grep -qx "entries 80" "$T/hello.txt" ||
	{ echo "HELLO:"; cat "$T/hello.txt"; exit 1; }

or_wait_rx $(($(wc -l <"$T/manifest0.txt") + $(wc -l <"$T/manifest1.txt")))
or_telemetry /optroute/stats >"$T/stats.json"
for l in 1 2; do
	or_telemetry "/optroute/workers,$l" >"$T/w$l.json"
done

rc=0
or_stop DP_PID INT || rc=$?
cat "$T/dp.log"
[ "$rc" = 0 ] || { echo "optroute-dataplane exited $rc"; exit 1; }

# Worker lcore 1+q served RX queue q and sent on TX queue q: its counters
# are what input q gives. The totals are the sums.
python3 - "$T" <<'EOF'
import json, sys
t = sys.argv[1]
tot = json.load(open(f"{t}/stats.json"))["/optroute/stats"]
sums = {}
for q, l in ((0, 1), (1, 2)):
    w = next(iter(json.load(open(f"{t}/w{l}.json")).values()))
    assert w.pop("lcore") == l and w.pop("rx_queues") == 1, w
    assert w["rx"] > 0, f"worker {l} received nothing"
    # Its own poll counters: it received in some polls, and its busy
    # cycles are at least a cycle a frame.
    p = {k: w.pop(k) for k in ("busy_polls", "idle_polls", "busy_cycles",
                               "idle_cycles", "tsc_hz")}
    assert 0 < p["busy_polls"] <= w["rx"], p
    assert p["busy_cycles"] >= w["rx"] and p["tsc_hz"] > 0, p
    json.dump({"/optroute/stats": w}, open(f"{t}/stats_q{q}.json", "w"))
    for k, v in w.items():
        sums[k] = sums.get(k, 0) + v
bad = {k: (v, sums.get(k)) for k, v in tot.items() if v != sums.get(k)}
if bad:
    sys.exit(f"totals are not the sums of the workers: {bad}")
EOF
for q in 0 1; do
	or_pcapcheck "$T/in$q.pcap" "$T/manifest$q.txt" "$T/client$q.pcap" \
		"$T/deliver$q.pcap" "$T/stats_q$q.json" \
		--nexthop 2,02:00:00:00:02:06,203.0.113.6,$UDP
done
echo "dp_multiworker: ok"
