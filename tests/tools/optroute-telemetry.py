#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Minimal DPDK telemetry client (standard library only), for tests and
benchmarks: the same protocol as dpdk-telemetry.py, non-interactive.

  optroute-telemetry.py [-p FILE_PREFIX | -s SOCKET] [-w SECONDS] CMD...

Prints one JSON object per command: {"<cmd>": <value>} as DPDK sends it.
-w waits up to SECONDS for the socket to appear.
"""
import argparse
import json
import os
import socket
import sys
import time


def sock_path(prefix):
    base = os.environ.get("XDG_RUNTIME_DIR", "/var/run") \
        if os.getuid() != 0 else "/var/run"
    return os.path.join(base, "dpdk", prefix, "dpdk_telemetry.v2")


def connect(path, wait):
    deadline = time.monotonic() + wait
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.connect(path)
            break
        except OSError:
            s.close()
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)
    info = json.loads(s.recv(1 << 16).decode())
    return s, info["max_output_len"]


def query(s, maxlen, cmd):
    s.send(cmd.encode())
    return json.loads(s.recv(maxlen).decode())


def main():
    ap = argparse.ArgumentParser()
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("-p", "--file-prefix")
    g.add_argument("-s", "--socket")
    ap.add_argument("-w", "--wait", type=float, default=0)
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    path = a.socket or sock_path(a.file_prefix)
    try:
        s, maxlen = connect(path, a.wait)
    except OSError as e:
        print(f"optroute-telemetry: {path}: {e}", file=sys.stderr)
        return 1
    with s:
        for c in a.cmd:
            print(json.dumps(query(s, maxlen, c)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
