#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# kill -9 of optroute-dataplane while messages flow and consent changes are
# being pushed, with the real optroute-control (version-1 frames, auth =
# no; documentation addresses only, as in cp_e2e_tap.sh):
#
#   kernel "client" 192.0.2.10 --- tap orc<pid> --- port client 192.0.2.1
#   kernel "node"  203.0.113.5 --- tap ord<pid> --- port delivery 203.0.113.1
#
# A driver (inside the namespace) sends a MSG every few milliseconds, each
# fourth between two phones that stay opted in (probes), the others between
# two of six phones, and records each one's outcome (delivered to the node,
# bounced to the client, or nothing); meanwhile it opts five of the six in
# and out over the management socket and polls how far the dataplane has
# acked. Mid-way the dataplane is killed (-9) and restarted, and the sixth
# phone opts out while it is down. The restarted one's update channel comes
# up under another name and is moved to the control plane's path only after
# a while, so for that while it runs with an empty table and no control
# plane (in production: the reconnect delay and the resync). Checked:
#  - before its first resync the restarted dataplane decides nothing: it
#    receives MSGs and delivers, bounces or drops for a consent reason
#    none of them; they are counted as drop_not_synced; ARP is answered;
#    nothing sent after the kill comes back before the control plane could
#    resync it;
#  - every frame, before the kill and after the resync, has the outcome the
#    store's states of its sender and recipient give (both in: delivered;
#    sender in, recipient not: bounced; sender not in: nothing). A change is
#    in force from when the control plane saw it acked; a frame decided
#    between a change's request and that may have either outcome (counted
#    apart). With one queue and one worker frames are decided in the order
#    sent, which bounds when a frame that got nothing was decided;
#  - the phone opted out while the dataplane was down is never delivered to
#    or from after the restart (no stale consent), and the states the
#    driver was told match the store (optroutectl status) at the end;
#  - the restarted dataplane's delivered and bounced counters are the
#    frames seen delivered and bounced.
# Bounded: one kill, about 12 s of traffic, at most 40 s of driver.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_need_bins optroute-dataplane optroute-control optroutectl
or_tap_ns
DRIVE_PID=
OR_PIDVARS="DRIVE_PID $OR_PIDVARS"
CTL="$BIN/optroutectl"

{
	echo "; one file for both daemons"
	or_ini_eal
	or_ini_dataplane 1000 "idle_sleep_us = 200"
	or_ini_tap_appliance 203.0.113
	or_ini_control "node_policy = fixed 1" "wait_timeout_ms = 5000" \
		"channel_retry_ms = 100"
} >"$T/or.ini"
# The restarted dataplane: the same, but its channel elsewhere until the
# test lets the control plane in.
sed "s|^channel = .*|channel = $T/dp-new.sock|" "$T/or.ini" >"$T/or2.ini"
or_key "$T/key"

# mark EVENT: when (wall clock, as the driver's time.time()) the test did
# something, for the checker.
mark() {
	echo "{\"ev\": \"$1\", \"t\": $(date +%s.%N)}" >>"$T/marks"
	or_log "$1"
}

# wait_resynced N: until the control plane has N full resyncs acked and
# is not resyncing (lag is not waited for: changes keep coming). No
# Python here: on a loaded machine starting an interpreter takes seconds.
wait_resynced() {
	local j n
	for _ in $(seq 1 200); do
		j=$(timeout 10 "$CTL" -j dataplane 2>/dev/null) || true
		n=$(echo "$j" | sed -n 's/.*"resyncs":\([0-9]*\).*/\1/p')
		case $j in *'"syncing":false'*) [ "${n:-0}" -ge "$1" ] && return 0 ;; esac
		sleep 0.1
	done
	or_fail "the control plane did not resync the dataplane ($j)"
}

or_start_dp "$T/or.ini" "$NS"
or_tap_peers 203.0.113
or_start_cp "$T/or.ini"
wait_resynced 1

cat >"$T/drive.py" <<'EOF'
# drive PHONES LOG STOPFILE: opts the eight phones in (--wait), writes their
# tokens to PHONES and a "ready" event, then traffic, changes and ack
# polls until STOPFILE exists (at most 40 s); one JSON line an event in LOG.
import json, os, random, select, socket, sys, threading, time
from orproto import BOUNCE, HDR, MSG, build

logf, stopf = open(sys.argv[2], "w"), sys.argv[3]
lock = threading.Lock()
done = threading.Event()
changes_done = threading.Event()
last_seq = [0]
SOCK = os.environ["OPTROUTE_CONTROL_SOCKET"]

