#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# optroute-control's management socket under abuse while an import runs
# (no dataplane). tests/tools/optroute-mgmt-abuse.py opens ABUSE_CONNS
# connections over ABUSE_S seconds, a burst of 100 at once, and NOREAD
# connections that pipeline requests and never read: idle ones, half lines,
# a line dripped a byte at a time, oversized lines, random bytes, floods of
# bad JSON. Meanwhile two connections import IMPORT_CHUNKS x 100 opt-ins and
# a well-behaved optroutectl asks for stats every 0.25 s. Checked:
#  - the import completes and every acknowledged opt-in is in the store
#    (status of each number; the store's entries and seqs; audit --verify);
#  - every stats request is answered (a too_many_clients refusal during the
#    burst is retried: that is what the refusal tells a client to do);
#  - every abusive connection is closed by the daemon, with the error line
#    of its reason when one can reach it, and the daemon counts each reason
#    exactly as often as the abuser saw it (stats and /metrics);
#  - the daemon's anonymous memory stays under the bound its limits give
#    (below);
#  - the daemon still serves, and exits cleanly on SIGTERM.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_need_bins optroutectl optroute-control
CTL=$BIN/optroutectl
ABUSE_CONNS=${ABUSE_CONNS:-400}
ABUSE_S=${ABUSE_S:-8}
NOREAD=${NOREAD:-6}
IMPORT_CHUNKS=${IMPORT_CHUNKS:-30}
MAX_CLIENTS=64
WATCH_PID=
ABUSE_PID=
OR_PIDVARS="WATCH_PID ABUSE_PID $OR_PIDVARS"

# optroute-exporter for /metrics, started once the abuse is over (its one
# management connection is not part of what is counted).
# shellcheck source=lib/exporter.sh
. "$(dirname "$0")/lib/exporter.sh"
or_key "$T/key"
# Short timeouts so that every abusive connection is closed within the
# test: a line must end within 2 s, a connection idle (or not reading its
# replies) is closed after 3 s.
or_ini_control "channel_socket = $T/no-dataplane.sock" \
	"max_clients = $MAX_CLIENTS" "line_timeout_ms = 2000" \
	"idle_timeout_ms = 3000" >"$T/cp.ini"
or_ini_exporter >>"$T/cp.ini"
or_start_cp "$T/cp.ini"

stats() { timeout 20 "$CTL" -j stats; }
stats >"$T/before.json" || or_fail "stats before the abuse"
anon_kb() { awk '$1 == "RssAnon:" { print $2 }' "/proc/$CP_PID/status"; }
BASE_KB=$(anon_kb)

# ---- the well-behaved client, and the daemon's memory, during the abuse ----
cat >"$T/watch.py" <<'EOF'
# watch CTL PID OUT: optroutectl stats every 0.25 s and the daemon's RssAnon
# every 0.05 s until SIGTERM; then one JSON summary to OUT.
import json, signal, subprocess, sys, time
ctl, pid, out = sys.argv[1], sys.argv[2], sys.argv[3]
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
polls, failed, refused, worst, rss_max = 0, [], 0, 0.0, 0
def rss():
    with open("/proc/%s/status" % pid) as f:
        for l in f:
            if l.startswith("RssAnon:"):
                return int(l.split()[1])
    return 0
next_poll = 0
while not stop:
    rss_max = max(rss_max, rss())
    now = time.monotonic()
    if now < next_poll:
        time.sleep(0.05)
        continue
    next_poll = now + 0.25
    # One poll: optroutectl retries a too_many_clients refusal itself
    # (the refusal says "retry later") and says so on stderr; counted
    # here, as a refusal it still gets after its retries, 5 s at most.
    t0 = time.monotonic()
    while True:
        p = subprocess.run([ctl, "-j", "-t", "5000", "stats"],
                           capture_output=True, text=True)
        try:
            r = json.loads(p.stdout)
        except ValueError:
            r = {}
        refused += p.stderr.count("refused the connection")
        code = (r.get("error") or {}).get("code")
        if code == "too_many_clients" and time.monotonic() - t0 < 5:
            refused += 1
            time.sleep(0.1)
            continue
        break
    dt = time.monotonic() - t0
    polls += 1
    worst = max(worst, dt)
    if p.returncode != 0 or not r.get("ok") or "control" not in r:
        failed.append((p.returncode, p.stdout[-200:], p.stderr[-200:]))
