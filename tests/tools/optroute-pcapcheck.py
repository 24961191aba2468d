#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks what optroute-dataplane made of a pcap of MSG frames, frame by
frame, against docs/protocol.md (an independent implementation of sections
6-9, standard library only; version 2 tags below).

Inputs: the input pcap and optroute-pcapgen's manifest (expected outcome
per frame), the entry file loaded into the table, the addresses of the
receiving ("client") port and of the next hops, the output pcaps of the
client port (bounces, ARP replies) and of the delivery port (delivered
MSGs), and the dataplane's /optroute/stats as JSON (telemetry).

Checks:
  - the manifest agrees with the table for every MSG it calls deliver,
    bounce or sender_not_opted_in;
  - every output frame is exactly the expected rewrite, in order, and no
    frame is missing or extra;
  - every counter equals what was sent (rx, tx, delivered, bounced,
    arp_replies, each drop reason, nothing else non-zero).
Exit 0 if all hold; otherwise prints every failure and exits 1.

Protocol version 1 or 2, per input frame (its version byte). A delivered
MSG keeps its 68 header bytes unchanged in both, tag included. A version-2
bounce has payload_len at 56 and is signed anew by the appliance under the
sender's K_sender: with --auth-key (K_auth of the pcap's epoch, as given
to optroute-pcapgen) its tag is recomputed here (SipHash-2-4 written out in
tests/integration/lib/orauth.py, AES-128 from the system's libcrypto);
without, only its layout is checked (every byte but the tag, the UDP
checksum over the tag it carries) and that the tag is not the MSG's, and
the tag itself is left to the C unit tests of the dataplane's signing.
"""
import argparse
import ipaddress
import json
import os
import struct
import sys

TAG_OFF = 60    # version 2: the tag covers header bytes [0, 60)

MAGIC = 0x4F52
HDR_LEN = 68


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: not a pcap file")
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise ValueError(f"{path}: bad pcap magic {magic:#x}")
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        if off + caplen > len(data):
            raise ValueError(f"{path}: truncated record")
        frames.append(data[off:off + caplen])
        off += caplen
    return frames


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ip4(s):
    return ipaddress.IPv4Address(s).packed


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_hdr_fix(ip):
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", csum(bytes(ip[:20])))


def udp_csum(ip, udp_len):
    pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, 17, udp_len)
    seg = bytearray(ip[20:20 + udp_len])
    seg[6:8] = b"\0\0"
    c = csum(pseudo + bytes(seg))
    return 0xFFFF if c == 0 else c


def l2_len(f):
    return 18 if f[12:14] == b"\x81\x00" else 14


def expect_deliver(f, nh, egress):
    """Section 7."""
    l3 = l2_len(f)
    tot = struct.unpack("!H", f[l3 + 2:l3 + 4])[0]
    o = bytearray(f[:l3 + tot])
    o[0:6] = nh["mac"]
    o[6:12] = egress["mac"]
    ip = memoryview(o)[l3:]
    had_csum = struct.unpack("!H", bytes(ip[26:28]))[0] != 0
    ip[8] = ip[8] - 1
    ip[12:16] = egress["ip"]
    ip[16:20] = nh["ip"]
    ip[20:22] = struct.pack("!H", egress["port"])
    ip[22:24] = struct.pack("!H", nh["port"])
    ip_hdr_fix(ip)
    if had_csum:
        ip[26:28] = struct.pack("!H", udp_csum(ip, tot - 20))
    return bytes(o)


def expect_bounce(f, port, k_auth=None):
    """Section 8; in version 2 the tag is recomputed only with k_auth (see
    take_tag otherwise)."""
    l3 = l2_len(f)
    o = bytearray(f[:l3 + 96])
    o[0:6] = f[6:12]
    o[6:12] = port["mac"]
    ip = memoryview(o)[l3:]
    ip[2:4] = struct.pack("!H", 96)
    ip[8] = 64
    src = bytes(ip[12:16])
    ip[12:16] = port["ip"]
    ip[16:20] = src
    sport = bytes(ip[20:22])
    ip[20:22] = struct.pack("!H", port["port"])
    ip[22:24] = sport
    ip[24:26] = struct.pack("!H", 76)
    h = ip[28:]
    h[3] = 2   # BOUNCE
    h[6] = 1   # RECIPIENT_UNAVAILABLE
    if h[2] == 2:
        h[56:58] = b"\0\0"
        if k_auth is not None:
            from orauth import sender_key, siphash24
            k = sender_key(k_auth, bytes(h[16:32]))
            h[TAG_OFF:68] = siphash24(k, bytes(h[:TAG_OFF]))
    else:
        h[64:66] = b"\0\0"
    ip_hdr_fix(ip)
    ip[26:28] = struct.pack("!H", udp_csum(ip, 76))
    return bytes(o)


def take_tag(e, g):
    """The expected version-2 bounce e with the tag of g, the frame the
    appliance sent, and the UDP checksum over it: what can be checked
    without K_auth."""
    l3 = l2_len(e)
    t = l3 + 28 + TAG_OFF
    o = bytearray(e)
    o[t:t + 8] = g[t:t + 8]
    ip = memoryview(o)[l3:]
    ip[26:28] = struct.pack("!H", udp_csum(ip, 76))
    return bytes(o)


def expect_arp(f, port):
    """Section 9."""
    l3 = l2_len(f)
    o = bytearray(f)
    arp = memoryview(o)[l3:]
    sha, spa = bytes(arp[8:14]), bytes(arp[14:18])
    o[0:6] = sha
    o[6:12] = port["mac"]
    arp[6:8] = struct.pack("!H", 2)
    arp[8:14] = port["mac"]
    arp[14:18] = port["ip"]
    arp[18:24] = sha
    arp[24:28] = spa
    return bytes(o)


def msg_tokens(f):
    h = l2_len(f) + 28
    return f[h + 16:h + 32].hex(), f[h + 32:h + 48].hex()


def load_entries(path):
    table = {}
    with open(path) as fh:
        for line in fh:
            line = line.split("#")[0].split()
            if line:
                table[line[0].lower()] = (line[1] in ("in", "1"), int(line[2]))
    return table


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="inp", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--entries", required=True)
    ap.add_argument("--client-out", required=True)
    ap.add_argument("--deliver-out", required=True)
    ap.add_argument("--client", required=True, help="MAC,IP,UDPPORT")
    ap.add_argument("--egress", required=True, help="MAC,IP,UDPPORT")
    ap.add_argument("--nexthop", action="append", default=[],
                    help="ID,MAC,IP,UDPPORT")
    ap.add_argument("--stats", required=True, help="/optroute/stats JSON")
    ap.add_argument("--auth-key", help="K_auth (32 hex digits): recompute "
                    "the tags of version-2 bounces")
    a = ap.parse_args()
    k_auth = bytes.fromhex(a.auth_key) if a.auth_key else None
    if k_auth is not None:
        if len(k_auth) != 16:
            ap.error("--auth-key: 32 hex digits")
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
            __file__)), "..", "integration", "lib"))

    def addr(s):
        m, i, p = s.split(",")
        return {"mac": mac(m), "ip": ip4(i), "port": int(p)}

    client, egress = addr(a.client), addr(a.egress)
    nhs = {}
    for s in a.nexthop:
        i, rest = s.split(",", 1)
        nhs[int(i)] = addr(rest)
    table = load_entries(a.entries)
    frames = read_pcap(a.inp)
    manifest = [l.split() for l in open(a.manifest) if l.strip()]
    fails = []
    if len(manifest) != len(frames):
        fails.append(f"manifest has {len(manifest)} lines, pcap {len(frames)} frames")

    exp_client, exp_deliv, drops = [], [], {}
    for idx, (f, m) in enumerate(zip(frames, manifest)):
        kind = m[1]
        if kind in ("deliver", "bounce") or m[1:] == ["drop", "sender_not_opted_in"]:
            s, r = msg_tokens(f)
            s_in = table.get(s, (False, 0))[0]
            r_in, node = table.get(r, (False, 0))
            truth = ("drop" if not s_in else
                     "deliver" if r_in and node in nhs else
                     "no_route" if r_in else "bounce")
            want = "drop" if kind == "drop" else kind
            if truth != want:
                fails.append(f"frame {idx}: manifest says {kind}, table says {truth}")
                continue
        if kind == "deliver":
            node = table[msg_tokens(f)[1]][1]
            exp_deliv.append((idx, expect_deliver(f, nhs[node], egress)))
        elif kind == "bounce":
            exp_client.append((idx, expect_bounce(f, client, k_auth)))
        elif kind == "arp":
            exp_client.append((idx, expect_arp(f, client)))
        elif kind == "drop":
            drops[m[2]] = drops.get(m[2], 0) + 1
        else:
            fails.append(f"manifest line {idx}: unknown outcome {kind}")

    for name, path, exp in (("client", a.client_out, exp_client),
                            ("delivery", a.deliver_out, exp_deliv)):
        got = read_pcap(path)
        if len(got) != len(exp):
            fails.append(f"{name} port sent {len(got)} frames, expected {len(exp)}")
        for k, (g, (idx, e)) in enumerate(zip(got, exp)):
            h = l2_len(e) + 28
            retag = (name == "client" and k_auth is None and
                     len(e) >= h + 68 and e[h + 2] == 2 and e[h + 3] == 2)
            if retag and len(g) == len(e):
                if g[h + TAG_OFF:h + 68] == e[h + TAG_OFF:h + 68]:
                    fails.append(f"{name} output {k} (input frame {idx}): "
                                 "the bounce carries the MSG's tag (not "
                                 "signed anew)")
                e = take_tag(e, g)
            if g != e:
                diff = next((i for i in range(min(len(g), len(e))) if g[i] != e[i]),
                            min(len(g), len(e)))
                fails.append(f"{name} output {k} (input frame {idx}): differs at "
                             f"byte {diff} (len {len(g)} vs {len(e)}):\n"
                             f"   got  {g.hex()}\n   want {e.hex()}")

    stats = json.load(open(a.stats))
    stats = stats.get("/optroute/stats", stats)
    want = {
        "rx": len(frames),
        "delivered": len(exp_deliv),
        "bounced": sum(1 for _, m in zip(frames, manifest) if m[1] == "bounce"),
        "arp_replies": sum(1 for m in manifest if m[1] == "arp"),
        "dropped": sum(drops.values()),
    }
    want["tx"] = want["delivered"] + want["bounced"] + want["arp_replies"]
    for k, v in drops.items():
        want["drop_" + k] = v
    for k, v in stats.items():
        if v != want.get(k, 0):
            fails.append(f"counter {k} = {v}, expected {want.get(k, 0)}")
    for k in want:
        if k not in stats:
            fails.append(f"counter {k} missing from the stats")

    for f in fails:
        print("FAIL:", f)
    print(f"pcapcheck: {len(frames)} input frames; {len(exp_deliv)} delivered, "
          f"{len(exp_client)} sent back (bounces + ARP), "
          f"{sum(drops.values())} dropped in {len(drops)} reasons; "
          f"{len(fails)} failure(s)")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
