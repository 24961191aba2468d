#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The read-only access class of the management socket ([control]
# readonly_gid, docs/control.md "Who may connect"): a throwaway system user
# whose supplementary group is readonly_gid (created here, removed on every
# exit) passes the socket file (its ACL entry) and the daemon's peer check
# as a read-only client: it may run stats, table-less reads and keys; optin,
# status (per-subject data) and stats --clear are refused with
# permission_denied "... not permitted for read-only clients", each counted
# in control.readonly_refused, and nothing changes. A user in no allowed
# group is refused at connect as before: by the socket file's mode, and by
# the daemon's check when the mode is opened. Needs root, useradd and
# setpriv.
set -u
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
or_need_bins optroutectl optroute-control
CTL=$BIN/optroutectl

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null ||
	! command -v useradd >/dev/null; then
	echo "skip: $OR_NAME needs root, useradd and setpriv"
	or_cleanup
	exit 0
fi

RO=orro$$ # the throwaway user and its group
ro_cleanup() {
	userdel "$RO" 2>/dev/null || true
	groupdel "$RO" 2>/dev/null || true
	or_cleanup
}
or_trap_exit ro_cleanup
groupadd --system "$RO" || or_fail "groupadd $RO"
useradd --system --no-create-home --no-user-group --gid nogroup \
	--groups "$RO" --shell /usr/sbin/nologin "$RO" || or_fail "useradd $RO"

# as_ro COMMAND...: as the user, its groups from the group database.
as_ro() { setpriv --reuid="$RO" --regid=nogroup --init-groups "$@"; }
# as_nobody COMMAND...: uid/gid 65534, no supplementary group.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

N1=+15550700001
or_key "$T/key"
or_ini_control "readonly_gid = $RO" >"$T/cp.ini"
or_start_cp "$T/cp.ini"
chmod 0755 "$T" # the socket's directory: others may traverse

# ---- the socket file --------------------------------------------------------
or_check "socket mode 0660" test "$(stat -c %a "$T/cp.sock")" = 660
or_check "socket ACL gives readonly_gid rw" python3 - "$T/cp.sock" "$(getent group "$RO" | cut -d: -f3)" <<'EOF'
import os, struct, sys
acl = os.getxattr(sys.argv[1], "system.posix_acl_access")
ver, = struct.unpack_from("<I", acl)
ents = [struct.unpack_from("<HHI", acl, 4 + 8 * i) for i in range((len(acl) - 4) // 8)]
assert ver == 2 and (0x08, 6, int(sys.argv[2])) in ents, ents
assert (0x20, 0, 0xffffffff) in ents, ents   # others: nothing
EOF

# ---- the read-only client ---------------------------------------------------
"$CTL" optin "$N1" >/dev/null || or_fail "optin as root"
j=$(as_ro "$CTL" -j stats 2>&1); rc=$?
or_check "read-only client runs stats" or_json "$j" 'assert r["ok"] and "control" in r, r'
for c in version keys dataplane pubkey; do
	out=$(as_ro "$CTL" "$c" 2>&1)
	or_check "read-only client runs $c" test $? = 0
done
out=$(echo "+15550700002" | as_ro "$CTL" optin - 2>&1); rc=$?
or_check "read-only client refused optin (exit 1)" test $rc = 1
or_check "optin refusal says why" grep -q \
	"permission_denied: command optin is not permitted for read-only clients" <<<"$out"
or_check "the refusal does not echo the number" test -z "$(grep 15550700002 <<<"$out")"
out=$(echo "$N1" | as_ro "$CTL" status - 2>&1); rc=$?
or_check "read-only client refused status (per-subject data)" \
	test $rc = 1 -a -n "$(grep "command status is not permitted" <<<"$out")"
out=$(as_ro "$CTL" stats --clear 2>&1); rc=$?
or_check "read-only client refused stats --clear" \
	test $rc = 1 -a -n "$(grep "field 'clear' is not permitted for read-only clients" <<<"$out")"

j=$("$CTL" -j stats)
or_check "refusals counted: readonly_refused 3" or_json "$j" '
c = r["control"]
assert c["readonly_refused"] == 3, c
assert c["clients_readonly"] >= 7, c
assert c["optins"] == 1, c   # the refused optin changed nothing'
j=$(echo "+15550700002" | "$CTL" -j status -)
or_check "the refused optin is not in the store" or_json "$j" 'assert r["state"] == "none", r'

# ---- a user in no allowed group: refused at connect, as before --------------
out=$(as_nobody "$CTL" version 2>&1); rc=$?
or_check "other uid stopped by the socket's mode (exit 3)" \
	test $rc = 3 -a -n "$(grep -i "permission denied" <<<"$out")"
chmod 0666 "$T/cp.sock"
out=$(as_nobody "$CTL" version 2>&1); rc=$?
or_check "other uid refused by the peer check (permission_denied)" \
	test $rc = 1 -a -n "$(grep permission_denied <<<"$out")"
chmod 0660 "$T/cp.sock"
out=$(as_ro "$CTL" version 2>&1)
or_check "read-only client still served after the mode change" test $? = 0
j=$("$CTL" -j stats)
or_check "the refused peer is counted in clients_refused" or_json "$j" '
assert r["control"]["clients_refused"] >= 1, r["control"]'

or_check "daemon alive" kill -0 "$CP_PID"
or_stop CP_PID || or_bad "clean stop"
or_summary