json.dump({"polls": polls, "failed": failed, "refused": refused,
           "worst_s": round(worst, 3), "rss_anon_max_kb": rss_max},
          open(out, "w"))
EOF
python3 "$T/watch.py" "$CTL" "$CP_PID" "$T/watch.json" &
WATCH_PID=$!

# ---- the abuse ----------------------------------------------------------
# Every connection is given up to 15 s more to be closed by the daemon.
python3 "$TOOLS/optroute-mgmt-abuse.py" -s "$T/cp.sock" --conns "$ABUSE_CONNS" \
	--seconds "$ABUSE_S" --burst 100 --burst-at 2 --noread "$NOREAD" \
	--settle 15 >"$T/abuse.json" &
ABUSE_PID=$!
sleep 1

# ---- the import ---------------------------------------------------------
cat >"$T/import.py" <<'EOF'
# import SOCK CHUNKS: two connections, each CHUNKS requests of 100 new
# numbers, two in flight, paced over a few seconds; then the status of
# every number acknowledged. Prints one JSON summary.
import json, socket, sys, threading, time
SOCK, CHUNKS, CH = sys.argv[1], int(sys.argv[2]), 100
acked, errors = [], []
def numbers(conn, chunk):
    base = 15550000000 + conn * 10**6 + chunk * CH
    return ["+%d" % (base + i) for i in range(CH)]
def run(conn):
    s = socket.socket(socket.AF_UNIX); s.connect(SOCK)
    s.settimeout(30)
    f = s.makefile("rb")
    inflight = []
    def reply():
        r = json.loads(f.readline())
        rid, lines = inflight.pop(0)
        if r.get("ok") and r["changes"] == CH and r["id"] == rid:
            acked.append((lines, r["seq"]))
        else:
            errors.append(r)
    for chunk in range(CHUNKS):
        lines, rid = numbers(conn, chunk), "c%d-%d" % (conn, chunk)
        s.sendall((json.dumps({"v": 1, "id": rid, "cmd": "import",
                               "action": "optin", "lines": lines}) + "\n").encode())
        inflight.append((rid, lines))
        if len(inflight) >= 2:
            reply()
        time.sleep(0.1)
    while inflight:
        reply()
def run_safe(conn):
    try:
        run(conn)
    except (OSError, ValueError) as e:   # closed on us, or no reply
        errors.append("connection %d: %r" % (conn, e))
t0 = time.monotonic()
ts = [threading.Thread(target=run_safe, args=(c,)) for c in range(2)]
for t in ts: t.start()
for t in ts: t.join()
dt = time.monotonic() - t0
# Every acknowledged number: its state in the store.
s = socket.socket(socket.AF_UNIX); s.connect(SOCK); s.settimeout(30)
f = s.makefile("rb")
nums = [n for lines, _ in acked for n in lines]
bad = 0
for i in range(0, len(nums), 500):
    part = nums[i:i + 500]
    s.sendall(b"".join((json.dumps({"v": 1, "id": j, "cmd": "status",
                                    "number": n}) + "\n").encode()
                       for j, n in enumerate(part)))
    for _ in part:
        r = json.loads(f.readline())
        if not r.get("ok") or r["state"] != "in":
            bad += 1
print(json.dumps({"requests": 2 * CHUNKS, "acked": len(acked),
                  "errors": errors[:3], "numbers": len(nums),
                  "not_in_store": bad, "seconds": round(dt, 2),
                  "changes_per_s": round(len(nums) / dt)}))