def put(e):
    with lock:
        logf.write(json.dumps(e) + "\n")

def mgmt():
    s = socket.socket(socket.AF_UNIX)
    s.connect(SOCK)
    return s, s.makefile("rb")

def ask(conn, req):
    s, f = conn
    s.sendall((json.dumps(req) + "\n").encode())
    return json.loads(f.readline())

def sender():
    c = client
    rnd = random.Random(1)
    i, t0 = 0, time.time()
    while not done.is_set():
        i += 1
        # every fourth a probe between the two phones nobody changes
        s, r = (6, 7) if i % 4 == 0 else rnd.sample(range(6), 2)
        t = time.time()
        try:
            c.sendto(build(MSG, i, toks[s], toks[r], payload=b"m%d" % i),
                     ("192.0.2.1", 7040))
            put({"ev": "frame", "id": i, "s": s, "r": r, "t": t})
        except OSError as e:  # no route while the dataplane is down
            put({"ev": "unsent", "id": i, "t": t, "err": e.errno})
        time.sleep(max(0, t0 + i * 0.004 - time.time()))

def receiver():
    socks = [node, client]
    while not done.is_set() or select.select(socks, [], [], 0.5)[0]:
        for s in select.select(socks, [], [], 0.1)[0]:
            d = s.recv(2048)
            t = time.time()
            h = HDR.unpack(d[:68])
            if s is node:
                put({"ev": "delivered", "id": h[7], "t": t,
                     "s": toks.index(h[8]) if h[8] in toks else -1,
                     "r": toks.index(h[9]) if h[9] in toks else -1,
                     "ok": h[2] == MSG and d[68:] == b"m%d" % h[7]})
            else:
                put({"ev": "bounced", "id": h[7], "t": t,
                     "ok": h[2] == BOUNCE and len(d) == 68})

def changer():
    conn = mgmt()
    rnd = random.Random(2)
    k = 0
    while not done.is_set():
        p = rnd.randrange(1, 6)
        k += 1
        # optout, optin or erase; the state the store reports is the model
        act = rnd.choice(["optin", "optin", "optout", "optout", "erase"])
        t = time.time()
        r = ask(conn, {"v": 1, "id": k, "cmd": act, "number": phones[p][0]})
        assert r["ok"], r
        last_seq[0] = r["seq"]
        put({"ev": "change", "p": p, "state": r["state"], "seq": r["seq"],
             "t": t, "t_rep": time.time()})
        time.sleep(0.1)

def poller():
    # goes on after the others stop until the last change is seen acked
    conn = mgmt()
    end = None
    while True:
        r = ask(conn, {"v": 1, "id": 0, "cmd": "dataplane"})
        put({"ev": "poll", "t": time.time(), "connected": r["connected"],
             "syncing": r["syncing"], "resyncs": r["resyncs"],
             "acked": r["acked_seq"]})
        if changes_done.is_set():
            end = end or time.time() + 5
            if r["acked_seq"] >= last_seq[0] or time.time() > end:
                break
        time.sleep(0.02)

# Phone 0 is left to the test script (opted out while the dataplane is
# down), the changer changes phones 1-5, 6 and 7 stay in (probes).
conn = mgmt()
phones = []
for i in range(8):
    r = ask(conn, {"v": 1, "id": i, "cmd": "optin", "number": "+1555080000%d" % (i + 1),
                   "wait": True})
    assert r["ok"] and r["applied"], r
    phones.append(("+1555080000%d" % (i + 1), r["token"]))
toks = [bytes.fromhex(t) for _, t in phones]
with open(sys.argv[1], "w") as f:
    f.writelines("%s %s\n" % p for p in phones)
put({"ev": "ready", "t": time.time()})
logf.flush()
# Both ends bound before the first frame leaves.
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.bind(("192.0.2.10", 40000))
node = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
node.bind(("203.0.113.5", 7041))
ts = [threading.Thread(target=f) for f in (sender, receiver, changer, poller)]
for t in ts:
    t.start()
end = time.time() + 40
while not os.path.exists(stopf) and time.time() < end:
    time.sleep(0.05)
done.set()
for t in ts[:3]:
    t.join()
changes_done.set()
ts[3].join()
logf.close()
EOF

in_ns timeout 80 python3 "$T/drive.py" "$T/phones" "$T/drive.log" "$T/stop" &
DRIVE_PID=$!
for _ in $(seq 1 300); do
	grep -qs '"ready"' "$T/drive.log" && break
	kill -0 "$DRIVE_PID" 2>/dev/null || or_fail "driver failed"
	sleep 0.1
