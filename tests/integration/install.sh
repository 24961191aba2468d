#!/usr/bin/env bash
# `make install` into a staging directory (deploy/install.sh with DESTDIR),
# then checks what was installed: every file and its mode, units with paths
# rewritten to PREFIX, a live configuration never overwritten, man pages
# rendering without warnings, `systemd-analyze verify` on the installed
# units, the sample configuration accepted by both daemons and naming every
# key of their sources, the hugepage helper on a fake sysfs, and the
# installed daemons' sd_notify: READY=1 (only once their sockets exist),
# WATCHDOG=1 pings when the unit sets WatchdogSec=, STOPPING=1 on SIGTERM.
# No hugepages, no NIC (EAL --no-huge, net_ring), loopback only.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_need_bins optroute-dataplane optroute-control optroutectl optroute-client

# shellcheck source=lib/exporter.sh
. "$(dirname "$0")/lib/exporter.sh"

# ---- 1. install into DESTDIR with PREFIX=/usr -------------------------------
R=$T/root
if BUILD=$BUILD PREFIX=/usr DESTDIR=$R deploy/install.sh >"$T/install.log" 2>&1; then
	or_ok "install.sh exit 0"
else
	cat "$T/install.log"; or_bad "install.sh failed"; exit 1
fi

# path:mode of everything that must be there
expected=(
	usr/sbin/optroute-dataplane:755 usr/sbin/optroute-control:755
	usr/sbin/optroute-exporter:755 usr/sbin/optroute-store-migrate:755
	usr/sbin/optroute-hugepages:755
	usr/bin/optroutectl:755 usr/bin/optroute-client:755
	usr/share/man/man8/optroute-dataplane.8.gz:644
	usr/share/man/man8/optroute-control.8.gz:644
	usr/share/man/man8/optroute-exporter.8.gz:644
	usr/share/man/man8/optroute-store-migrate.8.gz:644
	usr/share/man/man8/optroutectl.8.gz:644
	usr/share/man/man1/optroute-client.1.gz:644
	usr/lib/systemd/system/optroute-control.service:644
	usr/lib/systemd/system/optroute-dataplane.service:644
	usr/lib/systemd/system/optroute-exporter.service:644
	usr/lib/systemd/system/optroute-hugepages.service:644
	usr/lib/systemd/system/dev-hugepages1G.mount:644
	usr/lib/sysusers.d/optroute.conf:644
	usr/share/doc/optroute/README.md:644
	usr/share/doc/optroute/operations.md:644
	etc/optroute/optroute.ini.sample:644
	etc/optroute/hugepages.conf:644
)
for d in docs/*.md docs/benchmarks/*.md; do expected+=("usr/share/doc/optroute/${d#docs/}:644"); done
missing=0
for e in "${expected[@]}"; do
	f=${e%:*} m=${e##*:}
	if [ ! -f "$R/$f" ]; then
		or_bad "missing $f"; missing=1
	elif [ "$(stat -c %a "$R/$f")" != "$m" ]; then
		or_bad "$f mode $(stat -c %a "$R/$f"), expected $m"; missing=1
	fi
done
[ $missing = 0 ] && or_ok "${#expected[@]} files installed with their modes"
n_files=$(find "$R" -type f | wc -l)
n_expected=$(printf '%s\n' "${expected[@]}" | sort -u | wc -l)
or_check "nothing else installed ($n_files files)" test "$n_files" = "$n_expected"
or_check "binaries are the build's" cmp -s "$BUILD/bin/optroute-dataplane" "$R/usr/sbin/optroute-dataplane"
or_check "no live optroute.ini or master.key created" \
	test ! -e "$R/etc/optroute/optroute.ini" -a ! -e "$R/etc/optroute/master.key"
or_check "units name /usr/sbin with PREFIX=/usr" \
	grep -qx 'ExecStart=/usr/sbin/optroute-control -c /etc/optroute/optroute.ini' \
	"$R/usr/lib/systemd/system/optroute-control.service"

# ---- 2. reinstall: live files kept, sample refreshed ------------------------
echo "; operator's file" >"$R/etc/optroute/optroute.ini"
echo "HUGEPAGES_2M=4" >"$R/etc/optroute/hugepages.conf"
echo "stale" >"$R/etc/optroute/optroute.ini.sample"
BUILD=$BUILD PREFIX=/usr DESTDIR=$R deploy/install.sh >"$T/install2.log" 2>&1 ||
	or_bad "second install failed"
or_check "existing optroute.ini kept" grep -qx "; operator's file" "$R/etc/optroute/optroute.ini"
or_check "existing hugepages.conf kept" grep -qx "HUGEPAGES_2M=4" "$R/etc/optroute/hugepages.conf"
or_check "sample refreshed" cmp -s deploy/optroute.ini "$R/etc/optroute/optroute.ini.sample"

# ---- 3. another PREFIX and SYSCONFDIR: paths rewritten ------------------------
R2=$T/root2
BUILD=$BUILD PREFIX=/opt/or SYSCONFDIR=/opt/or/etc MAN_GZIP=0 DESTDIR=$R2 \
	deploy/install.sh >"$T/install3.log" 2>&1 || or_bad "install with PREFIX=/opt/or failed"
u=$R2/opt/or/lib/systemd/system
or_check "ExecStart rewritten (control)" grep -qx \
	'ExecStart=/opt/or/sbin/optroute-control -c /opt/or/etc/optroute/optroute.ini' "$u/optroute-control.service"
or_check "ExecStart rewritten (dataplane)" grep -qx \
	'ExecStart=/opt/or/sbin/optroute-dataplane -c /opt/or/etc/optroute/optroute.ini' "$u/optroute-dataplane.service"
or_check "LoadCredential rewritten (exporter)" grep -qx \
	'LoadCredential=optroute.ini:/opt/or/etc/optroute/optroute.ini' "$u/optroute-exporter.service"
or_check "ExecStart rewritten (exporter)" grep -qx \
	'ExecStart=/opt/or/sbin/optroute-exporter -c ${CREDENTIALS_DIRECTORY}/optroute.ini' "$u/optroute-exporter.service"
or_check "ExecStart rewritten (hugepages)" grep -qx 'ExecStart=/opt/or/sbin/optroute-hugepages' "$u/optroute-hugepages.service"
or_check "EnvironmentFile rewritten" grep -qx 'EnvironmentFile=-/opt/or/etc/optroute/hugepages.conf' "$u/optroute-hugepages.service"
or_check "no /usr/sbin or /etc/optroute left in units" \
	bash -c "! grep -nE '/usr/sbin/optroute|(^|[ =-])/etc/optroute/' '$u'/*"
or_check "sample's key_file rewritten" grep -qx 'key_file = /opt/or/etc/optroute/master.key' \
	"$R2/opt/or/etc/optroute/optroute.ini.sample"
or_check "MAN_GZIP=0 installs plain pages" test -f "$R2/opt/or/share/man/man8/optroutectl.8"
or_check "PREFIX must be absolute" bash -c \
	"! BUILD=$BUILD PREFIX=opt DESTDIR=$T/root3 deploy/install.sh >/dev/null 2>&1"

# As an ordinary user into a DESTDIR (packaging), when we can switch user.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && command -v runuser >/dev/null &&
	runuser -u nobody -- test -r "$BUILD/bin/optroute-control" 2>/dev/null; then
	chmod 0711 "$T" && mkdir -m 0777 "$T/user"
	rc=0
	runuser -u nobody -- env BUILD="$BUILD" PREFIX=/usr DESTDIR="$T/user/stage" TMPDIR="$T/user" \
		deploy/install.sh >"$T/user/log" 2>&1 || rc=$?
	or_check "install as user nobody with DESTDIR" test $rc = 0 -a \
		"$(find "$T/user/stage" -type f | wc -l)" = "$n_expected"
	[ $rc = 0 ] || tail -n 5 "$T/user/log"
else
	echo "skip: not root or no 'nobody' (non-root DESTDIR install not tried)"
fi

# ---- 4. man pages render without warnings --------------------------------------
if command -v man >/dev/null && command -v groff >/dev/null; then
	for m in "$R"/usr/share/man/man*/*.gz; do
		w=$(MANWIDTH=80 man -l --warnings=w "$m" 2>&1 >/dev/null) || w="exit $? $w"
		or_check "man -l --warnings=w ${m##*/}: no warning" test -z "$w"
		[ -z "$w" ] || echo "$w" | head -5
	done
	for m in docs/man/*.[18]; do
		w=$(groff -man -ww -z "$m" 2>&1) || w="exit $? $w"
		or_check "groff -man -ww ${m##*/}: no warning" test -z "$w"
	done
	# The commands of optroutectl's own usage text, each one a man page entry.
	cmds=$("$R/usr/bin/optroutectl" help | sed -n 's/^  \([a-z][a-z]*\)\( .*\)\{0,1\}$/\1/p' | sort -u)
	undoc=""
	zcat "$R/usr/share/man/man8/optroutectl.8.gz" >"$T/optroutectl.8"
	for c in $cmds; do
		grep -q "^\\\\fB$c\\\\fR\|^\.B $c\|^\.BR $c\|^\.BI $c" "$T/optroutectl.8" || undoc="$undoc $c"
	done
	or_check "optroutectl(8) documents the $(wc -w <<<"$cmds") commands of its usage${undoc:+ (missing:$undoc)}" \
		test -n "$cmds" -a -z "$undoc"