EOF
timeout 60 python3 "$T/import.py" "$T/cp.sock" "$IMPORT_CHUNKS" >"$T/import.json" ||
	or_fail "import did not complete: $(cat "$T/import.json")"
or_log "import: $(cat "$T/import.json")"

wait "$ABUSE_PID" || or_fail "abuser failed"
ABUSE_PID=
or_log "abuse: $(cat "$T/abuse.json")"
kill -TERM "$WATCH_PID"
wait "$WATCH_PID" || or_fail "watcher failed"
WATCH_PID=
or_log "well-behaved client and memory: $(cat "$T/watch.json")"
stats >"$T/after.json" || or_fail "stats after the abuse"

# ---- verdicts -----------------------------------------------------------
N=$((2 * IMPORT_CHUNKS * 100))
or_check "import completed, every request acknowledged" or_json "$(cat "$T/import.json")" "
assert r['acked'] == r['requests'] and not r['errors'], r"
or_check "every acknowledged opt-in is in the store" or_json "$(cat "$T/import.json")" "
assert r['numbers'] == $N and r['not_in_store'] == 0, r"
or_check "store: $N entries, seqs 1..$N" or_json "$(cat "$T/after.json")" "
assert r['store']['entries'] == r['store']['opted_in'] == $N, r['store']
assert r['store']['last_seq'] == $N, r['store']"
j=$(timeout 30 "$CTL" -j audit --verify)
or_check "audit chain verifies, one entry per change" or_json "$j" "
assert r['ok'] and r['verified'] and r['entries'] == $N, r"

or_check "every stats request of the well-behaved client answered" \
	or_json "$(cat "$T/watch.json")" "
assert r['polls'] >= 20 and not r['failed'], r
assert r['worst_s'] < 5, r"

# Each abusive connection: closed by the daemon, for the reason its kind
# calls for (or evicted/refused at max_clients); none left open.
or_check "every abusive connection closed, for its kind's reason" \
	or_json "$(cat "$T/abuse.json")" "
ok = {'idle': {'idle_timeout', 'evicted', 'refused'},
      'half': {'line_timeout', 'evicted', 'refused'},
      'drip': {'line_timeout', 'evicted', 'refused'},
      'long': {'line_too_long', 'evicted', 'refused'},
      'garbage': {'malformed', 'evicted', 'refused'},
      'badjson': {'malformed', 'evicted', 'refused'},
      'noread': {'stalled'}}
assert r['still_open'] == 0 and not r['connect_errors'], r
assert r['opened'] == $ABUSE_CONNS + 100 + $NOREAD, r
for k, outs in r['by_kind'].items():
    assert set(outs) <= ok[k], (k, outs)
for k in ok:
    assert k in r['by_kind'], ('no connection of kind', k)
o = r['outcomes']
assert o.get('stalled') == $NOREAD and o.get('malformed', 0) > 0, o
assert o.get('line_timeout', 0) > 0 and o.get('idle_timeout', 0) > 0, o
assert o.get('evicted', 0) > 0 and o.get('refused', 0) > 0, o
assert o.get('line_too_long', 0) > 0, o"

# The daemon's counters: exactly what the abuser saw, reason by reason
# (the import, the stats client and the exporter trigger none of them,
# except the stats client's refusals during the burst).
python3 - "$T/before.json" "$T/after.json" "$T/abuse.json" "$T/watch.json" \
	>"$T/counts.txt" <<'EOF'
import json, sys
b, a, ab, w = (json.load(open(f)) for f in sys.argv[1:5])
b, a, o = b["control"], a["control"], ab["outcomes"]
d = {k: a[k] - b.get(k, 0) for k in a if isinstance(a[k], int)}
want = {"lines_too_long": o.get("line_too_long", 0),
        "line_timeouts": o.get("line_timeout", 0),
        "idle_timeouts": o.get("idle_timeout", 0),
        "clients_stalled": o.get("stalled", 0),
        "clients_malformed": o.get("malformed", 0),
        "clients_evicted": o.get("evicted", 0),
        "clients_too_many": o.get("refused", 0) + w["refused"]}
