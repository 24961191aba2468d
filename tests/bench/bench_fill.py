# SPDX-License-Identifier: BSD-3-Clause
#
# bench_fill.py SOCKET COUNT: COUNT more records in an optroute-control's
# store, as the benchmarks fill it (bench-control.sh, bench-fleet.sh):
# opt-ins of random tokens (token imports of 1700 lines, under 64 KiB a
# request, 20 in flight). The tokens are uniform but sent in ascending
# order (token i is drawn from the i-th of COUNT equal slices of the token
# space), so that each commit inserts at one front of the B-trees instead
# of touching pages all over a store of millions: what a burst of random
# changes costs is what the benchmarks measure after the fill.
import json
import os
import socket
import sys

s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
total = int(sys.argv[2])
left, inflight, CH, W = total, 0, 1700, 20
step, i0 = (1 << 128) // total, 0
while left > 0 or inflight:
    while left > 0 and inflight < W:
        n = min(CH, left)
        lines = ["%032x" % (step * (i0 + i) +
                            int.from_bytes(os.urandom(16), "little") % step)
                 for i in range(n)]
        s.sendall(json.dumps({"v": 1, "cmd": "import", "action": "optin",
                              "lines": lines}).encode() + b"\n")
        left -= n
        inflight += 1
        i0 += n
    r = json.loads(f.readline())
    inflight -= 1
    assert r["ok"] and r["changes"] + r["invalid"] == r["lines"], r
