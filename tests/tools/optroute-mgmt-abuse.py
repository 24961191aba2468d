#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Abuses optroute-control's management socket (standard library only), for
tests/integration/cp_abuse.sh and tests/bench/bench-abuse.sh.

  optroute-mgmt-abuse.py -s SOCKET [--conns N] [--seconds S] [--rate R]
      [--burst N --burst-at S] [--noread N] [--settle S]

Opens connections at --rate a second (or N spread over --seconds), each of
one kind, in turn:

  idle     connects and says nothing
  half     half a request line, never finished
  drip     a line that never ends, one byte every 200 ms (slowloris)
  long     a 70 000-byte line without a newline
  garbage  random bytes
  badjson  a flood of lines that are not requests (bad JSON, wrong fields)

plus --noread connections at the start that send one long request (the
daemon's input buffer grows to its largest) then pipeline `help` requests
(about 800 bytes of reply each) and never read, and a burst of --burst idle connections
at once at --burst-at seconds. Every connection reads (except noread) and
records how the daemon closed it: the code and message of the last error
line before end of file. After the opening phase it waits up to --settle
seconds for the daemon to close every connection (a noread one is read
only once the daemon has closed it: poll's POLLHUP/POLLRDHUP).

SIGTERM or SIGINT ends it early. Prints one JSON object: connections
opened, the outcome of each (the daemon's close reason), those still open.
"""
import argparse
import json
import os
import random
import select
import selectors
import signal
import socket
import sys
import time

KINDS = ["idle", "half", "drip", "long", "garbage", "badjson"]
BAD_LINES = [
    b"garbage",
    b"{\"v\":1,\"cmd\":",
    b"[1,2,3]",
    b"{\"v\":1,\"cmd\":\"optin\",\"number\":}",
    b"{\"cmd\":\"help\"}",
    b"{\"v\":2,\"cmd\":\"help\"}",
    b"{\"v\":1,\"cmd\":\"launch\"}",
    b"\xff\xfe\x00\x01",
]
# How the daemon says why it closes a connection (cp_srv.c), by reason.
REASONS = [
    ("too_many_clients", "retry later", "refused"),
    ("too_many_clients", "make room", "evicted"),
    ("idle_timeout", "not finished", "line_timeout"),
    ("idle_timeout", "idle", "idle_timeout"),
    ("line_too_long", "", "line_too_long"),
    ("bad_request", "malformed requests in a row", "malformed"),
]


class Conn:
    def __init__(self, kind, sock, now):
        self.kind = kind
        self.sock = sock
        self.out = b""
        self.inbuf = b""
        self.last = None  # last JSON line received
        self.lines = 0
        self.t0 = now
        self.next_drip = now
        self.sent = 0
        self.last_send = now
        self.reading = kind != "noread"
        self.done = False
        self.outcome = None
        if kind == "half":
            self.out = b"{\"v\":1,\"cmd\":\"ver"
        elif kind == "drip":
            self.out = b"{\"v\":1,\"cmd\":\"version\",\"pad\":\""
        elif kind == "long":
            self.out = b"{\"v\":1,\"cmd\":\"help\",\"x\":\"" + b"9" * 70000
        elif kind == "garbage":
            self.out = os.urandom(16384)
        elif kind == "noread":
            # One long request first: the daemon's input buffer grows to
            # its largest, so each read takes in thousands of requests.
            self.out = b"{\"v\":1,\"cmd\":\"help\"}" + b" " * 60000 + b"\n"
        elif kind == "badjson":
            self.out = b"\n".join(random.choice(BAD_LINES)
                                  for _ in range(64)) + b"\n"


def classify(c):
    r = c.last
    if isinstance(r, dict) and r.get("ok") is False and "id" not in r:
        code = r["error"]["code"]
        msg = r["error"]["message"]
        for rc, rm, name in REASONS:
            if code == rc and rm in msg:
                return name
        return "error:" + code
    # Killed without a last word: one that did not read its replies.
    return "stalled" if c.kind == "noread" else "eof"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-s", "--socket", required=True)
    ap.add_argument("--conns", type=int, default=0,
                    help="connections to open (0: by --rate until --seconds)")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--burst", type=int, default=0)
    ap.add_argument("--burst-at", type=float, default=2)
    ap.add_argument("--noread", type=int, default=0)
    ap.add_argument("--noread-bytes", type=int, default=1000000)
    ap.add_argument("--settle", type=float, default=0)
    a = ap.parse_args()
    stop = [False]

    def on_sig(*_):
        stop[0] = True
    signal.signal(signal.SIGTERM, on_sig)
    signal.signal(signal.SIGINT, on_sig)

    sel = selectors.DefaultSelector()
    hup = select.poll()     # noread connections, until the daemon closes
    noread = {}
    conns = []
    connect_errors = {}
    rate = a.conns / a.seconds if a.conns else a.rate
    total = a.conns if a.conns else None
    start = time.monotonic()

    def open_one(kind, now):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(a.socket)   # (AF_UNIX: at once, or EAGAIN)
        except OSError as e:      # (the listen backlog is full)
            connect_errors[e.errno] = connect_errors.get(e.errno, 0) + 1
            s.close()
            return
        c = Conn(kind, s, now)
        conns.append(c)
        if c.reading:
            sel.register(s, selectors.EVENT_READ, c)
        else:
            hup.register(s, select.POLLRDHUP)
            noread[s.fileno()] = c

    def finish(c):
        if c.done:
            return
        c.done = True
        c.outcome = classify(c)
        if c.reading:
            sel.unregister(c.sock)
        c.sock.close()

    def read(c):
        while True:
            try:
                b = c.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                b = b""     # reset: the daemon closed with input unread
            if not b:
                finish(c)
                return
            c.inbuf += b
            *lines, c.inbuf = c.inbuf.split(b"\n")
            for ln in lines:
                c.lines += 1
                try:
                    c.last = json.loads(ln)
                except ValueError:
                    c.last = None

    def write(c, now):
        if c.kind == "drip" and not c.out and now >= c.next_drip:
            c.out = b"x"
            c.next_drip = now + 0.2
        if c.kind == "noread" and not c.out and c.sent < a.noread_bytes:
            c.out = b"{\"v\":1,\"cmd\":\"help\"}\n" * 500
        if c.kind == "garbage" and not c.out and c.sent < 65536:
            c.out = os.urandom(16384)
        if not c.out:
            return
        try:
            n = c.sock.send(c.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            c.out = b""     # closed by the daemon: read what it said
            return
        c.out = c.out[n:]
        c.sent += n
        c.last_send = now

    opened = 0
    for _ in range(a.noread):
        open_one("noread", time.monotonic())
    burst_done = a.burst == 0
    while not stop[0]:
        now = time.monotonic()
        t = now - start
        # --conns N: all N are opened, even when a slow round (a loaded
        # host) reaches --seconds first; else by --rate until --seconds.
        opening = opened < total if total is not None else t < a.seconds
        if opening:
            want = min(int(t * rate) + 1, total or 1 << 62)
            if total is not None and t >= a.seconds:
                want = total
            while opened < want:
                open_one(KINDS[opened % len(KINDS)], now)
                opened += 1
        if not burst_done and t >= a.burst_at:
            for _ in range(a.burst):
                open_one("idle", now)
            burst_done = True
        live = [c for c in conns if not c.done]
        if not opening and burst_done:
            if not live or t >= a.seconds + a.settle:
                break
        # noread: read what is left once the daemon has closed it.
        for fd, _ in hup.poll(0):
            c = noread.pop(fd)
            hup.unregister(fd)
            c.reading = True
            sel.register(c.sock, selectors.EVENT_READ, c)
        for c in live:
            if not c.done:
                write(c, now)
        for key, _ in sel.select(timeout=0.02):
            if not key.data.done:
                read(key.data)
    left = [c for c in conns if not c.done]
    for c in left:
        c.sock.close()
    out = {}
    by_kind = {}
    for c in conns:
        if not c.done:
            continue
        out[c.outcome] = out.get(c.outcome, 0) + 1
        k = by_kind.setdefault(c.kind, {})
        k[c.outcome] = k.get(c.outcome, 0) + 1
    print(json.dumps({
        "opened": len(conns),
        "seconds": round(time.monotonic() - start, 2),
        "outcomes": out,
        "by_kind": by_kind,
        "still_open": len(left),
        "still_open_kinds": sorted({c.kind for c in left}),
        "connect_errors": {os.strerror(k): v
                           for k, v in connect_errors.items()},
    }))


if __name__ == "__main__":
    sys.exit(main())
