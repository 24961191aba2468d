#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Sender-authentication keys stay where docs/protocol.md section 5 puts
# them. With the real daemons (optroute-dataplane on two net_tap ports in a
# network namespace, optroute-control pushing the live auth epochs), after
# phones S and R opt in with keys, send signed MSGs (delivered, bounced,
# forged: the dataplane computes a K_sender for each and signs the
# bounces), a rotation, rekeys and a retirement, the bytes of K_auth[e]
# (derived here from the master key the test wrote: or_keyscan.py,
# checked against or_authkeys) and of each phone's K_sender (its key file,
# checked against AES(K_auth[e], token)) are found:
#  - in no file under the test's folder or DPDK's runtime folder of the
#    dataplane (store, logs, configuration), as raw bytes, hex or base64;
#    the phones' own key files and this test's captures aside;
#  - in no byte of the update channel but inside AUTH_KEYS, and there only
#    as K_auth of the epoch each slot names: optroute-chanrec.py, a
#    recording proxy, sits between the two daemons;
#  - in no core of either daemon taken with gcore while they run, after the
#    rotation (two live epochs) and again after the retirement (the
#    retired K_auth must be gone). The dataplane's keyring is locked,
#    MADV_DONTDUMP memory, the control plane's keys sodium_malloc memory
#    (locked, MADV_DONTDUMP too): a key in a core is a copy left
#    elsewhere (a stack, a register, a buffer), and a defect.
# Each core must hold a witness (the tokens; the management socket's
# path), so that an empty or truncated core cannot pass. Nothing of the
# machine's settings is changed: gcore attaches with ptrace and needs no
# core_pattern or ulimit.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
command -v gcore >/dev/null || { echo "auth_privacy: gcore (gdb) is needed"; exit 1; }
or_need_bins optroute-dataplane optroute-control optroutectl optroute-client or_authkeys
or_tap_ns
PROXY_PID=
OR_PIDVARS="CP_PID PROXY_PID DP_PID"
# Not scanned as "the daemons' files": the phones' keys (theirs by
# design), the channel capture and the cores (checked on their own).
PH=$T/phones
CAP=$T/capture
mkdir -m 700 "$PH" "$CAP"

# Small replay filter and budget table: the dataplane's core stays small.
{
	or_ini_eal
	OR_AUTH=yes or_ini_dataplane 1000 "idle_sleep_us = 200" \
		"replay_capacity = 1024" "budget_senders = 1024"
	or_ini_tap_appliance 203.0.113
	or_ini_control "node_policy = fixed 1" "wait_timeout_ms = 5000" \
		"channel_retry_ms = 100" "channel_socket = $T/proxy.sock"
} >"$T/or.ini"
or_key "$T/key"
CTL="$BIN/optroutectl"
CLIENT="$BIN/optroute-client"
SCAN=(python3 "$TOOLS/or_keyscan.py" --master "$T/key" --authkeys "$BIN/or_authkeys")

or_start_dp "$T/or.ini" "$NS"
or_tap_peers 203.0.113
python3 "$TOOLS/optroute-chanrec.py" --listen "$T/proxy.sock" \
	--connect "$T/dp.sock" --out "$CAP/chan.rec" 2>"$CAP/proxy.err" &
PROXY_PID=$!
or_wait_sock "$T/proxy.sock" "$PROXY_PID" 10 || or_fail "channel proxy did not start"
or_start_cp "$T/or.ini"
or_wait_synced 1
echo "ok: both daemons up, the channel through the recording proxy"

# phone NAME NUMBER [rekey]: a key pair (kept), the opt-in (or rekey) with
# its public key, the sealed K_sender opened into $PH/NAME.EPOCH.key;
# prints the token.
phone() {
	local pk j cmd=optin extra=--wait tok ep sealed
	if [ "${3:-}" = rekey ]; then
		cmd=rekey extra=
	else
		"$CLIENT" keygen --secret "$PH/$1.secret" >"$PH/$1.pub" || or_fail "keygen $1"
	fi
	pk=$(cat "$PH/$1.pub")
	# shellcheck disable=SC2086 # ($extra: one option or none)
	j=$(echo "$2" | timeout 20 "$CTL" -j $cmd - $extra --pubkey "$pk") ||
		or_fail "$cmd $1: $j"
	or_json "$j" 'print(r["token"], r["key_epoch"], r["sealed_key"])' >"$PH/$1.reply" ||
		or_fail "$cmd $1 reply: $j"
	read -r tok ep sealed <"$PH/$1.reply"
	echo "$sealed" | "$CLIENT" open-key --secret "$PH/$1.secret" --epoch "$ep" \
		--token "$tok" --out "$PH/$1.$ep.key" >/dev/null || or_fail "open-key $1"
	echo "$tok"
}
# traffic KEYFILE TO_TOKEN bounce|none COUNT [CLIENT OPTION...]: COUNT MSGs
# at once (bursts: the dataplane's eight-at-a-time path), every one
# bounced (signed, checked by the client) or none. The client's output
# stays in $T: it never prints a key either.
traffic() {
	local key=$1 to=$2 exp=$3 n=$4
	shift 4
	in_ns timeout 30 "$CLIENT" send --to 192.0.2.1 --key "$key" --to-token "$to" \
		--count "$n" --payload "x" --wait-ms 500 --expect "$exp" "$@" \
		>"$T/send.out" 2>&1 || or_fail "traffic: $(tail -n 3 "$T/send.out")"
}
# Cores are taken and scanned except under SAN=1: ASan's shadow memory
# makes a core of terabytes (gcore runs for minutes and the process dies),
# and a sanitizer build keeps locals in memory (redzones, fake stacks) that
# the release build does not: the release build is what must hold no key.
CORES=yes
[ "${SAN:-0}" = 1 ] && CORES=no
# core NAME PID: a core of the running process into $CAP/NAME.core.
core() {
	if [ "$CORES" = no ]; then
		echo "skipped: core of $1 (SAN=1 build)"
		return 0
	fi
	timeout 300 gcore -o "$CAP/$1" "$2" >"$CAP/$1.gcore.log" 2>&1 ||
		or_fail "gcore $1: $(tail -n 5 "$CAP/$1.gcore.log")"
	mv "$CAP/$1.$2" "$CAP/$1.core"
	echo "ok: core of $1 ($(($(stat -c %s "$CAP/$1.core") >> 20)) MiB)"
}