bad = [(k, d[k], v) for k, v in want.items() if d[k] != v]
if d["clients_timed_out"] != (d["line_timeouts"] + d["idle_timeouts"] +
                              d["clients_stalled"]):
    bad.append(("clients_timed_out", d["clients_timed_out"], "sum"))
if d["clients_refused"] != d["clients_too_many"]:
    bad.append(("clients_refused", d["clients_refused"], d["clients_too_many"]))
if d["malformed_requests"] < 16 * d["clients_malformed"]:
    bad.append(("malformed_requests", d["malformed_requests"], ">= 16 x"))
print(" ".join("%s=%d" % (k, d[k]) for k in want))
if bad:
    print("mismatch (counter, daemon, abuser):", bad)
    sys.exit(1)
EOF
rc=$?
or_log "counter deltas: $(cat "$T/counts.txt")"
or_check "daemon counted every abusive connection, per reason" test $rc = 0

# /metrics: the same figures, one series per close reason.
or_start_exp "$T/cp.ini"
or_scrape >"$T/metrics.txt" || or_fail "no /metrics"
stats >"$T/final.json"
or_check "/metrics: clients closed per reason, as in stats" python3 - \
	"$T/metrics.txt" "$T/final.json" <<'EOF'
import json, re, sys
m = open(sys.argv[1]).read()
c = json.load(open(sys.argv[2]))["control"]
def v(series):
    x = re.search("^" + re.escape(series) + " (\\d+)$", m, re.M)
    assert x, series
    return int(x.group(1))
for key, reason in [("lines_too_long", "line_too_long"),
                    ("line_timeouts", "line_timeout"),
                    ("idle_timeouts", "idle_timeout"),
                    ("clients_stalled", "stalled"),
                    ("clients_malformed", "malformed"),
                    ("clients_evicted", "evicted")]:
    got = v('optroute_control_clients_closed_total{reason="%s"}' % reason)
    assert got == c[key] and got > 0, (reason, got, c[key])
assert v("optroute_control_clients_too_many_total") == c["clients_too_many"]
assert v("optroute_control_malformed_requests_total") == c["malformed_requests"]
EOF

# Memory: per connection the daemon keeps at most OR_MGMT_MAX_LINE + 1 of
# input and CP_CLIENT_OUT_HIGH (4 MiB) of replies plus one reply (help:
# about 1 KB) before it stops reading it; connections are max_clients at
# most. Only the NOREAD connections fill their output; the others hold at
# most a line. So the growth is bounded by NOREAD x (4 MiB + 1 MiB of
# allocator rounding) + max_clients x 64 KiB + 16 MiB for the import's
# requests in flight and the allocator's slack.
# Not under SAN=1: ASan keeps freed memory in its quarantine (256 MiB by
# default) and pads every allocation, so the growth says nothing about the
# daemon's own bounds; the release build is checked.
LIMIT_KB=$((NOREAD * 5 * 1024 + MAX_CLIENTS * 64 + 16 * 1024))
if [ "${SAN:-0}" = 1 ]; then
	echo "skipped: daemon memory bound (SAN=1 build: ASan quarantine)"
else
	or_check "daemon memory bounded (RssAnon growth <= $LIMIT_KB KiB)" or_json \
		"$(cat "$T/watch.json")" "
g = r['rss_anon_max_kb'] - $BASE_KB
print('RssAnon: %d KiB at start, %d KiB at most (+%d KiB; bound +%d KiB)' %
      ($BASE_KB, r['rss_anon_max_kb'], g, $LIMIT_KB))
assert 0 < r['rss_anon_max_kb'] and g <= $LIMIT_KB, g"
fi

or_check "daemon still serves" or_json "$(timeout 10 "$CTL" -j version)" "assert r['ok']"
or_stop CP_PID; rc=$?
or_check "SIGTERM: clean exit" test $rc = 0
or_summary
