# SPDX-License-Identifier: BSD-3-Clause
"""Version 2 of the wire format (include/optroute/proto.h, struct or_hdr2)
and its tag (include/optroute/auth.h), implemented independently of the C
code for the integration tests' Python parts and optroute-pcapcheck.py:
    from orauth import HDR2, siphash24, sender_key, build2, bounce2, tag_ok
SipHash-2-4 is written out here (standard library only) and checked
against the paper's test vectors on import. The standard library has no
AES: sender_key() (K_sender = AES-128(K_auth, token)) calls the system's
libcrypto through ctypes, checked against FIPS-197 on first use; it is
independent of the dataplane's AES-NI code, not of OpenSSL. seal() is
libsodium's crypto_box_seal through ctypes (what the control plane does
to hand a phone its K_sender)."""
import ctypes
import ctypes.util
import os
import struct
import time

# magic, version, type, flags, key_epoch, reason, reserved, msg_id, sender,
# recipient, send_time, payload_len, reserved2, auth_tag
HDR2 = struct.Struct('!HBBBBBBQ16s16sQHH8s')
assert HDR2.size == 68
TAG_OFF = 60
MSG, BOUNCE = 1, 2
M64 = (1 << 64) - 1


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M64


def siphash24(key, data):
    """SipHash-2-4 (Aumasson, Bernstein 2012) of data under a 16-byte key;
    the 64-bit result as 8 little-endian bytes, as crypto_shorthash()
    writes it."""
    k0, k1 = struct.unpack('<QQ', key)
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
         k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]

    def rounds(n):
        for _ in range(n):
            v[0] = (v[0] + v[1]) & M64
            v[1] = _rotl(v[1], 13) ^ v[0]
            v[0] = _rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & M64
            v[3] = _rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & M64
            v[3] = _rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & M64
            v[1] = _rotl(v[1], 17) ^ v[2]
            v[2] = _rotl(v[2], 32)

    end = len(data) - len(data) % 8
    words = [struct.unpack_from('<Q', data, i)[0] for i in range(0, end, 8)]
    last = (len(data) & 0xff) << 56
    for i, b in enumerate(data[end:]):
        last |= b << (8 * i)
    for m in words + [last]:
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    v[2] ^= 0xff
    rounds(4)
    return struct.pack('<Q', v[0] ^ v[1] ^ v[2] ^ v[3])


# The paper's appendix A (key 00..0f, message 00..0e) and the first entry
# of its vector table (empty message).
assert siphash24(bytes(range(16)), bytes(range(15))) == \
    struct.pack('<Q', 0xa129ca6149be45e5)
assert siphash24(bytes(range(16)), b'') == struct.pack('<Q', 0x726fdb47dd0e0e31)


def now_ms():
    return int(time.time() * 1000)


def build2(mtype, msg_id, sender, recipient, key=None, epoch=0, payload=b'',
           reason=0, send_time=None, magic=0x4f52, version=2, plen=None,
           tag=bytes(8)):
    """One version-2 datagram: header then payload, signed under key
    (K_sender, 16 bytes) when given, else carrying tag; plen overrides
    payload_len (to build broken ones)."""
    h = bytearray(HDR2.pack(magic, version, mtype, 0, epoch, reason, 0,
                            msg_id, sender, recipient,
                            now_ms() if send_time is None else send_time,
                            len(payload) if plen is None else plen, 0, tag))
    if key is not None:
        h[TAG_OFF:] = siphash24(key, bytes(h[:TAG_OFF]))
    return bytes(h) + payload


def bounce2(msg, key=None, reason=1):
    """The appliance's bounce of a version-2 MSG: same header, type 2,
    reason, payload_len 0, no payload, signed anew under the sender's
    K_sender (key None: the MSG's tag kept)."""
    h = bytearray(msg[:68])
    h[3] = BOUNCE
    h[6] = reason
    h[56:58] = b'\0\0'
    if key is not None:
        h[TAG_OFF:] = siphash24(key, bytes(h[:TAG_OFF]))
    return bytes(h)


def tag_ok(hdr, key):
    """True if the version-2 header's tag is right under key."""
    return siphash24(key, bytes(hdr[:TAG_OFF])) == bytes(hdr[TAG_OFF:68])


def seal(data, pk):
    """crypto_box_seal(data, pk) with the system's libsodium."""
    lib = ctypes.CDLL(ctypes.util.find_library('sodium') or 'libsodium.so.23')
    if lib.sodium_init() < 0:
        raise OSError('sodium_init failed')
    out = ctypes.create_string_buffer(len(data) + lib.crypto_box_sealbytes())
    if lib.crypto_box_seal(out, data, ctypes.c_ulonglong(len(data)), pk) != 0:
        raise OSError('crypto_box_seal failed')
    return out.raw


def random_key():
    return os.urandom(16)


_aes = None


def _aes128_block(key, block):
    global _aes
    if _aes is None:
        lib = ctypes.CDLL(ctypes.util.find_library('crypto') or 'libcrypto.so.3')
        lib.EVP_CIPHER_CTX_new.restype = ctypes.c_void_p
        lib.EVP_aes_128_ecb.restype = ctypes.c_void_p
        lib.EVP_EncryptInit_ex.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                           ctypes.c_void_p, ctypes.c_char_p,
                                           ctypes.c_char_p]
        lib.EVP_CIPHER_CTX_set_padding.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.EVP_EncryptUpdate.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                          ctypes.POINTER(ctypes.c_int),
                                          ctypes.c_char_p, ctypes.c_int]
        lib.EVP_CIPHER_CTX_free.argtypes = [ctypes.c_void_p]
        _aes = lib
    lib = _aes
    ctx = lib.EVP_CIPHER_CTX_new()
    out, n = ctypes.create_string_buffer(32), ctypes.c_int(0)
    try:
        if not (lib.EVP_EncryptInit_ex(ctx, lib.EVP_aes_128_ecb(), None, key,
                                       None) and
                lib.EVP_CIPHER_CTX_set_padding(ctx, 0) and
                lib.EVP_EncryptUpdate(ctx, out, ctypes.byref(n), block, 16) and
                n.value == 16):
            raise OSError('AES-128 failed')
    finally:
        lib.EVP_CIPHER_CTX_free(ctx)
    return out.raw[:16]


_aes_checked = False


def sender_key(k_auth, token):
    """K_sender = AES-128(K_auth, token): one block."""
    global _aes_checked
    if not _aes_checked:
        # FIPS-197 appendix C.1.
        assert _aes128_block(bytes(range(16)),
                             bytes.fromhex('00112233445566778899aabbccddeeff')) == \
            bytes.fromhex('69c4e0d86a7b0430d8cdb78070b4c55a')
        _aes_checked = True
    return _aes128_block(bytes(k_auth), bytes(token))
