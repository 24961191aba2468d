# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Where EAL takes its memory from, decided in one place for `make run`
# (deploy/dev/run.sh) and the dataplane benchmark
# (tests/bench/bench-dataplane.sh, through tests/integration/lib/common.sh);
# bash.
#
# Hugepages when enough of the default size are free. Reserved pages are
# useless to EAL without a hugetlbfs of their size in /proc/mounts ("no
# mounted hugetlbfs found", then "Permission denied"), so when none is
# mounted huge_decide mounts one at /dev/hugepages, as systemd's
# dev-hugepages.mount would; it stays mounted. Otherwise plain memory
# (--no-huge), and the reason why.

# huge_mount_of KB: the first hugetlbfs mount point of page size KB kB in
# /proc/mounts (a mount without pagesize= has the default size), or
# nothing.
huge_mount_of() {
	local mnt
	mnt=$(awk -v kb="$1" -v def="$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)" '
		$3 != "hugetlbfs" { next }
		{
			size = def
			if (match($4, /pagesize=[0-9]+[KkMmGg]?/)) {
				v = substr($4, RSTART + 9, RLENGTH - 9)
				u = substr(v, length(v))
				size = v + 0
				if (u == "M" || u == "m") size *= 1024
				else if (u == "G" || u == "g") size *= 1048576
				else if (u != "K" && u != "k") size /= 1024
			}
			if (size == kb) { print $2; exit }
		}' /proc/mounts)
	# /proc/mounts writes a space as \040: printf %b reads \0NNN.
	[ -z "$mnt" ] || printf '%b\n' "${mnt//\\/\\0}"
}

# huge_decide NEED_MB: true if EAL should use hugepages, HUGE_DIR then the
# hugetlbfs mount of the default page size (give EAL --huge-dir
# "$HUGE_DIR"); false if it should run with --no-huge, HUGE_DIR empty.
# Either way HUGE_WHY says what was decided and why, in one line, for the
# caller to print. Hugepages when at least NEED_MB MiB of the default size
# are free; if none of their size is mounted, mounts hugetlbfs at
# /dev/hugepages first (root only), unless OPTROUTE_HUGE_MOUNT=no (a test
# must not change the machine's mounts): then --no-huge.
# shellcheck disable=SC2034 # (HUGE_WHY: read by the caller)
huge_decide() {
	local need=$1 kb nr free resv mb sys err
	HUGE_DIR=
	HUGE_WHY=
	kb=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
	sys=/sys/kernel/mm/hugepages/hugepages-${kb}kB
	if [ -z "$kb" ] || [ ! -d "$sys" ]; then
		HUGE_WHY="--no-huge: this kernel has no hugepages"
		return 1
	fi
	nr=$(cat "$sys/nr_hugepages")
	free=$(cat "$sys/free_hugepages")
	resv=$(cat "$sys/resv_hugepages")
	mb=$(((free - resv) * kb / 1024))
	if [ "$nr" = 0 ]; then
		HUGE_WHY="--no-huge: no hugepages reserved (echo N > $sys/nr_hugepages reserves N pages of $kb kB)"
		return 1
	fi
	if [ "$mb" -lt "$need" ]; then
		HUGE_WHY="--no-huge: $mb MiB of hugepages free, $need MiB needed"
		return 1
	fi
	HUGE_DIR=$(huge_mount_of "$kb")
	if [ -n "$HUGE_DIR" ]; then
		HUGE_WHY="hugepages: $mb MiB free, hugetlbfs at $HUGE_DIR"
		return 0
	fi
	if [ "${OPTROUTE_HUGE_MOUNT:-yes}" = no ]; then
		HUGE_WHY="--no-huge: $mb MiB of hugepages free but hugetlbfs not mounted (not mounting it: OPTROUTE_HUGE_MOUNT=no)"
		return 1
	fi
	if mountpoint -q /dev/hugepages 2>/dev/null; then
		HUGE_WHY="--no-huge: $mb MiB of hugepages free but hugetlbfs of ${kb} kB pages not mounted, and /dev/hugepages holds another mount"
		return 1
	fi
	if ! err=$({ mkdir -p /dev/hugepages &&
		mount -t hugetlbfs -o "pagesize=${kb}K" nodev /dev/hugepages; } 2>&1); then
		HUGE_WHY="--no-huge: $mb MiB of hugepages free but hugetlbfs not mounted, and mounting it at /dev/hugepages failed: $err"
		return 1
	fi
	HUGE_DIR=/dev/hugepages
	HUGE_WHY="hugepages: $mb MiB free; hugetlbfs was not mounted: mounted it at /dev/hugepages (it stays; umount /dev/hugepages undoes it)"
}