S=$(phone s +15550950001)
R=$(phone r +15550950002)
U=$(or_token +15550950003)
echo "ok: S and R opted in with keys (epoch 0)"
traffic "$PH/s.0.key" "$R" none 24
traffic "$PH/r.0.key" "$S" none 24
traffic "$PH/s.0.key" "$U" bounce 4
traffic "$PH/r.0.key" "$S" none 8 --forge-tag
j=$(timeout 20 "$CTL" -j rotate) || or_fail "rotate: $j"
or_json "$j" 'assert r["ok"], r' || or_fail "rotate: $j"
phone s +15550950001 rekey >/dev/null
phone r +15550950002 rekey >/dev/null
{ [ -s "$PH/s.1.key" ] && [ -s "$PH/r.1.key" ]; } || or_fail "rekey did not issue epoch 1"
traffic "$PH/s.1.key" "$R" none 24
traffic "$PH/r.0.key" "$S" none 24
traffic "$PH/r.1.key" "$U" bounce 4
echo "ok: rotated, S and R rekeyed (epoch 1), traffic under both epochs"

# The witnesses: the tokens (the dataplane's table) and the management
# socket's path (the control plane's configuration).
W_DP=(--witness "$S" --witness "$R")
W_CP=(--witness "$(printf '%s' "$T/cp.sock" | od -An -tx1 | tr -d ' \n')")
KEYS=(--phone-key "$PH/s.0.key" --phone-key "$PH/r.0.key"
	--phone-key "$PH/s.1.key" --phone-key "$PH/r.1.key")
core dp-live "$DP_PID"
core cp-live "$CP_PID"
# The DPDK runtime folder exists only while the dataplane runs.
"${SCAN[@]}" files --epochs all "${KEYS[@]}" "/var/run/dpdk/$PREFIX" ||
	or_fail "a key in the dataplane's DPDK runtime folder"

j=$(timeout 20 "$CTL" -j retire) || or_fail "retire: $j"
or_json "$j" 'assert r["ok"], r' || or_fail "retire: $j"
before=$(or_stat drop_unknown_epoch)
traffic "$PH/s.1.key" "$R" none 24
traffic "$PH/r.0.key" "$S" none 8
[ "$(or_stat drop_unknown_epoch)" -ge $((before + 8)) ] ||
	or_fail "the retired epoch's MSGs were not refused"
traffic "$PH/r.1.key" "$U" bounce 2
core dp-retired "$DP_PID"
python3 - "$(or_telemetry /optroute/stats /optroute/auth)" <<'EOF' || or_fail "traffic not seen"
import json, sys
r = {}
for l in sys.argv[1].splitlines():
    r.update(json.loads(l))
s, a = r["/optroute/stats"], r["/optroute/auth"]
assert s["delivered"] >= 100 and s["bounced"] >= 10 and s["drop_bad_tag"] >= 8, s
assert a["live_epochs"] == 1 and a["current_epoch"] == 1 and a["installs"] >= 3, a
EOF
echo "ok: retired epoch 0 (its MSGs refused), traffic under epoch 1"

# ---- the cores ----------------------------------------------------------------
# The dataplane only ever held K_auth[0] and [1]; the control plane holds
# every epoch's (all 256 are searched in its core).
if [ "$CORES" = yes ]; then
	"${SCAN[@]}" core --epochs 0,1 "${KEYS[@]}" "${W_DP[@]}" "$CAP/dp-live.core" ||
		or_fail "a key in the dataplane's core (two live epochs)"
	"${SCAN[@]}" core --epochs 0,1 "${KEYS[@]}" "${W_DP[@]}" "$CAP/dp-retired.core" ||
		or_fail "a key in the dataplane's core after the retirement"
	"${SCAN[@]}" core --epochs all "${KEYS[@]}" "${W_CP[@]}" "$CAP/cp-live.core" ||
		or_fail "a key in the control plane's core"
	echo "ok: no K_auth or K_sender in a core of either daemon"
fi

# ---- the channel, the files ---------------------------------------------------
or_stop CP_PID || or_fail "optroute-control exited $?"
or_stop DP_PID || or_fail "optroute-dataplane exited $?"
or_stop PROXY_PID || true
out=$("${SCAN[@]}" chan --epochs all "${KEYS[@]}" "$CAP/chan.rec") ||
	or_fail "a key on the channel outside AUTH_KEYS: $out"
echo "$out"
# The key sets pushed: at the connection, after the rotation, after the
# retirement.
echo "$out" | grep -q 'AUTH_KEYS epoch sets, in order: \[\[0\], \[1, 0\], \[1\]\]' ||
	or_fail "AUTH_KEYS messages not as expected: $out"
echo "ok: keys on the channel only in AUTH_KEYS, as K_auth of the epochs named"
"${SCAN[@]}" files --epochs all "${KEYS[@]}" \
	--exclude "$PH" --exclude "$CAP" "$T" || or_fail "a key in a file the daemons wrote"
echo "ok: no key in the store, the logs or any other file of the run"
echo "auth_privacy: ok"
