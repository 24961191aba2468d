#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# No plain phone number leaves optroute-control: after a run with known
# numbers (opt-in, opt-out, status, audit, import, sealed, bad requests)
# with a dataplane connected (net_null ports, no traffic needed), none of
# them appears
#  - in anything the daemon wrote or sent: every write/pwrite/send/sendmsg
#    syscall is captured with strace (this includes the update channel and
#    the LMDB files), and the capture must show channel traffic (tokens);
#  - in the store files or either daemon's log;
#  - in the daemon's memory once the requests are answered (jansson's
#    buffers, socket buffers, the stack): read through /proc/PID/mem;
# and the daemon runs with core dumps disabled.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
# CP_PID is strace; DPID optroute-control, strace's child. The daemon is
# killed first: killing strace would only detach it.
DPID=
OR_PIDVARS="DPID CP_PID DP_PID"

command -v strace >/dev/null || { echo "cp_privacy: strace is needed"; exit 1; }

{
	or_ini_eal
	or_ini_dataplane 10000 "idle_sleep_us = 1000"
	or_ini_port client net_null0 192.0.2.1 02:00:00:00:01:01 "workers = 1"
	or_ini_control "channel_retry_ms = 100"
} >"$T/or.ini"
or_key "$T/key"
CTL="$BIN/optroutectl"

or_start_dp "$T/or.ini"
# Every syscall that writes or sends, from every thread, bytes in hex.
# (LeakSanitizer cannot run under ptrace: leaks are checked by cp_basic.)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
strace -f -qq -xx -s 1000000 -o "$T/strace.txt" \
	-e trace=write,writev,pwrite64,pwritev,pwritev2,send,sendto,sendmsg,sendmmsg \
	"$BIN/optroute-control" -c "$T/or.ini" >"$T/cp.log" 2>&1 &
CP_PID=$!
# strace forks the daemon: its pid, for signals and /proc.
for _ in $(seq 1 100); do
	DPID=$(pgrep -P "$CP_PID" -x optroute-contro || true)
	[ -n "$DPID" ] && break
	sleep 0.05
done
[ -n "$DPID" ] || { echo "optroute-control did not start under strace"; exit 1; }
or_wait_synced 1

# The numbers of this run: NUMS must never be found.
NUMS=(+15550900001 +15550900002 +15550900003 +15550900004 +15550900005)
for i in $(seq 10 59); do NUMS+=("+155509001$i"); done

"$CTL" optin "${NUMS[0]}" --wait >/dev/null
echo "${NUMS[1]}" | "$CTL" optin - --wait >/dev/null
"$CTL" optin "${NUMS[2]}" --seal --wait >/dev/null
"$CTL" optout "${NUMS[0]}" --wait >/dev/null
"$CTL" status "${NUMS[1]}" >/dev/null
"$CTL" audit "${NUMS[0]}" >/dev/null
printf '%s\n' "${NUMS[@]:5}" >"$T/import.txt"
"$CTL" import "$T/import.txt" --optin --wait >/dev/null
TOK=$(or_token "${NUMS[1]}")
# Bad requests carrying numbers: the errors must not echo them.
python3 - "$T/cp.sock" "${NUMS[3]}" "${NUMS[4]}" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rb")
n3, n4 = sys.argv[2], sys.argv[3]
for req in ['{"v":1,"cmd":"optin","number":"%s9"}' % n3,      # too long
            '{"v":1,"cmd":"optin","number":%s}' % n3,          # not a string
            '{"v":1,"cmd":"optin","%s":1}' % n4,               # as a key
            '{"v":1,"cmd":"optin","number":"%s","node":"x"}' % n4,
            '{"v":1,"cmd":"import","action":"optin","lines":["%s","x%s"]}' % (n4[1:], n4)]:
    s.sendall(req.encode() + b"\n")
    r = f.readline()
    assert n3[1:] not in r.decode() and n4[2:] not in r.decode(), r
EOF
"$CTL" -j dataplane | grep -q '"lag":0' || { echo "FAIL: dataplane lag"; exit 1; }

# Memory of the live daemon, after every request was answered. Root reads
# /proc/PID/mem even though the daemon is not dumpable.
python3 - "$DPID" "$T/cp.sock" "${NUMS[@]}" <<'EOF'
import re, sys
pid, control, nums = sys.argv[1], sys.argv[2].encode(), sys.argv[3:]
pats = [n[1:].encode() for n in nums]          # digits, with or without '+'
found = []
seen_control = False
scanned = 0
with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        lo, hi, perm = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        # Writable mappings only; skip the huge reserved ones (ASan's
        # shadow memory): the heap, stacks and libraries' data are small.
        if not perm.startswith("rw") or hi - lo > (256 << 20):
            continue
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except OSError:
            continue
        scanned += len(data)
        seen_control |= control in data
        for p in pats:
            if p in data:
                found.append((p.decode()[-4:], line.split()[-1] if len(line.split()) > 5 else "anon"))
print("scanned %d MiB of daemon memory" % (scanned >> 20))
# Non-vacuous: a string the daemon does keep (its socket path) is found.
assert seen_control, "the scan did not find the socket path either"
if found:
    print("FAIL: numbers (last 4 digits) found in memory:", found)
    sys.exit(1)
EOF
echo "ok: no number in the daemon's memory"

grep -q "^Max core file size *0 *0" "/proc/$DPID/limits" ||
	{ echo "FAIL: core dumps not disabled"; exit 1; }
echo "ok: core dumps disabled"

# The daemon itself, not strace: strace ends with its tracee.
kill -TERM "$DPID"
timeout 20 tail --pid="$CP_PID" -f /dev/null
wait "$CP_PID" || { echo "FAIL: optroute-control exited $?"; cat "$T/cp.log"; exit 1; }
CP_PID= DPID=
or_stop DP_PID || true

python3 - "$T/strace.txt" "$TOK" "${NUMS[@]}" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
tok, nums = sys.argv[2], sys.argv[3:]
hexs = lambda b: "".join("\\x%02x" % c for c in b)
# Non-vacuous: the capture holds channel messages with the token (the
# update channel sends raw token bytes) and LMDB page writes.
assert hexs(bytes.fromhex(tok)) in text, "token not seen in the captured sends"
calls = re.findall(r"^\d+ +(\w+)\(", text, re.M)
print("captured", len(calls), "write/send calls:",
      {c: calls.count(c) for c in sorted(set(calls))})
bad = [n for n in nums if hexs(n[1:].encode()) in text]
if bad:
    print("FAIL: numbers in written/sent bytes:", [n[-4:] for n in bad])
    sys.exit(1)
EOF
echo "ok: no number in any byte written or sent (channel, store, replies, log)"

for n in "${NUMS[@]}"; do
	if grep -rqa -- "${n#+}" "$T/store" "$T/cp.log" "$T/dp.log"; then
		echo "FAIL: ${n: -4} in the store or a log"; exit 1
	fi
done
echo "ok: no number in the store files or the logs"
echo "cp_privacy: ok"
