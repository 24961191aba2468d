# SPDX-License-Identifier: BSD-3-Clause
#
# bench_optouts.py SOCKET COUNT WAIT [PREFIX]: COUNT sequential opt-outs
# of +<PREFIX, default 1555><7 digits> 0, 1, ... (each opted in before),
# each waiting as WAIT says ("true": this appliance's dataplane enforces
# it; "fleet": every live appliance's does). Per request: the daemon's
# commit_us (request read -> commit done, the local copy holding it in a
# fleet), its enforce_us (commit -> this dataplane's ack) and the client's
# round trip; after_commit_us = round trip - commit_us, for WAIT "fleet"
# the time from the commit to the whole fleet's enforcement as this
# appliance learns it. Prints a summary on stderr and one JSON object of
# p50, p99 and max of each on stdout (bench-control.sh, bench-fleet.sh).
import json
import socket
import sys
import time

sock, count, wait = sys.argv[1], int(sys.argv[2]), sys.argv[3]
prefix = sys.argv[4] if len(sys.argv) > 4 else "1555"
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = s.makefile("rb")
v = {"enforce_us": [], "commit_us": [], "roundtrip_us": [], "after_commit_us": []}
for i in range(count):
    req = json.dumps({"v": 1, "id": i, "cmd": "optout",
                      "number": "+%s%07d" % (prefix, i),
                      "wait": True if wait == "true" else wait}).encode() + b"\n"
    t0 = time.perf_counter_ns()
    s.sendall(req)
    r = json.loads(f.readline())
    rt = (time.perf_counter_ns() - t0) / 1000
    assert r["ok"] and r["applied"] and r["previous"] == "in", r
    if wait == "fleet":
        assert not r["fleet"]["lagging"], r
    v["enforce_us"].append(r["enforce_us"])
    v["commit_us"].append(r["commit_us"])
    v["roundtrip_us"].append(rt)
    v["after_commit_us"].append(rt - r["commit_us"])


def pct(x, p):
    x = sorted(x)
    return round(x[min(len(x) - 1, len(x) * p // 100)])


out = {"%s_%s" % (k[:-3], p): pct(x, n) for k, x in v.items()
       for p, n in (("p50_us", 50), ("p99_us", 99))}
out.update({"%s_max_us" % k[:-3]: round(max(x)) for k, x in v.items()})
print("; ".join("%s p50 %d p99 %d max %d" % (k[:-3], out[k[:-3] + "_p50_us"],
                                             out[k[:-3] + "_p99_us"],
                                             out[k[:-3] + "_max_us"])
                for k in v), file=sys.stderr)
print(json.dumps(out))