else
	echo "skip: man or groff not installed, man pages not rendered"
fi

# ---- 5. systemd-analyze verify on the installed units ------------------------
# The units name /usr/sbin/...; verify checks that those exist, so check a
# copy pointing into the staging tree (and MANPATH for Documentation=man:).
if command -v systemd-analyze >/dev/null; then
	mkdir "$T/verify"
	for f in "$R"/usr/lib/systemd/system/*; do
		sed "s|/usr/sbin/|$R/usr/sbin/|g" "$f" >"$T/verify/${f##*/}"
	done
	rc=0
	out=$(MANPATH=$R/usr/share/man: systemd-analyze verify "$T"/verify/* 2>&1) || rc=$?
	[ -z "$out" ] || echo "$out"
	or_check "systemd-analyze verify accepts the installed units" test $rc = 0 -a -z "$out"
else
	echo "skip: systemd-analyze not installed (apt-get install systemd), units not verified"
fi

# The sysusers.d entry creates the user and the operators' group.
if command -v systemd-sysusers >/dev/null; then
	mkdir -p "$T/sysroot/etc"
	systemd-sysusers --root="$T/sysroot" "$R/usr/lib/sysusers.d/optroute.conf" >/dev/null 2>&1 ||
		or_bad "systemd-sysusers failed on optroute.conf"
	or_check "sysusers: user optroute with its home and no shell" \
		grep -q '^optroute:x:[0-9]*:[0-9]*:[^:]*:/var/lib/optroute:/usr/sbin/nologin$' "$T/sysroot/etc/passwd"
	or_check "sysusers: groups optroute, optroute-admin, optroute-readonly" \
		test "$(grep -c '^optroute\(-admin\|-readonly\)\?:' "$T/sysroot/etc/group")" = 3
	or_check "sysusers: user optroute-exporter, no shell, in optroute-readonly only" \
		bash -c "grep -q '^optroute-exporter:x:[0-9]*:[0-9]*:[^:]*:/:/usr/sbin/nologin$' '$T/sysroot/etc/passwd' &&
			grep -q '^optroute-readonly:x:[0-9]*:optroute-exporter$' '$T/sysroot/etc/group' &&
			test \$(grep -c 'optroute-exporter' '$T/sysroot/etc/group') = 2"
else
	echo "skip: systemd-sysusers not installed, sysusers.d entry not applied"
fi

# ---- 6. the sample configuration ---------------------------------------------
S=$R/etc/optroute/optroute.ini.sample
out=$("$R/usr/sbin/optroute-dataplane" -c "$S" --check 2>&1) || true
or_check "dataplane --check accepts the sample" grep -q ': ok (2 ports, 4 workers, 2 next hops)' <<<"$out"
# allowed_gid and readonly_gid name groups that sysusers creates; use one
# that exists here.
for g in allowed_gid:optroute-admin readonly_gid:optroute-readonly; do
	getent group "${g#*:}" >/dev/null || sed -i "s/^${g%%:*} = ${g#*:}$/${g%%:*} = $(id -g)/" "$S"
done
out=$("$R/usr/sbin/optroute-control" -c "$S" --check 2>&1) || true
or_check "control --check accepts the sample" grep -q 'configuration OK' <<<"$out"
out=$("$R/usr/sbin/optroute-exporter" -c "$S" --check 2>&1) || true
or_check "exporter --check accepts the sample" grep -q 'configuration OK' <<<"$out"
# Every key the sources define is in the sample (set, or ';key = ' commented).
# (cp_cfg.c's metrics* keys moved to [exporter]: docs/configuration.md.)
keys=$( { sed -n 's/^[[:space:]]*K_\(PATH\|U32\)("\([a-z_]*\)".*/\2/p; s/^[[:space:]]*{ "\([a-z_]*\)", T_.*/\1/p' control/daemon/cp_cfg.c | grep -v '^metrics'
	  sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", k_[a-z_]*, [01] },.*/\1/p' dataplane/config.c
	  sed -n 's/.*strcmp(k, "\([a-z_]*\)").*/\1/p' control/exporter/exp_cfg.c; } | sort -u)
