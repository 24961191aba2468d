#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The whole appliance end to end, as deployed: optroute-dataplane (net_tap
# ports, --no-huge), optroute-control and optroute-exporter (default
# address) in an "appliance" network namespace; the client port's tap moved into a
# "client" namespace where optroute-client sends, the delivery port's tap
# into a "delivery" namespace where `optroute-client recv` plays the
# delivery node. Documentation addresses only:
#
#   ns client    192.0.2.10 --- tap oac<pid> --- port client   192.0.2.1
#   ns delivery  198.51.100.5:7041 - tap oad<pid> - port delivery 198.51.100.1
#   ns appliance: the daemons, /metrics on 127.0.0.1:9140 (its own lo)
#
# Consent changes with optroutectl --wait while messages flow:
#   1. S and R opted in: 5 messages delivered;
#   2. a stream of 120 messages; R opted out in its middle: a prefix is
#      delivered, the rest bounced, each message exactly once;
#   3. R out: 3 messages bounced (recipient_unavailable);
#   4. R back in, S opted out: 3 messages dropped (sender_not_opted_in);
#      U (never opted in) as sender: 2 more dropped.
# Every delivered message (id, tokens, payload) and every bounce (id,
# tokens, reason) is checked one by one. Then /metrics is scraped and its
# counters compared with what was sent; with the dataplane stopped it must
# say optroute_dataplane_up 0. Everything is removed on exit (trap). The
# exporter's own configuration and its life across control plane restarts
# are tests/integration/exporter.sh's.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
NSA=or_e2e_a_$$
NSC=or_e2e_c_$$
NSD=or_e2e_d_$$
CIF=oac$$
DIF=oad$$
RECV_PID=
STREAM_PID=
EXP_PID=
OR_PIDVARS="STREAM_PID RECV_PID EXP_PID $OR_PIDVARS"
OR_LOGS+=("$T/recv.json" "$T/exp.log")
or_fail_extra() {
	[ -n "$DP_PID" ] || return 0
	echo "--- dataplane counters, client neighbours"
	timeout 10 python3 "$TOOLS/optroute-telemetry.py" -p "$PREFIX" \
		/optroute/stats /optroute/channel 2>&1 || true
	ip -n "$NSC" neigh 2>&1 || true
	ip -n "$NSC" -s link 2>&1 || true
	ip -n "$NSD" -s link 2>&1 || true
}

or_netns "$NSA" "$NSC" "$NSD"
in_a() { ip netns exec "$NSA" "$@"; }

{
	echo "; one file for the three daemons; [exporter] left at its defaults (127.0.0.1:9140)"
	or_ini_eal
	or_ini_dataplane 1000 "idle_sleep_us = 200"
	or_ini_tap_appliance 198.51.100
	or_ini_control "node_policy = fixed 1" "wait_timeout_ms = 5000" \
		"channel_retry_ms = 100"
} >"$T/or.ini"
or_key "$T/key"
CLIENT=$BIN/optroute-client

# ---- both daemons ---------------------------------------------------------
# or_start_dp returns once the update channel listens: the ports are
# configured and started, and only then may the taps move (the PMD attaches
# its queues by interface name, in the namespace it runs in).
or_start_dp "$T/or.ini" "$NSA"
# Each tap into its own namespace: the PMD keeps its file descriptors, so
# frames still flow; only the kernel side moves.
ns_take_link "$NSA" "$CIF" "$NSC" "$OR_PHONE_MAC" 192.0.2.10/24 || or_fail "cannot move $CIF"
ns_take_link "$NSA" "$DIF" "$NSD" "$OR_NODE_MAC" 198.51.100.5/24 || or_fail "cannot move $DIF"

or_start_cp "$T/or.ini" "$NSA"
or_wait_synced 1
# The exporter with its defaults: 127.0.0.1:9140, the management socket of
# [control]; nsenter execs, so $! is the exporter itself.
nsenter --net="/var/run/netns/$NSA" "$BIN/optroute-exporter" -c "$T/or.ini" >"$T/exp.log" 2>&1 &
EXP_PID=$!
for _ in $(seq 1 50); do
	grep -q "serving http://127.0.0.1:9140/metrics from $T/cp.sock" "$T/exp.log" && break
	kill -0 "$EXP_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q "serving http://127.0.0.1:9140/metrics from $T/cp.sock" "$T/exp.log" ||
	or_fail "optroute-exporter not serving"
