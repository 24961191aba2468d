#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/NAME/).

Deterministic: run it again after changing a target's input format, and
commit what changes. The packet seeds are the worked examples of
docs/protocol.md sections 11 and 12, read from the document itself.
Usage: tests/fuzz/seeds.py [NAME...]   (default: every target)
"""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def doc_frames():
    """The hex dumps of docs/protocol.md, in order."""
    text = open(os.path.join(ROOT, "docs", "protocol.md")).read()
    frames = []
    for block in re.findall(r"```\n(0000 .*?)```", text, re.S):
        b = bytearray()
        for line in block.strip().splitlines():
            b += bytes.fromhex(" ".join(line.split()[1:]))
        frames.append(bytes(b))
    return frames


# ---------------------------------------------------------------- pkt --
F_V2, F_FIX_IP, F_SIGN, F_FIX_UDP = 0x01, 0x02, 0x04, 0x08
F_OVER, F_FIX_LEN, F_RETIRED, F_FIX_ADDR = 0x10, 0x20, 0x40, 0x80
NONE, IN0, OUT, IN1, IN2 = 0x00, 0x01, 0x02, 0x05, 0x09


def pkt():
    fr = doc_frames()
    # fr[0] K_sender (16 bytes), v2: fr[1] MSG, fr[2] delivered, fr[3]
    # bounce, fr[4] over budget; v1: fr[5] MSG, fr[6] delivered, fr[7] bounce
    v2, v1 = fr[1], fr[5]
    assert len(v2) == 126 and len(v1) == 126

    def seed(name, flags, s, r, frame, mtu=0):
        write("pkt", name, bytes([flags, s, r, mtu]) + frame)

    seed("v1-deliver", 0, IN0, IN1, v1)
    seed("v1-bounce-none", 0, IN0, NONE, v1)
    seed("v1-bounce-out", 0, IN0, OUT, v1)
    seed("v1-no-route", 0, IN0, IN2, v1)
    seed("v1-sender-out", 0, OUT, IN0, v1)
    seed("v2-deliver", F_V2, IN0, IN1, v2)
    seed("v2-bounce", F_V2, IN0, NONE, v2)
    seed("v2-over-budget", F_V2 | F_OVER, IN0, IN0, v2)
    seed("v2-retired", F_V2 | F_RETIRED, IN0, OUT, v2)
    seed("v2-bad-tag", F_V2, IN0, IN0, v2[:-20] + b"\x00" + v2[-19:])
    # Epoch 7, re-signed and checksums fixed by the harness.
    e7 = bytearray(v2)
    e7[0x2f] = 7
    seed("v2-epoch7-signed", F_V2 | F_SIGN | F_FIX_UDP | F_FIX_IP, IN0, OUT,
         bytes(e7))
    # Tagged, with padding, lengths and checksums fixed by the harness.
    tagged = v1[:12] + b"\x81\x00\x20\x64" + v1[12:] + b"\x00" * 8
    seed("v1-tagged-pad", F_FIX_UDP | F_FIX_IP, IN0, NONE, tagged)
    # 1501 and 1500 bytes of IPv4: too_big on a standard port, fine on a
    # jumbo one.
    big = v1 + bytes(i * 7 & 0xff for i in range(1515 - len(v1)))
    fix = F_FIX_LEN | F_FIX_UDP | F_FIX_IP
    seed("v1-1501", fix, IN0, IN0, big)
    seed("v1-1500", fix, IN0, NONE, big[:-1])
    seed("v1-1501-jumbo", fix, IN0, IN0, big, mtu=1)
    # ARP request for the port's IP, broadcast; and tagged, to the MAC.
    arp = (b"\xff" * 6 + bytes.fromhex("02000000000a") + b"\x08\x06" +
           bytes.fromhex("0001 0800 06 04 0001") +
           bytes.fromhex("02000000000a c000020a 000000000000 c6336401"))
    seed("arp-request", 0, 0, 0, arp)
    arp_t = (bytes.fromhex("020000000101 02000000000a 8100 0064 0806") +
             arp[14:] + b"\x00" * 18)
    seed("arp-request-tagged", 0, 0, 0, arp_t)


# -------------------------------------------------------- chan_server --
# Script ops: 0 raw, 1 HELLO, 2 BATCH, 3 RESYNC_DATA, 4 RESYNC_BEGIN,
# 5 RESYNC_END, 6 STATS_REQUEST, 7 AUTH_KEYS, 8 ERROR, 9 wakeup, 10 close,
# 11 second peer, 12 MARK. Seq modes: 0 next, 3 same again, 4 zero, 5 skip
# ahead.
def cs_hello(v=0, *extra):
    return bytes([1, v, *extra])


def cs_batch(ops, mode=0, opt=0, kind=2):
    b = bytes([kind, mode, len(ops), opt])
    for c, rs in ops:
        b += bytes([c, rs])
    return b


def cs_stats(flags, i):
    return bytes([6, flags]) + struct.pack("<Q", i)


def cs_keys(v, seed, e0, e1, mode=0):
    return bytes([7, v, seed, mode, e0, e1])


WAKE, CLOSE, SECOND = b"\x09", b"\x0a", b"\x0b"
UP_IN, UP_OUT = 0x01, 0x02  # rec selectors: IN node 0, OUT node 0


def chan_server():
    w = lambda n, b: write("chan_server", n, b)
    w("conversation",
      cs_hello() + cs_batch([(0x00, UP_IN), (0x04, 0x05), (0x09, UP_OUT)]) +
      WAKE + cs_stats(0, 1) + WAKE + bytes([4, 0, 7]) +
      cs_batch([(0x00, UP_IN), (0x08, UP_IN)], kind=3) +
      cs_batch([(0x0d, 0)]) + bytes([5, 0, 7]) + WAKE +
      cs_keys(2, 9, 3, 4) + WAKE + SECOND + CLOSE + cs_hello() +
      cs_batch([(0x10, UP_IN)]) + WAKE)
    w("errors",
      cs_batch([(0, UP_IN)]) + cs_hello(3, 5, 1) + WAKE + cs_hello() +
      cs_batch([(0, UP_IN)]) + cs_batch([(0, UP_IN)], mode=3) +
      cs_batch([(0, UP_IN)], mode=4) + cs_batch([(0, UP_IN)], kind=3) +
      bytes([5, 0, 9]) + bytes([4, 0, 0]) + cs_batch([(0x03, UP_IN)]) +
      cs_batch([(0x00, 0x00)]) + cs_batch([(0, UP_IN)], opt=3) +
      cs_keys(0x81, 1, 3, 4) + cs_keys(2, 1, 5, 5) +
      bytes([0, 3, 0]) + b"abc" +
      bytes([0, 8, 0]) + struct.pack("<HHI", 77, 0, 8) +
      cs_stats(0, 7) + cs_hello() + cs_hello(2, 9) + WAKE)
    w("bad-role", cs_hello(2, 9) + cs_batch([(0, UP_IN)]) + WAKE +
      cs_hello(2, 3) + cs_batch([(0, UP_IN)]) + WAKE)
    w("big-batch",
      cs_hello() + bytes([2, 0, 0xff, 0]) + struct.pack("<H", 2046) + WAKE +
      bytes([2, 0, 0xff, 0]) + struct.pack("<H", 0xffff) + WAKE +
      cs_stats(1, 2) + cs_stats(0, 3) + WAKE)
    w("close-unread",
      cs_hello() + cs_batch([(0, UP_IN), (4, UP_IN)]) + CLOSE)
    w("resync-abort",
      cs_hello() + cs_batch([(0, UP_IN)]) + WAKE + bytes([4, 0, 3]) +
      cs_batch([(4, UP_IN)], kind=3) + cs_batch([(8, UP_OUT)]) + CLOSE +
      cs_hello() + WAKE)
    w("keys-before-hello", cs_keys(2, 1, 3, 4) + WAKE + cs_hello() +
      cs_keys(1, 2, 3, 0) + cs_keys(0, 0, 0, 0) + WAKE)
    w("peer-error", cs_hello() + bytes([8, 22, 0, 0, 0]) + b"boo" +
      bytes(93) + WAKE)
    mark = lambda seq: bytes([12, seq]) + bytes(range(32))
    w("mark", cs_hello() + mark(3) + WAKE + bytes([4, 0, 2]) +
      cs_batch([(0, UP_IN)], kind=3) + bytes([5, 0, 2]) + mark(5) + WAKE +
      CLOSE + cs_hello() + WAKE + cs_batch([(4, UP_IN)]) + WAKE + CLOSE +
      cs_hello() + WAKE + mark(6) + mark(0) + mark(7) + WAKE + CLOSE +
      cs_hello() + WAKE)


# -------------------------------------------------------- chan_client --
# Input: role, number of connect-phase messages, those messages, then
# steps. Dataplane messages: 0 raw, 1 ACK, 2 ERROR, 3 HELLO, 4 STATS_REPLY,
# 5 bare header. Steps: 0..4 the dataplane sends (kind byte follows),
# 5 send_batch, 6 resync, 7 auth keys, 8 wait_ack, 9 poll, 10 take errors,
# 11 get_stats, 12 set_next_seq, 13 the dataplane closes.
def cc_hello(mode=0, *extra):
    return bytes([3, mode, *extra])


def cc_dp(msg):
    return bytes([0]) + msg


def chan_client():
    w = lambda n, b: write("chan_client", n, b)
    ops3 = bytes([5, 3, 0, 1, 4, 1, 9, 2])
    w("good",
      bytes([0, 1]) + cc_hello() + ops3 + cc_dp(bytes([1, 1])) +
      bytes([8, 1]) + cc_dp(bytes([4, 1 | 8, 2, 7, 9])) +
      bytes([11, 10, 0]) + bytes([10]) + bytes([7, 2, 3, 4, 0]) +
      bytes([6, 3, 5, 2, 0, 1, 4, 1]) + cc_dp(bytes([2, 0])) +
      bytes([9, 10, 13, 8, 1, 5, 1, 0, 1, 10]))
    w("error-ffffffff-before-hello",
      bytes([0, 1, 2, 8]) + b"\xff\xff\xff\xff")
    w("error-80000000-before-hello",
      bytes([0, 1, 2, 8]) + struct.pack("<I", 0x80000000))
    w("error-0-before-hello", bytes([1, 1, 2, 2]))
    w("close-before-hello", bytes([0, 1, 0, 3, 1, 2, 3]))
    w("hello-version-2", bytes([0, 1]) + cc_hello(1, 2))
    w("hello-max-ops-1",
      bytes([1, 1]) + cc_hello(4) + struct.pack("<H", 1) +
      bytes([5, 5, 0, 1, 4, 1, 8, 1, 12, 1, 16, 1]) + bytes([12, 7]) +
      ops3 + bytes([10]))
    w("hello-acked-100",
      bytes([0, 1]) + cc_hello(8) + struct.pack("<Q", 100) + ops3 +
      bytes([8, 4]) + cc_dp(bytes([1, 1])) + bytes([8, 1]) +
      cc_dp(bytes([1, 2]) + struct.pack("<Q", 5)) + bytes([9]))
    w("malformed",
      bytes([0, 3, 0, 2, 1, 2, 1, 1]) + cc_hello() +
      cc_dp(bytes([0, 5, 1, 2, 3, 4, 5])) + cc_dp(bytes([5, 99])) +
      cc_dp(bytes([4, 4 | 1 | 8, 1, 3])) + bytes([11, 5, 1]) +
      cc_dp(bytes([2, 8 | 16 | 32]) + struct.pack("<IIQ", 0, 7, 9)) +
      bytes([9, 10]))


# --------------------------------------------------------------- mgmt --
# Input: a flags byte (bit 0: first a line of 65530 + (flags >> 1) bytes),
# then the bytes of the connection.
def mgmt():
    w = lambda n, lines, flags=0: write(
        "mgmt", n, bytes([flags]) + "".join(lines).encode())
    pk = "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    tok = "00112233445566778899aabbccddeeff"
    w("commands", [
        '{"v":1,"id":1,"cmd":"help"}\n',
        '{"v":1,"id":"v-2","cmd":"version"}\r\n',
        "\n   \t\r\n",
        '{"v":1,"id":3,"cmd":"status","number":"+15550100001"}\n',
        '{"v":1,"id":4,"cmd":"status","number":"+15550100002"}\n',
        '{"v":1,"id":5,"cmd":"status","token":"%s"}\n' % tok,
        '{"v":1,"id":6,"cmd":"audit","number":"+15550100001"}\n',
        '{"v":1,"id":7,"cmd":"audit"}\n',
        '{"v":1,"id":8,"cmd":"stats","clear":true}\n',
        '{"v":1,"id":9,"cmd":"table"}\n',
        '{"v":1,"id":10,"cmd":"dataplane"}\n',
        '{"v":1,"id":11,"cmd":"pubkey"}\n',
        '{"v":1,"id":12,"cmd":"keys"}\n',
        '{"v":1,"id":13,"cmd":"rotate"}\n',
        '{"v":1,"id":14,"cmd":"status","token":"%s","after_seq":1}\n' % tok,
        '{"v":1,"id":15,"cmd":"status","number":"+15550100001",'
        '"after_seq":900}\n',
        '{"v":1,"id":16,"cmd":"fleet","forget":"a2"}\n',
        '{"v":1,"id":17,"cmd":"status","sealed":"AAAA"}'])
    w("changes", [
        '{"v":1,"id":1,"cmd":"optin","number":"+4915112345678","node":3,'
        '"notice":7,"method":"app","wait":true}\n',
        '{"v":1,"id":2,"cmd":"optout","token":"%s"}\n' % tok,
        '{"v":1,"id":3,"cmd":"erase","number":"+15550100003"}\n',
        '{"v":1,"id":4,"cmd":"optin","number":"+15550100004",'
        '"pubkey":"%s"}\n' % pk,
        '{"v":1,"id":5,"cmd":"rekey","number":"+15550100001",'
        '"pubkey":"%s"}\n' % pk,
        '{"v":1,"id":6,"cmd":"rekey","number":"+15550100002",'
        '"pubkey":"%s"}\n' % pk,
        '{"v":1,"id":7,"cmd":"optin","number":"+15550100005",'
        '"pubkey":"AAAA"}\n'])
    w("import", [
        '{"v":1,"id":"imp","cmd":"import","action":"optin","first_line":10,'
        '"lines":["+15550100010"," %s ","# c","","+0123","+1555x",'
        '"+15550100011\\r"]}\n' % tok,
        '{"v":1,"cmd":"import","action":"optout","lines":["+15550100010"]}'])
    w("errors", [
        "not json\n",
        "[1,2]\n",
        '{"v":15551234567,"cmd":"help"}\n',
        '{"v":1,"cmd":"help","15551234567":1}\n',
        '{"v":1,"cmd":"help","nmbr":1}\n',
        '{"v":1,"cmd":"optin","number":"+15551234567x"}\n',
        '{"v":1,"cmd":"optin","number":"15551234567"}\n',
        '{"v":1,"cmd":"optin","number":"+15551234567","token":"%s"}\n' % tok,
        '{"v":1,"cmd":"optin","token":"0011"}\n',
        '{"v":1,"id":{"x":1},"cmd":"help"}\n',
        '{"v":1,"id":"15551234567","cmd":"nope"}\n',
        '{"v":1,"cmd":"optin","number":"+15551234567","node":70000}\n',
        '{"v":1,"cmd":"optin","number":"+15551234567","v":1}\n',
        '{"v":1,"cmd":"import","action":"optin","lines":[1]}\n',
        '{"v":1,"cmd":"rekey","number":"+15551234567"}'])
    w("long-line", ['{"v":1,"id":1,"cmd":"help"}\n'], flags=11)
    w("long-line-ok", ['{"v":1,"id":1,"cmd":"help"}\n'], flags=12)


# ------------------------------------------------------------- config --
# Input: the file.
def config():
    w = lambda n, b: write("config", n, b.encode() if isinstance(b, str)
                           else b)
    for name in ("deploy/optroute.ini", "deploy/dev/optroute.ini"):
        w(name.replace("/", "-"), open(os.path.join(ROOT, name), "rb").read())
    port = "[port p]\ndevice = net_null0\nworkers = 1\nip = 192.0.2.1\n"
    w("small", """; a comment