done
grep -qs '"ready"' "$T/drive.log" || or_fail "driver not ready"
# Traffic and changes through the first dataplane, then the kill at a
# random point of a BATCH stream.
sleep "2.$((RANDOM % 10))"
mark kill0
or_stop DP_PID KILL || true
mark kill
sleep 0.5
# Phone 0 opts out while no dataplane runs: committed, not applied.
t=$(date +%s.%N)
j=$(echo +15550800001 | timeout 20 "$CTL" -j optout -) || or_fail "optout: $j"
seq=$(echo "$j" | sed -n 's/.*"state":"out".*"seq":\([0-9]*\).*/\1/p')
[ -n "$seq" ] || or_fail "optout: $j"
printf '{"ev": "change", "p": 0, "state": "out", "seq": %s, "t": %s, "t_rep": %s}\n' \
	"$seq" "$t" "$(date +%s.%N)" >>"$T/marks"

# Restarted, channel out of the control plane's reach (or_start_dp waits
# for $T/dp.sock, which the killed process left behind).
nsenter --net="/var/run/netns/$NS" "$BIN/optroute-dataplane" -c "$T/or2.ini" \
	>>"$T/dp.log" 2>&1 &
DP_PID=$!
or_wait_sock "$T/dp-new.sock" "$DP_PID" 30 || or_fail "optroute-dataplane did not restart"
or_tap_peers 203.0.113
mark up
sleep 1
or_telemetry /optroute/stats /optroute/channel >"$T/pre.json"
mark pre
# The control plane in: it connects within channel_retry_ms and resyncs.
mark open
mv "$T/dp-new.sock" "$T/dp.sock"
wait_resynced 2
mark synced
sleep 4
touch "$T/stop"
wait "$DRIVE_PID" || or_fail "driver failed"
DRIVE_PID=
sleep 0.3
or_telemetry /optroute/stats /optroute/channel >"$T/post.json"

python3 - "$T" "$CTL" <<'EOF' || or_fail "frame by frame check"
import json, subprocess, sys
T, CTL = sys.argv[1], sys.argv[2]
ev = [json.loads(l) for f in ("drive.log", "marks") for l in open(f"{T}/{f}")]
mk = {e["ev"]: e["t"] for e in ev
      if e["ev"] in ("kill0", "kill", "up", "pre", "open", "synced")}
phones = [l.split() for l in open(f"{T}/phones")]
polls = sorted((e for e in ev if e["ev"] == "poll"), key=lambda e: e["t"])
frames = {e["id"]: e for e in ev if e["ev"] == "frame"}
unsent = sum(1 for e in ev if e["ev"] == "unsent")
out = {}
for e in ev:
    if e["ev"] in ("delivered", "bounced"):
        assert e["ok"] and e["id"] in frames and e["id"] not in out, e
        if e["ev"] == "delivered":
            f = frames[e["id"]]
            assert (e["s"], e["r"]) == (f["s"], f["r"]), (e, f)
        out[e["id"]] = (e["ev"], e["t"])
fails = []

# A change is in force from its request until... at the latest the first
# poll showing it acked (by the restarted dataplane's resync or later once
# the first dataplane is gone).
INF = float("inf")
changes = sorted((e for e in ev if e["ev"] == "change"), key=lambda e: e["seq"])
for c in changes:
    c["enf"] = INF
    for p in polls:
        if p["t"] >= c["t_rep"] and p["connected"] and p["acked"] >= c["seq"] and \
           (p["t"] < mk["kill"] or (p["resyncs"] >= 2 and not p["syncing"])):
            c["enf"] = p["t"]
            break
    if c["enf"] == INF:
        fails.append(f"change {c} never seen acked")
hist = {p: [c for c in changes if c["p"] == p] for p in range(len(phones))}

def states(p, a, b):
    """States phone p may have had in force during [a, b]."""
    cur, poss = "in", set()
    for c in hist[p]:
        if c["enf"] <= a:
            cur = c["state"]
        elif c["t"] <= b:
            poss.add(c["state"])
    return poss | {cur}

def outcome(s, r):
    return "none" if s != "in" else "delivered" if r == "in" else "bounced"

# One RX queue, one worker: frames are decided in the order they were
# sent, so one nothing came back for was decided (dropped) by the time the
# next answered one came back (the end of the run for the last ones); every
# fourth frame is a probe between two phones that stay in, so that is soon.
nxt, t_next = {}, max(e["t"] for e in ev)
for i in sorted(frames, reverse=True):
    t_next = out[i][1] if i in out else t_next
    nxt[i] = t_next
