# SPDX-License-Identifier: BSD-3-Clause
"""The wire format of docs/protocol.md, implemented independently of the C
code (standard library only), for the integration tests' Python parts:
    from orproto import HDR, build, bounce
(tests/integration/lib/common.sh puts this folder on PYTHONPATH)."""
import struct

# Section 2: magic, version, type, flags, epoch, reason, reserved, msg_id,
# sender, recipient, auth_tag, payload_len, reserved.
HDR = struct.Struct('!HBBBBBBQ16s16s16sHH')
assert HDR.size == 68

MSG, BOUNCE = 1, 2


def build(mtype, msg_id, sender, recipient, epoch=0, payload=b'', reason=0,
          magic=0x4f52, version=1, plen=None, tag=bytes(16)):
    """One datagram: header then payload; plen overrides payload_len (to
    build broken ones)."""
    return HDR.pack(magic, version, mtype, 0, epoch, reason, 0, msg_id,
                    sender, recipient, tag,
                    len(payload) if plen is None else plen, 0) + payload


def bounce(msg, reason=1):
    """Section 7: same header, type 2, reason, payload_len 0, no payload."""
    h = bytearray(msg[:68])
    h[3] = BOUNCE
    h[6] = reason
    h[64:66] = b'\0\0'
    return bytes(h)
