#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# optroute-store-migrate (docs/fleet.md section 10): a single box's LMDB
# store, with opt-ins, opt-outs, an erasure, an import, sender keys and an
# auth epoch rotated and retired, moves into an empty PostgreSQL system of
# record with the same head hash; an appliance started on it in fleet mode
# gives the same chain verification, the same per-subject export and the
# same states; a second migration into the now non-empty database and a
# store whose trail was altered are refused, with nothing committed.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$OR_LIB/pg.sh"
or_trap_exit pg_or_cleanup
or_need_bins optroutectl optroute-control optroute-store-migrate
CTL=$BIN/optroutectl
MIG=$BIN/optroute-store-migrate
or_fail_extra() { pg_log_tail db; }

N1=+15550400001
N2=+15550400002
N3=+15550400003
pk() { python3 -c 'import os, base64; print(base64.b64encode(os.urandom(32)).decode())'; }

pg_start db || or_fail "no PostgreSQL server"
or_key "$T/key"
or_ini_control "node_policy = hash 4" "wait_timeout_ms = 300" \
	"channel_socket = $T/none.sock" >"$T/box.ini"

# ---- a single box's history -------------------------------------------------
or_start_cp "$T/box.ini"
"$CTL" optin "$N1" --pubkey "$(pk)" >/dev/null || or_fail "optin"
"$CTL" optin "$N2" >/dev/null && "$CTL" optout "$N2" >/dev/null || or_fail "optout"
"$CTL" optin "$N3" --node 3 >/dev/null && "$CTL" erase "$N3" >/dev/null || or_fail "erase"
seq -f '+1555050%04g' 0 499 >"$T/numbers"
"$CTL" import "$T/numbers" --optin >/dev/null || or_fail "import"
"$CTL" rotate >/dev/null 2>&1
"$CTL" rekey "$N1" --pubkey "$(pk)" >/dev/null || or_fail "rekey"
"$CTL" retire >/dev/null 2>&1
for i in 1 2 3; do eval "n=\$N$i"; "$CTL" audit "$n" >"$T/audit$i.box" || or_fail "audit $i"; done
"$CTL" audit --verify >"$T/verify.box" || or_fail "audit --verify"
for n in "$N1" "$N2" "$N3" +15550500123; do "$CTL" -j status "$n" |
	python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["state"], r.get("seq"), r.get("node"))'
done >"$T/status.box"
or_stop CP_PID
head_box=$(sed -n 's/^head hash \([0-9a-f]*\)$/\1/p' "$T/verify.box")
seq_box=$(sed -n 's/.*head seq \([0-9]*\)$/\1/p' "$T/verify.box")
[ -n "$head_box" ] && [ -n "$seq_box" ] || or_fail "no head in: $(cat "$T/verify.box")"

# ---- the migration ---------------------------------------------------------------
cp -a "$T/store" "$T/store.orig"
out=$("$MIG" -c "$T/box.ini" --to "$(pg_conninfo db optroute_owner)" 2>&1)
rc=$?
or_check "the store is migrated ($out)" test $rc = 0 -a \
	"$out" = "migrated $seq_box audit entries and 502 records: head seq $seq_box hash $head_box"
or_check "... and left as it was" cmp -s "$T/store/data.mdb" "$T/store.orig/data.mdb"
or_check "PostgreSQL's head is the store's" \
	test "$(pg_sql db "SELECT head_seq || ' ' || encode(head_hash, 'hex') FROM optroute.fleet")" = "$seq_box $head_box"
out=$("$MIG" -c "$T/box.ini" --to "$(pg_conninfo db optroute_owner)" 2>&1)
rc=$?
or_check "a second migration is refused ($out)" \
	test $rc = 1 -a -n "$(echo "$out" | grep -F 'is not empty')"
or_check "... and committed nothing" \
	test "$(pg_sql db "SELECT count(*) FROM optroute.audit")" = "$seq_box"

# ---- an appliance on the migrated record ---------------------------------------------
{
	or_ini_control "node_policy = hash 4" "wait_timeout_ms = 300" \
		"channel_socket = $T/none.sock" "store = postgresql" \
		"store_conninfo = $(pg_conninfo db or_app)" "appliance_name = a1"
} | sed "s|^store_path = .*|store_path = $T/copy|" >"$T/fleet.ini"
or_start_cp "$T/fleet.ini"
for _ in $(seq 1 100); do
	[ "$("$CTL" -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["last_seq"])')" = "$seq_box" ] && break
	sleep 0.1
done
"$CTL" audit --verify >"$T/verify.fleet"
or_check "the fleet's chain verifies to the same head" \
	grep -q "^head hash $head_box$" "$T/verify.fleet"
for i in 1 2 3; do eval "n=\$N$i"; "$CTL" audit "$n" >"$T/audit$i.fleet"; done
or_check "a subject's export is unchanged (keys issued and rekeyed)" diff "$T/audit1.box" "$T/audit1.fleet"
or_check "... (opted out)" diff "$T/audit2.box" "$T/audit2.fleet"
or_check "... (erased: its history kept by a tombstone)" diff "$T/audit3.box" "$T/audit3.fleet"
or_check "... the erased subject has 2 entries" grep -q '^2 entries, hash links verified$' "$T/audit3.fleet"
for n in "$N1" "$N2" "$N3" +15550500123; do "$CTL" -j status "$n" |
	python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["state"], r.get("seq"), r.get("node"))'
done >"$T/status.fleet"
or_check "states, seqs and nodes are unchanged" diff "$T/status.box" "$T/status.fleet"
or_check "the auth epochs followed (current 1, none previous)" \
	test "$("$CTL" -j keys | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["current"], r["previous"])')" = "1 None"
or_stop CP_PID

# ---- a store whose trail was altered ------------------------------------------
# The first entry's stored value: 32 zero bytes (its prev_hash), then its
# body: seq 1 (u64 LE), time (u64), N1's token; one bit of its time flipped.
tok1=$(sed -n 's/^token \([0-9a-f]\{32\}\)$/\1/p' "$T/audit1.box")
python3 - "$T/store.orig/data.mdb" "$tok1" <<'PY'
import sys
p, tok = sys.argv[1], bytes.fromhex(sys.argv[2])
d = bytearray(open(p, "rb").read())
start, hit = 0, -1
while hit < 0:
    i = d.find(tok, start)
    assert i >= 0, "entry 1 not found"
    if d[i - 48:i - 8] == bytes(32) + (1).to_bytes(8, "little"):
        hit = i
    start = i + 1
d[hit - 8] ^= 1
open(p, "wb").write(d)
PY
sed "s|^store_path = .*|store_path = $T/store.orig|" "$T/box.ini" >"$T/bad.ini"
out=$("$MIG" -c "$T/bad.ini" --to "$(pg_conninfo db optroute_owner)" 2>&1)
rc=$?
or_check "an altered store is refused ($out)" \
	test $rc = 1 -a -n "$(echo "$out" | grep -F 'does not verify')"

or_summary