stats = {"exact": 0, "either": 0, "held": 0, "late": 0, "lost_at_kill": 0,
         "stale_guard": 0}
for i, f in sorted(frames.items()):
    got, t_o = out.get(i, ("none", None))
    a, b = f["t"], t_o if t_o is not None else nxt[i]
    if mk["kill0"] - 0.3 <= a < mk["kill"] and got == "none":
        stats["lost_at_kill"] += 1   # in flight when the first one died
        continue
    if mk["kill"] <= a < mk["open"]:
        # Sent while no dataplane ran, or to the restarted one while the
        # control plane could not reach it. Nothing may come back before
        # the control plane could; later, only what the store says (a
        # starved worker may read it from the kernel after the resync).
        stats["held"] += 1
        if got == "none":
            continue
        if b < mk["open"]:
            fails.append(f"frame {i} sent {a - mk['kill']:.3f}s after the kill: {got} "
                         f"{mk['open'] - b:.3f}s before the control plane could resync")
            continue
        stats["late"] += 1
        a = mk["open"]
    want = {outcome(x, y) for x in states(f["s"], a, b) for y in states(f["r"], a, b)}
    if mk["open"] <= a < mk["synced"]:
        want.add("none")  # may still meet the not-synced dataplane
    if got not in want:
        fails.append(f"frame {i} ({f['s']}->{f['r']}, sent {a:.3f}): {got}, store says {sorted(want)}")
    stats["exact" if len(want) == 1 else "either"] += 1
    if a >= mk["synced"] and 0 in (f["s"], f["r"]) and states(0, a, b) == {"out"}:
        stats["stale_guard"] += 1   # phone 0, opted out while the dataplane was down

# The restarted dataplane's counters.
pre, post = ({k: v for l in open(f"{T}/{n}.json") for k, v in json.loads(l).items()}
             for n in ("pre", "post"))
ps, pc, qs = pre["/optroute/stats"], pre["/optroute/channel"], post["/optroute/stats"]
# Before the control plane could reach it, it received MSGs and decided
# none: no delivery, bounce or drop for a consent reason; all not_synced.
decided = ("delivered", "bounced", "over_budget", "drop_sender_not_opted_in",
           "drop_no_route")
if any(ps[k] for k in decided) or ps["drop_not_synced"] < 1 or ps["arp_replies"] < 1:
    fails.append("restarted dataplane before its resync: " +
                 ", ".join(f"{k} {ps[k]}" for k in decided + ("drop_not_synced", "arp_replies")))
if not (pc["synced"] == 0 and pc["rx_enabled"] == 1 and pc["resyncs"] == 0):
    fails.append(f"restarted dataplane's state before the resync: {pc}")
if post["/optroute/channel"]["synced"] != 1:
    fails.append(f"not synced at the end: {post['/optroute/channel']}")
after = [i for i, f in frames.items() if f["t"] >= mk["up"]]
for k in ("delivered", "bounced"):
    n = sum(1 for i in after if out.get(i, ("none",))[0] == k)
    if qs[k] != n:
        fails.append(f"restarted dataplane counts {qs[k]} {k}, the phones saw {n}")

# The store agrees with the states the driver was told.
for p, (num, tok) in enumerate(phones):
    r = json.loads(subprocess.run([CTL, "-j", "status", "-"], input=num + "\n",
                                  capture_output=True, text=True, check=True).stdout)
    want = hist[p][-1]["state"] if hist[p] else "in"
    if r["state"] != want or r["token"] != tok:
        fails.append(f"store: phone {p} is {r['state']}, driver was told {want}")

n_ch = len(changes)
down = sum(1 for c in changes if mk["kill"] <= c["t"] < mk["synced"])
print(f"{len(frames)} frames ({unsent} unsent while down), {len(out)} answered "
      f"(slowest in {max((t - frames[i]['t'] for i, (_, t) in out.items()), default=0):.3f}s); "
      f"{n_ch} changes ({down} while the dataplane was down or unsynced); "
      f"drop_not_synced {qs['drop_not_synced']}; {stats}")
if stats["exact"] < 500 or stats["held"] < 100 or stats["stale_guard"] < 20 or down < 10:
    fails.append("too few frames or changes in some phase to mean anything")
for f in fails[:30]:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
EOF

or_stop DP_PID || or_fail "optroute-dataplane exited $?"
or_stop CP_PID || or_fail "optroute-control exited $?"
echo "dp_crash: ok"