n_keys=$(wc -w <<<"$keys")
or_check "key lists read from the sources ($n_keys keys)" test "$n_keys" -ge 30
nokey=""
for k in $keys; do
	grep -Eq "^;?$k = " deploy/optroute.ini || nokey="$nokey $k"
done
or_check "sample names every key${nokey:+ (missing:$nokey)}" test -z "$nokey"
for s in '\[eal\]' '\[dataplane\]' '\[port [a-z0-9_]*\]' '\[nexthop [0-9]*\]' '\[control\]' '\[exporter\]'; do
	or_check "sample has section $s" grep -q "^$s$" deploy/optroute.ini
done
or_check "sample lines fit libinih (<= 198 characters)" bash -c "! awk 'length > 198' deploy/optroute.ini | grep -q ."

# ---- 7. optroute-hugepages on a fake sysfs ------------------------------------
H=$R/usr/sbin/optroute-hugepages
F=$T/sys
hp=$F/kernel/mm/hugepages/hugepages-2048kB
n0=$F/devices/system/node/node0/hugepages/hugepages-2048kB
n1=$F/devices/system/node/node1/hugepages/hugepages-2048kB
mkdir -p "$hp" "$n0" "$n1"
for d in "$hp" "$n0" "$n1"; do echo 0 >"$d/nr_hugepages"; echo 0 >"$d/free_hugepages"; done
( unset HUGEPAGES_2M HUGEPAGES_1G HUGEPAGES_NODES; SYSFS=$F "$H" >/dev/null )
or_check "hugepages: default reserves 1024 2M pages" grep -qx 1024 "$hp/nr_hugepages"
SYSFS=$F HUGEPAGES_2M=16 "$H" >/dev/null
or_check "hugepages: a count is a minimum (1024 kept)" grep -qx 1024 "$hp/nr_hugepages"
SYSFS=$F HUGEPAGES_2M=2048 "$H" >/dev/null
or_check "hugepages: raised to 2048" grep -qx 2048 "$hp/nr_hugepages"
SYSFS=$F HUGEPAGES_2M=64 HUGEPAGES_NODES="0 1" "$H" >/dev/null
or_check "hugepages: per node" test "$(cat "$n0/nr_hugepages") $(cat "$n1/nr_hugepages")" = "64 64"
rc=0; SYSFS=$F HUGEPAGES_2M=12x "$H" >/dev/null 2>&1 || rc=$?
or_check "hugepages: bad count exits 2" test $rc = 2
rc=0; err=$(SYSFS=$F HUGEPAGES_2M="" HUGEPAGES_1G=2 "$H" 2>&1) || rc=$?
or_check "hugepages: unsupported 1G size exits 1 with a reason" \
	test $rc = 1 -a -n "$(grep -F 'page size or NUMA node not supported' <<<"$err")"
