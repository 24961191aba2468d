#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""or_keyscan: TEST-ONLY search for sender-authentication keys
(include/optroute/auth.h) in files, core dumps and an update-channel
capture, for tests/integration/auth_privacy.sh. It never prints a key:
a finding names the key (K_auth[e], K_sender[e] of a token's first
digits) and where it was.

  or_keyscan.py MODE --master KEYFILE --authkeys BIN [--epochs LIST|all]
                [--phone-key FILE]... [--witness HEX]... [--exclude DIR]...
                TARGET...

The keys searched:
  K_auth[e] for the epochs of --epochs (default all 256), derived here
    from the master key file with hashlib's BLAKE2b, exactly as
    crypto_kdf_derive_from_key(16, e, "optrauth", master), and checked
    against or_authkeys (BIN), an independent C derivation, for every epoch
    that a --phone-key or the capture names;
  K_sender of each --phone-key file (optroute-client open-key's output),
    checked against or_authkeys sender (AES-128 of the token under
    K_auth[e]) so that what is searched is what the appliance computes.

Modes:
  files  TARGETs are files or folders (walked, but not into an --exclude
         folder): each key as raw bytes, hex (either case) and base64 must
         be absent.
  core   TARGETs are core files: each key as raw bytes and hex must be
         absent; each --witness (hex bytes the process surely holds, e.g. a
         token) must be present, so that an empty core cannot pass.
  chan   TARGET is an optroute-chanrec.py capture: no key in any message
         but AUTH_KEYS; in AUTH_KEYS, K_auth only at its key slots and
         exactly K_auth of the epoch the slot names, no K_sender at all.
         Prints the epoch sets the AUTH_KEYS messages carried.

Exit status: 0 clean, 1 a key found (or a check failed), 2 usage.
"""
import argparse
import base64
import hashlib
import os
import struct
import subprocess
import sys

sys.dont_write_bytecode = True  # (no __pycache__ in the source tree)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
chanrec = __import__("optroute-chanrec")

CHAN_AUTH_KEYS = 10
AUTH_KEYS_FMT = "<HHIQII"  # hdr (type, flags, len), seq, version, count
AUTH_KEY_SLOT = 24         # epoch, pad[7], key[16]


def k_auth(master, e):
    salt = struct.pack("<Q", e) + bytes(8)
    person = b"optrauth" + bytes(8)
    return hashlib.blake2b(b"", digest_size=16, key=master, salt=salt,
                           person=person).digest()


def tool(binary, *args):
    r = subprocess.run([binary, *args], capture_output=True, text=True,
                       check=False)
    if r.returncode != 0:
        sys.exit("or_keyscan: %s %s failed: %s" % (binary, args[0], r.stderr))
    return bytes.fromhex(r.stdout.strip())


def read_kv(path):
    kv = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 2:
            kv[parts[0]] = parts[1]
    return kv


def load_keys(a):
    """{name: 16 bytes}, and the K_auth of each epoch by number."""
    master = bytes.fromhex(open(a.master).read().strip())
    assert len(master) == 32, "master key file: 64 hex digits"
    epochs = range(256) if a.epochs == "all" else \
        [int(e) for e in a.epochs.split(",") if e != ""]
    auth = {e: k_auth(master, e) for e in range(256)}
    keys = {"K_auth[%d]" % e: auth[e] for e in epochs}
    checked = set()
    for path in a.phone_key:
        kv = read_kv(path)
        e, tok, ks = int(kv["epoch"]), kv["token"], bytes.fromhex(kv["k_sender"])
        if e not in checked:
            if tool(a.authkeys, "auth", a.master, str(e)) != auth[e]:
                sys.exit("or_keyscan: K_auth[%d] differs from or_authkeys'" % e)
            checked.add(e)
        if tool(a.authkeys, "sender", a.master, str(e), tok) != ks:
            sys.exit("or_keyscan: %s: K_sender is not AES(K_auth[%d], token)"
                     % (path, e))
        keys["K_sender[%d] of %s.." % (e, tok[:8])] = ks
        keys.setdefault("K_auth[%d]" % e, auth[e])
    return keys, auth, checked


def forms(k, mode):
    f = [k, k.hex().encode(), k.hex().upper().encode()]
    if mode == "files":
        f.append(base64.b64encode(k))
    else:
        # Memory holds a key also as two 64-bit words (SipHash's k0 and
        # k1, a register each); 8 random bytes match by chance with odds
        # of 2^-64 per position, never in practice.
        f += [k[:8], k[8:]]
    return f


def walk(targets, exclude):
    skip = {os.path.realpath(x) for x in exclude}
    for t in targets:
        if os.path.isdir(t):
            for root, dirs, files in os.walk(t):
                dirs[:] = [d for d in dirs if os.path.realpath(
                    os.path.join(root, d)) not in skip]
                for n in sorted(files):
                    p = os.path.join(root, n)
                    if os.path.isfile(p):  # (not the sockets)
                        yield p
        else:
            yield t


def scan_blob(data, keys, mode):
    return sorted({name for name, k in keys.items()
                   for f in forms(k, mode) if f in data})


def scan_chan(path, keys, auth, checked, a):
    found, sets = [], []
    for i, (d, m) in enumerate(chanrec.records(path)):
        typ = struct.unpack_from("<H", m)[0] if len(m) >= 2 else 0
        if d == ">" and typ == CHAN_AUTH_KEYS:
            _, _, _, _, _, count = struct.unpack_from(AUTH_KEYS_FMT, m)
            off = struct.calcsize(AUTH_KEYS_FMT)
            rest = bytearray(m)
            eps = []
            for s in range(count):
                e = m[off + s * AUTH_KEY_SLOT]
                ko = off + s * AUTH_KEY_SLOT + 8
                if m[ko:ko + 16] != auth[e]:
                    found.append("AUTH_KEYS message %d: slot %d is not "
                                 "K_auth[%d]" % (i, s, e))
                if e not in checked:
                    if tool(a.authkeys, "auth", a.master, str(e)) != auth[e]:
                        sys.exit("or_keyscan: K_auth[%d] differs from "
                                 "or_authkeys'" % e)
                    checked.add(e)
                rest[ko:ko + 16] = bytes(16)
                eps.append(e)
            sets.append(eps)
            m = bytes(rest)
        for name in scan_blob(m, keys, "core"):
            found.append("%s in message %d (%s, type %d)" % (name, i, d, typ))
    print("or_keyscan: AUTH_KEYS epoch sets, in order: %s" % sets)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["files", "core", "chan"])
    ap.add_argument("--master", required=True)
    ap.add_argument("--authkeys", required=True)
    ap.add_argument("--epochs", default="all")
    ap.add_argument("--phone-key", action="append", default=[])
    ap.add_argument("--witness", action="append", default=[])
    ap.add_argument("--exclude", action="append", default=[])
    ap.add_argument("target", nargs="+")
    a = ap.parse_args()
    keys, auth, checked = load_keys(a)
    found = []
    if a.mode == "chan":
        found = scan_chan(a.target[0], keys, auth, checked, a)
    else:
        n = 0
        for path in walk(a.target, a.exclude):
            with open(path, "rb") as f:
                data = f.read()
            n += 1
            for name in scan_blob(data, keys, a.mode):
                found.append("%s in %s" % (name, path))
            for w in a.witness:
                if bytes.fromhex(w) not in data:
                    found.append("witness %s.. not in %s (empty core?)"
                                 % (w[:8], path))
        print("or_keyscan: %d keys, %d files (%s)" % (len(keys), n, a.mode))
    for f in found:
        print("or_keyscan: FOUND " + f)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
