# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Network namespace helpers, sourced by deploy/dev/run.sh, by
# tests/integration/make_run.sh and, through tests/integration/lib/common.sh,
# by the integration tests on net_tap ports (bash; root).
#
# The dataplane's net_tap ports are kernel tap interfaces whose other end is
# the DPDK process. Moving the kernel end into a namespace of its own makes
# that namespace a small network "behind" the port: processes run in it with
# `ip netns exec NS ...` see the appliance as a host on their subnet. The
# tap lives as long as the dataplane that opened it, wherever it was moved.

# ns_exists NS: true if the named namespace exists.
ns_exists() {
	[ -e "/var/run/netns/$1" ]
}

# ns_add NS: creates the namespace, loopback up.
ns_add() {
	ip netns add "$1" && ip -n "$1" link set lo up
}

# ns_del NS: deletes the namespace if it exists.
ns_del() {
	if ns_exists "$1"; then
		ip netns del "$1"
	fi
}

# ns_links NS: names of the namespace's interfaces other than lo, one a
# line (nothing if the namespace does not exist).
ns_links() {
	ns_exists "$1" || return 0
	ip -n "$1" -o link show | awk -F': ' '$2 != "lo" { sub(/@.*/, "", $2); print $2 }'
}

# ns_wait_link NS IF: waits up to 5 s for interface IF to appear in NS (a
# tap appears once its dataplane port is set up); false if it did not.
ns_wait_link() {
	local i
	for i in $(seq 1 50); do
		ip -n "$1" link show "$2" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# ns_set_link NS IF MAC CIDR: sets the MAC and address of interface IF of
# NS, turns IPv6 off (router solicitations would only add drops at the
# appliance) and brings it up.
ns_set_link() {
	ns_no_ipv6 "$1" "$2"
	ip -n "$1" link set "$2" address "$3" &&
		ip -n "$1" addr add "$4" dev "$2" &&
		ip -n "$1" link set "$2" up
}

# ns_take_link FROM IF NS MAC CIDR: moves interface IF from namespace FROM
# into NS (waiting up to 5 s for IF to appear), then ns_set_link NS IF MAC
# CIDR.
ns_take_link() {
	ns_wait_link "$1" "$2" || true  # ip says what is wrong, below
	ip -n "$1" link set "$2" netns "$3" || return 1
	ns_set_link "$3" "$2" "$4" "$5"
}

# ns_no_ipv6 NS IF...: turns IPv6 off on the interfaces (all, default: also
# on those created later); a kernel without IPv6 is fine too.
ns_no_ipv6() {
	local ns=$1 i
	shift
	for i in "$@"; do
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" \
			2>/dev/null || true
	done
}
