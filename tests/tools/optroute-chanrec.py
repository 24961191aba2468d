#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""optroute-chanrec: a recording proxy for the update channel. TEST ONLY:
its capture holds what crosses the channel, AUTH_KEYS (K_auth) included.

  optroute-chanrec.py --listen PATH --connect PATH --out FILE
      Listens on the Unix SOCK_SEQPACKET socket PATH (give it to
      optroute-control as [control] channel_socket); for each peer that
      connects, connects to the dataplane's channel (--connect) and
      forwards every message both ways, unchanged and in order, until
      either side closes; then waits for the next peer. Every message is
      appended to FILE (mode 0600) as one record: a direction byte (">"
      control -> dataplane, "<" back), its length (4 bytes, little
      endian), its bytes. Ends on SIGTERM or SIGINT.

  optroute-chanrec.py --dump FILE
      One line per recorded message: direction, type, length.

The capture is read by tests/integration/auth_privacy.sh; the message
layout is include/optroute/chan.h.
"""
import argparse
import os
import select
import signal
import socket
import struct
import sys

MAX_MSG = 1 << 20  # more than any channel message (a BATCH is < 64 KiB)


def records(path):
    """(direction, bytes) of every message of a capture."""
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i < len(data):
        if i + 5 > len(data):
            raise ValueError("truncated record at offset %d" % i)
        d = chr(data[i])
        (n,) = struct.unpack_from("<I", data, i + 1)
        if d not in "<>" or i + 5 + n > len(data):
            raise ValueError("bad record at offset %d" % i)
        yield d, data[i + 5:i + 5 + n]
        i += 5 + n


def relay(peer, dp, out):
    """Forwards between the two sockets until one closes."""
    ends = {peer: (dp, b">"), dp: (peer, b"<")}
    while True:
        ready, _, _ = select.select(list(ends), [], [])
        for s in ready:
            msg = s.recv(MAX_MSG)
            if not msg:
                return
            other, d = ends[s]
            out.write(d + struct.pack("<I", len(msg)) + msg)
            out.flush()
            other.sendall(msg)


def serve(listen, connect, out_path):
    def stop(_sig, _frm):
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    out = os.fdopen(fd, "ab")
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    if os.path.exists(listen):
        os.unlink(listen)
    ls.bind(listen)
    ls.listen(1)
    while True:
        peer, _ = ls.accept()
        dp = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            dp.connect(connect)
            relay(peer, dp, out)
        except OSError as e:
            print("optroute-chanrec: %s" % e, file=sys.stderr)
        finally:
            peer.close()
            dp.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen")
    ap.add_argument("--connect")
    ap.add_argument("--out")
    ap.add_argument("--dump")
    a = ap.parse_args()
    if a.dump:
        for d, m in records(a.dump):
            t, _, n = struct.unpack_from("<HHI", m) if len(m) >= 8 else (0, 0, 0)
            print(d, t, n, len(m))
        return 0
    if not (a.listen and a.connect and a.out):
        ap.error("--listen, --connect and --out, or --dump")
    serve(a.listen, a.connect, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