[eal]
args = --no-huge -m 512 --no-pci
args = --file-prefix=t1
main_lcore = 0
lcore_cpus = 1@0 2@0
[dataplane]
udp_port = 7041
channel = /tmp/or-test.sock   ; inline comment
table_entries = 5000
start_rx_after_sync = ack
auth = no
budget_burst = 10
[port client]
device = net_pcap0,rx_pcap=/tmp/in.pcap,
    tx_pcap=/tmp/out.pcap
rx_queues = 2
workers = 1-2
ip = 192.0.2.1
mac = 02:00:00:00:00:01
mtu = 9000
[port delivery]
device = 0000:01:00.0
ip = 198.51.100.1
[nexthop 7]
port = delivery
mac = 02:00:00:00:01:07
ip = 198.51.100.7
[nexthop 3]
port = client
mac = 02:00:00:00:01:03
ip = 192.0.2.3
udp_port = 9000
[control]
key_file = /etc/optroute/master.key
key_epoch = 3
node_policy = hash 4
allowed_uid = root
log_level = debug
readonly_gid = 0
[exporter]
listen = [::1]:9140
max_age_ms = 250
log_level = notice
""")
    w("control-only", """[control]
mgmt_socket = /run/x.sock
channel_socket = /run/dp.sock
store_path = /var/lib/x
store_map_mb = 64
allowed_gid = 0
node_policy = fixed 7
""" + port)
    w("channel-too-long", "[dataplane]\nchannel = /" + "x" * 120 + "\n" + port)
    w("channel-107", "[dataplane]\nchannel = /" + "y" * 106 + "\n" + port)
    w("metrics-remote", "[exporter]\nlisten = 0.0.0.0:9140\n" + port)
    w("metrics-remote-allowed", "[control]\nmgmt_socket = /run/m.sock\n"
      "[exporter]\nallow_remote = yes\nlisten = 0.0.0.0:9140\n" + port)
    w("metrics-moved", "[control]\nmetrics = 127.0.0.1:9140\n" + port)
    w("errors", port + "[nexthop 1]\nport = q\nmtu = 5\n[bogus]\n")
    w("nul-byte", b"[dataplane]\nudp_port = 70\x0040\n" + port.encode())
    w("long-line", "[control]\nkey_file = /" + "k" * 300 + "\n" + port)
    w("mtu", port + "mtu = 96\n[port q]\ndevice = net_null1\n"
      "ip = 192.0.2.2\nmtu = 9217\n")
    # The channel's peer check (names, numbers, a name that does not
    # exist, a number out of range): both parsers read [dataplane].
    w("channel-peer", "[dataplane]\nchannel_peer_uid = root\n"
      "channel_peer_gid = 0\n" + port)
    w("channel-peer-bad", "[dataplane]\nchannel_peer_uid = no-such-user\n"
      "channel_peer_gid = 4294967296\n" + port)


# -------------------------------------------------------------- token --
# Input: mode (0 number, 1 hex, 2 blob, 3 sealed here, 4 sealed here as
# base64 of variant (mode >> 3) & 3, 5 base64 text), epoch, the bytes.
def token():
    w = lambda n, mode, epoch, b: write("token", n, bytes([mode, epoch]) + b)
    w("number-vector", 0, 0, b"+4915112345678")
    w("number-15-digits", 0, 3, b"+123456789012345")
    w("number-16-digits", 0, 3, b"+1234567890123456")
    w("number-newline", 0, 0, b"+15550100001\n")
    w("number-leading-zero", 0, 0, b"+0123")
    w("number-nul", 0, 0, b"+1555\x000100001")
    w("hex", 1, 0, b"00112233445566778899aabbccddeeff")
    w("hex-upper", 1, 0, b"00112233445566778899AABBCCDDEEFF")
    w("hex-short", 1, 0, b"0011")
    w("blob", 2, 0, bytes(range(60)))
    w("sealed", 3, 7, b"+15550100001")
    w("sealed-bad", 3, 7, b"15550100001")
    for v in range(4):
        mode = next(m for m in range(256) if m % 6 == 4 and (m >> 3) & 3 == v)
        w("sealed-b64-variant%d" % v, mode, 1, b"+15550100001")
    w("b64-text", 5, 0, b"QUJD")
    w("b64-padding", 5, 0, b"QQ==")
    w("b64-bad-bits", 5, 0, b"QR==")


SEEDERS = {"pkt": pkt, "chan_server": chan_server,
           "chan_client": chan_client, "mgmt": mgmt, "config": config,
           "token": token}

if __name__ == "__main__":
    for name in sys.argv[1:] or sorted(SEEDERS):
        SEEDERS[name]()