rc=0; SYSFS=$F HUGEPAGES_2M=8 HUGEPAGES_NODES=3 "$H" >/dev/null 2>&1 || rc=$?
or_check "hugepages: missing NUMA node exits 1" test $rc = 1
or_check "hugepages --status" bash -c "SYSFS=$F '$H' --status | grep -qx 'hugepages-2048kB: 2048 reserved, 0 free'"

# ---- 8. sd_notify of the installed daemons ------------------------------------
# notify_listen SOCK OUT SECONDS PATH: AF_UNIX datagram receiver; writes one
# line per notification field and, for READY=1, whether PATH existed then.
notify_listen() {
	python3 - "$@" <<'PY' &
import os, socket, sys, time
sock, out, secs, path = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock)
s.settimeout(0.1)
end = time.monotonic() + secs
with open(out, "w", buffering=1) as f:
    while time.monotonic() < end and not os.path.exists(out + ".stop"):
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        for line in d.decode(errors="replace").split("\n"):
            if line == "READY=1":
                line += " path_exists=%d" % os.path.exists(path)
            f.write(line + "\n")
PY
	OR_PIDS+=("$!")
	for _ in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done
	return 1
}
# wait_line FILE REGEX SECONDS
wait_line() {
	local n=$(( $3 * 10 ))
	for _ in $(seq $n); do grep -Eq "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
wd_set() { grep -Eq '^WatchdogSec=' "$R/usr/lib/systemd/system/$1.service"; }

# -- dataplane
cat >"$T/dp.ini" <<INI
[eal]
args = --no-huge -m 128 --no-pci --no-telemetry --file-prefix=$PREFIX
main_lcore = 0

[dataplane]
channel = $T/dp.sock
table_entries = 1024
auth = no
idle_sleep_us = 1000
start_rx_after_sync = yes

[port p]
device = net_ring0
workers = 1
ip = 192.0.2.1
INI
notify_listen "$T/n_dp.sock" "$T/n_dp" 60 "$T/dp.sock" || or_bad "notify socket not bound"
NOTIFY_SOCKET=$T/n_dp.sock WATCHDOG_USEC=300000 \
	"$R/usr/sbin/optroute-dataplane" -c "$T/dp.ini" >"$T/dp.log" 2>&1 &
DP=$!; OR_PIDS+=("$DP")
if wait_line "$T/n_dp" '^READY=1' 30; then
	or_ok "dataplane sent READY=1"
	or_check "dataplane READY=1 only once the channel listens" grep -qx 'READY=1 path_exists=1' "$T/n_dp"
	or_check "dataplane STATUS says RX is held" grep -q '^STATUS=RX held until the table is synced' "$T/n_dp"
else
	or_bad "no READY=1 from the dataplane in 30 s"; tail -n 20 "$T/dp.log"
fi
if wd_set optroute-dataplane; then
	wait_line "$T/n_dp" '^WATCHDOG=1' 5 && sleep 0.5
	nw=$(grep -c '^WATCHDOG=1' "$T/n_dp" || true)
	or_check "dataplane pings the watchdog (WatchdogSec= in its unit): $nw pings" test "$nw" -ge 2
else
	or_bad "optroute-dataplane.service has no WatchdogSec="
fi
rc=0; or_stop DP || rc=$?
or_check "dataplane exits 0 on SIGTERM" test $rc = 0
or_check "dataplane sent STOPPING=1" wait_line "$T/n_dp" '^STOPPING=1' 5
touch "$T/n_dp.stop"

# -- control plane
or_key "$T/key"
or_ini_control "channel_socket = $T/none.sock" "store_map_mb = 64" >"$T/cp.ini"
or_ini_exporter >>"$T/cp.ini"
notify_listen "$T/n_cp.sock" "$T/n_cp" 30 "$T/cp.sock" || or_bad "notify socket not bound"
NOTIFY_SOCKET=$T/n_cp.sock WATCHDOG_USEC=300000 \
	"$R/usr/sbin/optroute-control" -c "$T/cp.ini" >"$T/cp.log" 2>&1 &
CP=$!; OR_PIDS+=("$CP")
if wait_line "$T/n_cp" '^READY=1' 10; then
	or_ok "control plane sent READY=1"
	or_check "control READY=1 only once the management socket listens" grep -qx 'READY=1 path_exists=1' "$T/n_cp"
else
	or_bad "no READY=1 from the control plane in 10 s"; tail -n 20 "$T/cp.log"
fi
or_check "installed optroutectl talks to the installed daemon" \
	bash -c "'$R/usr/bin/optroutectl' -s '$T/cp.sock' version | grep -q protocol"
sleep 1
nw=$(grep -c '^WATCHDOG=1' "$T/n_cp" || true)
if wd_set optroute-control; then
	or_check "control plane pings the watchdog (WatchdogSec= in its unit): $nw pings" test "$nw" -ge 2
elif [ "$nw" -ge 2 ]; then
	echo "note: optroute-control pings the watchdog; WatchdogSec= can be enabled in optroute-control.service"
else
	echo "note: optroute-control sends no WATCHDOG=1; its unit rightly has no WatchdogSec="
fi

# -- exporter (while the control plane runs)
notify_listen "$T/n_exp.sock" "$T/n_exp" 30 "$T/cp.sock" || or_bad "notify socket not bound"
NOTIFY_SOCKET=$T/n_exp.sock "$R/usr/sbin/optroute-exporter" -c "$T/cp.ini" >"$T/exp.log" 2>&1 &
EXP_PID=$!
if wait_line "$T/n_exp" '^READY=1' 10; then
	or_ok "exporter sent READY=1"
	or_check "exporter serves /metrics once ready" bash -c "curl -sf --max-time 10 http://127.0.0.1:$EXP_PORT/metrics | grep -qx 'optroute_control_up 1'"
else
	or_bad "no READY=1 from the exporter in 10 s"; tail -n 20 "$T/exp.log"
fi
rc=0; or_stop EXP_PID || rc=$?
or_check "exporter exits 0 on SIGTERM" test $rc = 0
or_check "exporter sent STOPPING=1" wait_line "$T/n_exp" '^STOPPING=1' 5
touch "$T/n_exp.stop"

rc=0; or_stop CP || rc=$?
or_check "control plane exits 0 on SIGTERM" test $rc = 0
or_check "control plane sent STOPPING=1" wait_line "$T/n_cp" '^STOPPING=1' 5
touch "$T/n_cp.stop"

or_summary
