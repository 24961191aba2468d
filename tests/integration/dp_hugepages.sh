#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hugepages missing, as an operator meets them (issue 13):
#   1. optroute-dataplane with --huge-dir on a folder that is no hugetlbfs:
#      EAL fails, and the dataplane's error names the cause and the fix
#      ("hugetlbfs not mounted at DIR", or "no hugepages reserved" on a
#      machine without any), not "Permission denied";
#   2. in a private mount namespace (unshare -m) where hugetlbfs is
#      unmounted: "hugetlbfs not mounted" with the mount command;
#   3. huge_decide (deploy/dev/hugepages.sh) in such a namespace: with
#      OPTROUTE_HUGE_MOUNT=no, --no-huge and why; else it mounts hugetlbfs
#      at /dev/hugepages, there only.
# The machine's own mounts are never touched (checked at the end); steps 2
# and 3 are skipped where unshare -m is not allowed.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_trap_exit or_cleanup
or_need_bins optroute-dataplane
case $BUILD in /*) DP=$BUILD/bin/optroute-dataplane ;; *) DP=$PWD/$BUILD/bin/optroute-dataplane ;; esac
MOUNTS_BEFORE=$(grep hugetlbfs /proc/mounts || true)
KB=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
NR=$(cat "/sys/kernel/mm/hugepages/hugepages-${KB}kB/nr_hugepages" 2>/dev/null || echo 0)
# Reserved in any size: EAL's first question.
ANY=$(cat /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages 2>/dev/null |
	awk '{ s += $1 } END { print s + 0 }')

# ini [EAL_ARG...]: a dataplane that would run, but for its memory.
ini() {
	printf '[eal]\nargs = -m 64 --no-pci --file-prefix=%s %s\n' "$PREFIX" "$*"
	printf '[dataplane]\nchannel = %s\ntable_entries = 1000\nauth = no\n' "$T/dp.sock"
	printf '[port p]\ndevice = net_null0\nworkers = 1\nip = 192.0.2.1\n'
}

# expect_fail WHAT PATTERN [unshare]: the dataplane exits 1 and its error
# line matches PATTERN; never "Permission denied".
expect_fail() {
	local rc=0 line pre=()
	[ -z "${3:-}" ] || pre=(unshare -m --propagation private
		sh -c 'umount -a -t hugetlbfs && exec "$0" "$@"')
	"${pre[@]}" timeout 30 "$DP" -c "$T/dp.ini" >"$T/dp.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || or_fail "$1: exit $rc, want 1: $(tail -n 5 "$T/dp.out")"
	line=$(grep '^optroute-dataplane: EAL initialisation failed: ' "$T/dp.out") ||
		or_fail "$1: no EAL error line: $(tail -n 5 "$T/dp.out")"
	grep -q -- "$2" <<<"$line" || or_fail "$1: '$line' does not say '$2'"
	! grep -q 'Permission denied' <<<"$line" || or_fail "$1: says Permission denied"
	echo "ok: $1: ${line#optroute-dataplane: }" | cut -c1-160
}

mkdir "$T/nothuge"
ini --huge-dir "$T/nothuge" >"$T/dp.ini"
if [ "$ANY" = 0 ]; then
	expect_fail "--huge-dir on a plain folder, nothing reserved" "^[^:]*: no hugepages reserved (.*--no-huge"
else
	expect_fail "--huge-dir on a plain folder" \
		"hugetlbfs not mounted at $T/nothuge (--huge-dir): .* mount -t hugetlbfs -o pagesize=[0-9]*[KMG] nodev $T/nothuge"
fi

if ! unshare -m --propagation private true 2>/dev/null; then
	echo "skip: unshare -m not allowed here (steps 2 and 3)"
else
	ini >"$T/dp.ini"
	if [ "$ANY" = 0 ]; then
		expect_fail "hugetlbfs unmounted, nothing reserved" "no hugepages reserved" unshare
	else
		expect_fail "hugetlbfs unmounted (private mount namespace)" \
			"hugetlbfs not mounted: .*mount -t hugetlbfs -o pagesize=[0-9]*[KMG] nodev /dev/hugepages" unshare
	fi

	# 3. huge_decide where hugetlbfs is not mounted.
	unshare -m --propagation private bash -c '
		set -u
		umount -a -t hugetlbfs || exit 3
		. deploy/dev/hugepages.sh
		OPTROUTE_HUGE_MOUNT=no huge_decide 2 && exit 4
		echo "no-mount: $HUGE_WHY"
		grep -q hugetlbfs /proc/mounts && exit 5
		huge_decide 2; echo "rc=$? dir=$HUGE_DIR why: $HUGE_WHY"
		awk "\$3 == \"hugetlbfs\" { print \"mounted:\", \$2, \$4 }" /proc/mounts
	' >"$T/decide.out" 2>&1 || or_fail "huge_decide in a private namespace: $(cat "$T/decide.out")"
	free=$(cat "/sys/kernel/mm/hugepages/hugepages-${KB}kB/free_hugepages" 2>/dev/null || echo 0)
	if [ "$NR" = 0 ]; then
		grep -q '^no-mount: --no-huge: no hugepages reserved' "$T/decide.out" &&
			grep -q '^rc=1 dir= why: --no-huge: no hugepages reserved' "$T/decide.out" ||
			or_fail "huge_decide, nothing reserved: $(cat "$T/decide.out")"
		echo "ok: huge_decide: nothing reserved: --no-huge, said why"
	elif [ "$((free * KB / 1024))" -lt 2 ]; then
		echo "skip: huge_decide's mount: no free hugepages ($(head -n 1 "$T/decide.out"))"
	else
		grep -q '^no-mount: --no-huge: .* hugetlbfs not mounted (not mounting it: OPTROUTE_HUGE_MOUNT=no)' \
			"$T/decide.out" || or_fail "huge_decide, OPTROUTE_HUGE_MOUNT=no: $(cat "$T/decide.out")"
		grep -q '^rc=0 dir=/dev/hugepages why: hugepages: .* mounted it at /dev/hugepages' "$T/decide.out" &&
			grep -q "^mounted: /dev/hugepages .*pagesize=" "$T/decide.out" ||
			or_fail "huge_decide did not mount hugetlbfs: $(cat "$T/decide.out")"
		echo "ok: huge_decide: --no-huge with OPTROUTE_HUGE_MOUNT=no, else mounted /dev/hugepages (in the private namespace)"
	fi
fi

[ "$(grep hugetlbfs /proc/mounts || true)" = "$MOUNTS_BEFORE" ] ||
	or_fail "the machine's hugetlbfs mounts changed"
echo "ok: the machine's own mounts untouched"
echo "dp_hugepages: ok"