echo "ok: the daemons up, control plane synced, exporter serving"

# ---- consent and tokens ---------------------------------------------------
# Numbers go through stdin (-), never on a command line (or_change, or_token).
S=$(or_change optin +15550800001)
R=$(or_change optin +15550800002)
U=$(or_token +15550800003)
[ "$S" != "$R" ] && [ ${#S} = 32 ] && [ ${#U} = 32 ] || or_fail "tokens: $S $R $U"
echo "ok: S and R opted in (--wait applied)"

# The delivery node, for the whole run: every message delivered lands here.
# Bounded by its own --timeout-ms; nsenter execs, so $! is the receiver
# itself (ip netns exec would fork, and a kill would leave it running).
nsenter --net="/var/run/netns/$NSD" "$CLIENT" recv --listen 198.51.100.5:7041 \
	--timeout-ms 100000 -j >"$T/recv.json" 2>"$T/recv.err" &
# shellcheck disable=SC2034 # (killed through OR_PIDVARS)
RECV_PID=$!
for _ in $(seq 1 50); do
	grep -q '"listening"' "$T/recv.json" 2>/dev/null && break
	sleep 0.1
done
grep -q '"listening"' "$T/recv.json" || or_fail "receiver not listening"

# One optroute-client send run from the client namespace, bounded by its
# own count, interval and wait; exec'd by nsenter (see the receiver).
send() { # send OUTFILE FIRST_ID COUNT PAYLOAD FROM TO [EXTRA...]
	local out=$1 id=$2 n=$3 pl=$4 from=$5 to=$6
	shift 6
	nsenter --net="/var/run/netns/$NSC" "$CLIENT" send --v1 --to 192.0.2.1 \
		--bind 192.0.2.10:40000 --from-token "$from" --to-token "$to" \
		--id "$id" --count "$n" --payload "$pl" -j "$@" >"$out"
}

# Checks one phase: which ids were delivered (with payload and tokens, via
# the receiver's log) and which bounced (reason, tokens, via the sender's).
cat >"$T/check.py" <<'EOF'
import json, sys
recv_file, send_file, first, count, payload, snd, rcp, want = sys.argv[1:9]
first, count = int(first), int(count)
ids = set(range(first, first + count))
msgs = [json.loads(l) for l in open(recv_file) if l.strip()]
delivered = {}
for m in msgs:
    if m.get("event") == "error":
        sys.exit("receiver saw an invalid datagram: %s" % m)
    if m.get("event") == "msg" and int(m["msg_id"]) in ids:
        i = int(m["msg_id"])
        if i in delivered:
            sys.exit("message %d delivered twice" % i)
        if m["sender"] != snd or m["recipient"] != rcp:
            sys.exit("message %d: tokens changed: %s" % (i, m))
        if m.get("payload") != payload:
            sys.exit("message %d: payload %r, want %r" % (i, m.get("payload"), payload))
        if m["from"] != "198.51.100.1:7040":
            sys.exit("message %d: from %s" % (i, m["from"]))
        delivered[i] = m
events = [json.loads(l) for l in open(send_file) if l.strip()]
bounced, noreply, sent = {}, set(), set()
for e in events:
    if e["event"] == "sent":
        sent.add(int(e["msg_id"]))
    elif e["event"] == "bounce":
        i = int(e["msg_id"])
        if e["duplicate"] or i in bounced:
            sys.exit("message %d bounced twice" % i)
        if e["reason"] != "recipient_unavailable" or e["reason_code"] != 1:
            sys.exit("message %d: bounce reason %s" % (i, e))
        if e["sender"] != snd or e["recipient"] != rcp:
            sys.exit("message %d: bounce tokens %s" % (i, e))
        bounced[i] = e
    elif e["event"] == "no_reply":
        noreply.add(int(e["msg_id"]))
    elif e["event"] == "error":
        sys.exit("sender saw an invalid reply: %s" % e)
if sent != ids:
    sys.exit("sent %d of %d messages" % (len(sent), count))
both = set(delivered) & set(bounced)
if both:
    sys.exit("delivered and bounced: %s" % sorted(both))
d, b = sorted(delivered), sorted(bounced)
dropped = ids - set(d) - set(b)
if want == "delivered":
    ok = d == sorted(ids)
elif want == "bounced":
    ok = b == sorted(ids)
elif want == "dropped":
    ok = not d and not b and noreply == ids
elif want == "switch":
    # Delivered, then bounced from the change on; nothing lost or
    # reordered: a prefix of the ids, then the rest.
    ok = (d and b and not dropped and max(d) < min(b))
else:
    sys.exit("bad expectation " + want)
if not ok:
    sys.exit("want %s: delivered %s, bounced %s, dropped %s" % (want, d, b, sorted(dropped)))
print("%d %d %d" % (len(d), len(b), len(dropped)))
EOF
check() { # check SENDFILE FIRST COUNT PAYLOAD FROM TO WANT -> $T/res "D B X"
	timeout 10 python3 "$T/check.py" "$T/recv.json" "$@" >"$T/res" ||
		or_fail "check $*"
}
wait_recv() { # wait_recv N: until N messages delivered in all
	for _ in $(seq 1 50); do
		[ "$(grep -c '"event":"msg"' "$T/recv.json" || true)" -ge "$1" ] && return 0
		sleep 0.1
	done
	or_fail "receiver has $(grep -c '"event":"msg"' "$T/recv.json" || true) messages, want $1"
}

# 1. Both in: delivered.
send "$T/p1.json" 1000 5 "phase-one" "$S" "$R" --interval-ms 20 --wait-ms 500 \
	--expect none || or_fail "phase 1 send: $(cat "$T/p1.json")"
wait_recv 5
check "$T/p1.json" 1000 5 "phase-one" "$S" "$R" delivered
read -r D1 B1 X1 <"$T/res"
echo "ok: phase 1: $D1 delivered (ids, tokens, payloads checked)"

# 2. R opted out in the middle of a stream.
nsenter --net="/var/run/netns/$NSC" "$CLIENT" send --v1 --to 192.0.2.1 \
	--bind 192.0.2.10:40000 --from-token "$S" --to-token "$R" --id 2000 \
	--count 120 --payload stream -j --interval-ms 25 --wait-ms 1500 \
	>"$T/p2.json" &
STREAM_PID=$!
wait_recv 7 # the stream is flowing
or_change optout +15550800002 >/dev/null
wait "$STREAM_PID" || or_fail "stream send failed: $(tail -n 3 "$T/p2.json")"
STREAM_PID=
sleep 0.3 # last deliveries reach the receiver
check "$T/p2.json" 2000 120 "stream" "$S" "$R" switch
read -r D2 B2 X2 <"$T/res"
echo "ok: phase 2: stream of 120, recipient opted out mid-stream: $D2 delivered then $B2 bounced"

# 3. R out: every message bounced.
send "$T/p3.json" 3000 3 "phase-three" "$S" "$R" --wait-ms 2000 --expect bounce ||
	or_fail "phase 3 send: $(cat "$T/p3.json")"
check "$T/p3.json" 3000 3 "phase-three" "$S" "$R" bounced
read -r D3 B3 X3 <"$T/res"
echo "ok: phase 3: $B3 bounced (recipient_unavailable, tokens checked)"

# 4. R back in, S out: dropped (the sender check comes first); U never in.
or_change optin +15550800002 >/dev/null
or_change optout +15550800001 >/dev/null
send "$T/p4.json" 4000 3 "phase-four" "$S" "$R" --wait-ms 700 --expect none ||
	or_fail "phase 4 send: $(cat "$T/p4.json")"
send "$T/p5.json" 5000 2 "phase-five" "$U" "$R" --wait-ms 700 --expect none ||
	or_fail "phase 5 send: $(cat "$T/p5.json")"
sleep 0.3
check "$T/p4.json" 4000 3 "phase-four" "$S" "$R" dropped
read -r D4 B4 X4 <"$T/res"
check "$T/p5.json" 5000 2 "phase-five" "$U" "$R" dropped
read -r D5 B5 X5 <"$T/res"
echo "ok: phase 4: $X4 dropped (sender opted out), $X5 dropped (sender never opted in)"

or_stop RECV_PID || true
[ "$(grep -c '"event":"msg"' "$T/recv.json")" = $((D1 + D2)) ] ||
	or_fail "receiver got $(grep -c '"event":"msg"' "$T/recv.json") messages, want $((D1 + D2))"

# ---- /metrics -------------------------------------------------------------
cat >"$T/scrape.py" <<'EOF'
import json, re, sys, urllib.request, urllib.error
url = "http://127.0.0.1:9140"
def get(path, method="GET"):
    req = urllib.request.Request(url + path, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, ""
status, headers, text = get("/metrics")
assert status == 200, status
assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
assert get("/")[0] == 404 and get("/metricsx")[0] == 404
s405, h405, _ = get("/metrics", "POST")
assert s405 == 405 and "GET" in h405["Allow"], s405
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')
lab_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
samples, types, seen, cur = {}, {}, [], None
for l in text.splitlines():
    if l.startswith("# HELP "):
        cur = l.split()[2]
        assert cur not in seen, "family twice: " + cur
        seen.append(cur)
    elif l.startswith("# TYPE "):
        _, _, name, typ = l.split()
        assert name == cur, l
        types[name] = typ
        assert typ != "counter" or name.endswith("_total"), l
    else:
        m = line_re.match(l)
        assert m and m.group(1) == cur, "bad or misplaced sample: " + l
        labels = tuple(sorted(lab_re.findall(m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))
json.dump({"samples": [[k[0], dict(k[1]), v] for k, v in samples.items()],
           "text": text}, sys.stdout)
EOF
scrape() { in_a timeout 20 python3 "$T/scrape.py" >"$T/$1" || or_fail "scrape failed"; }
scrape metrics1.json
cat >"$T/expect.py" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
want = json.loads(sys.argv[2])
got = {}
for name, labels, v in d["samples"]:
    got[name + "".join(sorted("|%s=%s" % kv for kv in labels.items()))] = v
bad = []
for k, v in want.items():
    if isinstance(v, str):  # ">=N"
        if got.get(k, -1) < float(v[2:]):
            bad.append("%s = %s, want %s" % (k, got.get(k), v))
    elif got.get(k) != v:
        bad.append("%s = %s, want %s" % (k, got.get(k), v))
for k in json.loads(sys.argv[3]) if len(sys.argv) > 3 else []:
    if any(g.startswith(k) for g in got):
        bad.append("%s present" % k)
if bad:
    sys.exit("\n".join(bad))
EOF
DELIV=$((D1 + D2))
BOUNCE=$((B2 + B3))
DROP_SENDER=$((X4 + X5))
SENT=$((5 + 120 + 3 + 3 + 2))
timeout 10 python3 "$T/expect.py" "$T/metrics1.json" "{
	\"optroute_dataplane_up\": 1,
	\"optroute_channel_connected\": 1,
	\"optroute_channel_lag\": 0,
	\"optroute_channel_acked_seq\": 5,
	\"optroute_channel_committed_seq\": 5,
	\"optroute_dataplane_delivered_total\": $DELIV,
	\"optroute_dataplane_bounced_total\": $BOUNCE,
	\"optroute_dataplane_drops_total|reason=sender_not_opted_in\": $DROP_SENDER,
	\"optroute_port_delivered_total|port=client\": $DELIV,
	\"optroute_port_bounced_total|port=client\": $BOUNCE,
	\"optroute_port_tx_frames_total|port=delivery\": \">=$DELIV\",
	\"optroute_port_rx_frames_total|port=client\": \">=$SENT\",
	\"optroute_dataplane_arp_replies_total\": \">=1\",
	\"optroute_table_entries\": 2,
	\"optroute_table_capacity\": \">=2\",
	\"optroute_table_load\": \">=0.000001\",
	\"optroute_updater_connected\": 1,
	\"optroute_store_entries\": 2,
	\"optroute_store_opted_in_entries\": 1,
	\"optroute_store_opted_out_entries\": 1,
	\"optroute_store_last_seq\": 5,
	\"optroute_store_commit_changes_total\": 5,
	\"optroute_control_changes_total|action=optin\": 3,
	\"optroute_control_changes_total|action=optout\": 2,
	\"optroute_control_waits_total\": 5,
	\"optroute_control_errors_total\": 0,
	\"optroute_control_requests_total\": \">=8\",
	\"optroute_control_up\": 1,
	\"optroute_metrics_fetches_total\": 1,
	\"optroute_metrics_fetch_failures_total\": 0
}" || or_fail "metrics do not match what was sent"
# Every frame on the client port is accounted for (docs/dataplane.md).
timeout 10 python3 - "$T/metrics1.json" <<'EOF' || or_fail "client port counters do not add up"
import json, sys
s = {(n, tuple(sorted(l.items()))): v for n, l, v in json.load(open(sys.argv[1]))["samples"]}
p = (("port", "client"),)
rx = s[("optroute_port_rx_frames_total", p)]
parts = sum(s.get((n, p), 0) for n in ("optroute_port_delivered_total",
    "optroute_port_bounced_total", "optroute_port_dropped_total"))
arp = s[("optroute_dataplane_arp_replies_total", ())]
assert rx == parts + arp, (rx, parts, arp)
EOF
if grep -q 1555080 "$T/metrics1.json" || grep -qi -e "$S" -e "$R" -e "$U" "$T/metrics1.json"; then
	or_fail "a number or a token in /metrics"
fi
echo "ok: /metrics: delivered $DELIV, bounced $BOUNCE, dropped sender_not_opted_in $DROP_SENDER, table 2 entries, dataplane_up 1; 404/405; no number or token"

# A scrape within max age is served from the cache: no new stats request.
scrape metrics2.json
timeout 10 python3 "$T/expect.py" "$T/metrics2.json" '{"optroute_metrics_scrapes_total": 2}' ||
	or_fail "second scrape"

# stats --clear: the reply has the counters before the clear, and the
# dataplane's counters read zero afterwards (through the channel).
j=$(timeout 20 "$BIN/optroutectl" -j stats --clear) || or_fail "stats --clear: $j"
or_json "$j" "assert r['cleared'] and r['dataplane']['delivered'] == $DELIV, r['dataplane']" ||
	or_fail "stats --clear reply"
j=$(timeout 20 "$BIN/optroutectl" -j stats) || or_fail "stats: $j"
or_json "$j" "d = r['dataplane']; assert d['delivered'] == 0 and d['bounced'] == 0 and d['drop_sender_not_opted_in'] == 0, d" ||
	or_fail "dataplane counters not cleared"
echo "ok: optroutectl stats --clear clears the dataplane's counters"

# Dataplane gone: up 0 and none of its series; control figures remain.
or_stop DP_PID || or_fail "optroute-dataplane exited $?"
sleep 1.1 # past [exporter] max_age_ms
scrape metrics3.json
timeout 10 python3 "$T/expect.py" "$T/metrics3.json" '{
	"optroute_dataplane_up": 0,
	"optroute_channel_connected": 0,
	"optroute_store_entries": 2
}' '["optroute_table_", "optroute_port_", "optroute_updater_", "optroute_dataplane_delivered"]' ||
	or_fail "metrics without a dataplane"
echo "ok: /metrics without a dataplane: optroute_dataplane_up 0, its series left out"

or_stop EXP_PID || or_fail "optroute-exporter exited $?"
or_stop CP_PID || or_fail "optroute-control exited $?"
grep -q "stopped" "$T/cp.log" || or_fail "optroute-control did not stop cleanly"
if grep -rqa 1555080 "$T/store" "$T/cp.log" "$T/dp.log"; then
	or_fail "a plain number in the store or a log"
fi
echo "e2e_appliance: ok"
