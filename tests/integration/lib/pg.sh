# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Throwaway PostgreSQL servers for a test (docs/fleet.md section 13). No test
# assumes a server that is already running: each starts its own, reachable
# only through a Unix socket in a 0700 directory, and removes it at the end.
#
#   . "$(dirname "$0")/lib/pg.sh"       (after lib/common.sh, or alone)
#   pg_start db                         initdb, start, roles and database
#   psql -d "$(pg_conninfo db)" ...     or: pg_sql db 'SELECT 1'
#   pg_stop db                          (also done by pg_stop_all)
#
# pg_start NAME [CONF_LINE...] makes /tmp/or-pg-NAME.XXXXXX (mode 0700):
#   data/        the cluster (initdb --auth=trust)
#   .s.PGSQL.P   the server's only socket (listen_addresses = '': no TCP)
#   server.log   the server's log
# and afterwards: PG_HOST (that directory), PG_PORT, PG_CONNINFO (superuser
# or_admin, database optroute) of the last server started; pg_dir, pg_port,
# pg_conninfo NAME [ROLE [DB]] for any of them. CONF_LINEs ("key = value")
# are appended to postgresql.conf (benchmarks use it for their settings).
#
# Roles made by pg_start (docs/operations.md, "PostgreSQL roles"):
#   or_admin            the superuser (initdb -U)
#   optroute_owner      LOGIN, owns database optroute: runs the migrations
#   optroute_appliance  NOLOGIN group: the grants of migration 2
#   or_app              LOGIN, member of optroute_appliance: what an
#                       appliance connects as
#
# Clean-up: pg_stop_all runs from the test's EXIT trap (a test with
# lib/common.sh calls it from its clean-up function, which it passes to
# or_trap_exit; one without calls pg_trap). A SIGKILL reaches no trap (run-all.sh's timeout -k
# ends with one), so pg_start also leaves a watcher in its own session
# (setsid) that stops the server and removes the directory once the test's
# shell is gone.
#
# Which OS user runs the server: initdb and postgres refuse to run as root
# (docs/fleet.md F9). As root we use the `postgres` account that Debian's
# postgresql package creates (make deps installs it), else `nobody`. Why not
# a dedicated account: creating one (useradd) would change the machine for
# good, outside the test's directory, and the package's account exists
# wherever the server binaries do. Either way the cluster lives in a
# directory only that user (and root, the test) can enter, so no other local
# user reaches the socket or the files. Run by any other user, the server
# runs as that user. PG_OS_USER, set before sourcing, overrides the choice.

# or_trap_exit (the one clean-up trap of the scripts), for pg_trap.
declare -F or_trap_exit >/dev/null ||
	. "$(dirname "${BASH_SOURCE[0]}")/../../../deploy/dev/trap.sh"
PG_BINDIR=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
declare -A PG_DIRS=() PG_PORTS=() PG_WATCHERS=()
PG_HOST=
PG_PORT=
PG_CONNINFO=

if [ -n "${PG_OS_USER:-}" ]; then
	: # the caller's choice (as root only)
elif [ "$(id -u)" = 0 ]; then
	if id postgres >/dev/null 2>&1; then PG_OS_USER=postgres; else PG_OS_USER=nobody; fi
else
	PG_OS_USER=$(id -un)
fi

# pg_as CMD...: CMD as the server's OS user, stdin closed; from / (the
# test's directory may be closed to that user; every path here is absolute).
pg_as() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && runuser -u "$PG_OS_USER" -- "$@" </dev/null)
	else
		"$@" </dev/null
	fi
}

pg_dir() { echo "${PG_DIRS[$1]}"; }
pg_port() { echo "${PG_PORTS[$1]}"; }
# pg_conninfo NAME [ROLE [DB]]: a libpq keyword string for that server.
pg_conninfo() {
	echo "host=${PG_DIRS[$1]} port=${PG_PORTS[$1]} user=${2:-or_admin} dbname=${3:-optroute}"
}
# pg_sql NAME SQL [ROLE [DB]]: runs SQL with psql (unaligned, tuples only,
# stops at the first error); its exit code is psql's.
pg_sql() {
	"$PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$(pg_conninfo "$1" "${3:-or_admin}" "${4:-optroute}")" \
		-c "$2" </dev/null
}

# pg_log_tail NAME: the last lines of that server's log, for a failure.
pg_log_tail() {
	local d=${PG_DIRS[$1]:-}
	[ -n "$d" ] && [ -f "$d/server.log" ] && tail -n 30 "$d/server.log" >&2
	return 0
}

# pg_init NAME [CONF_LINE...]: the directory and the cluster, not started.
pg_init() {
	local name=$1 d port
	shift
	[ -x "$PG_BINDIR/initdb" ] ||
		{ echo "pg.sh: no PostgreSQL server binaries (make deps installs postgresql)" >&2; return 1; }
	d=$(mktemp -d "/tmp/or-pg-$name.XXXXXX") || return 1
	chmod 700 "$d" && chown "$PG_OS_USER" "$d" || { rm -rf "$d"; return 1; }
	# The socket is the only way in, and its directory is ours alone: the
	# port only names the socket file. Random anyway, so that two servers
	# are never mistaken for each other in a log or a multi-host string.
	port=$((20000 + RANDOM % 30000))
	PG_DIRS[$name]=$d
	PG_PORTS[$name]=$port
	pg_watch "$name"
	pg_as "$PG_BINDIR/initdb" -D "$d/data" -U or_admin --auth=trust -E UTF8 \
		--locale=C.UTF-8 >"$d/initdb.log" 2>&1 ||
		{ echo "pg.sh: initdb failed:" >&2; tail -n 20 "$d/initdb.log" >&2; return 1; }
	{
		echo "# tests/integration/lib/pg.sh"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$d'"
		echo "unix_socket_permissions = 0700"
		echo "port = $port"
		echo "max_connections = 50"
		echo "shared_buffers = 32MB"
		# Standbys (pg_standby) need these; they are the defaults
		# of 15 but say so.
		echo "wal_level = replica"
		echo "max_wal_senders = 5"
		[ $# = 0 ] || printf '%s\n' "$@"
	} >>"$d/data/postgresql.conf" # (root may write it; it stays the server's)
}

# pg_start NAME [CONF_LINE...]: a new server, started, with the roles and
# database optroute above. Sets PG_HOST, PG_PORT, PG_CONNINFO.
pg_start() {
	local name=$1
	pg_init "$@" || return 1
	pg_run "$name" || return 1
	pg_sql "$name" "CREATE ROLE optroute_owner LOGIN;
		CREATE ROLE optroute_appliance NOLOGIN;
		CREATE ROLE or_app LOGIN IN ROLE optroute_appliance;" or_admin postgres ||
		return 1
	# Not inside a transaction block: psql -c sends it alone.
	pg_sql "$name" "CREATE DATABASE optroute OWNER optroute_owner" or_admin postgres || return 1
	pg_sql "$name" "REVOKE ALL ON DATABASE optroute FROM PUBLIC;
		GRANT CONNECT, TEMPORARY ON DATABASE optroute TO optroute_appliance;" or_admin || return 1
	PG_HOST=${PG_DIRS[$name]}
	PG_PORT=${PG_PORTS[$name]}
	PG_CONNINFO=$(pg_conninfo "$name")
}

# pg_run NAME: starts an initialized (or stopped) server, waits until it
# takes connections.
pg_run() {
	local d=${PG_DIRS[$1]}
	pg_as "$PG_BINDIR/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 start >/dev/null ||
		{ echo "pg.sh: server $1 did not start:" >&2; pg_log_tail "$1"; return 1; }
}

# pg_restart NAME: a clean stop and a start, same directory.
pg_restart() {
	pg_as "$PG_BINDIR/pg_ctl" -D "${PG_DIRS[$1]}/data" -m fast -w stop >/dev/null &&
		pg_run "$1"
}

# pg_kill NAME: kill -9 of the postmaster (a crash); the files stay, so
# pg_run can start it again.
pg_kill() {
	local pid
	pid=$(head -n 1 "${PG_DIRS[$1]}/data/postmaster.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	# Its backends go when they notice the postmaster is gone.
	local i
	for i in $(seq 50); do
		pg_as "$PG_BINDIR/pg_ctl" -D "${PG_DIRS[$1]}/data" status >/dev/null 2>&1 || return 0
		sleep 0.1
	done
}

# pg_standby PRIMARY NAME: a streaming standby of PRIMARY, started, with
# application_name NAME (what synchronous_standby_names lists). It goes in
# postgresql.auto.conf's primary_conninfo, which pg_basebackup -R writes
# and which overrides postgresql.conf (docs/fleet.md F9).
pg_standby() {
	local primary=$1 name=$2 d port
	d=$(mktemp -d "/tmp/or-pg-$name.XXXXXX") || return 1
	chmod 700 "$d" && chown "$PG_OS_USER" "$d" || { rm -rf "$d"; return 1; }
	port=$((20000 + RANDOM % 30000))
	PG_DIRS[$name]=$d
	PG_PORTS[$name]=$port
	pg_watch "$name"
	pg_as "$PG_BINDIR/pg_basebackup" -D "$d/data" -R -X stream -c fast \
		-d "$(pg_conninfo "$primary" or_admin postgres) application_name=$name" \
		>"$d/basebackup.log" 2>&1 ||
		{ echo "pg.sh: pg_basebackup failed:" >&2; tail -n 20 "$d/basebackup.log" >&2; return 1; }
	{
		echo "unix_socket_directories = '$d'"
		echo "port = $port"
		echo "primary_conninfo = '$(pg_conninfo "$primary" or_admin postgres) application_name=$name'"
	} >>"$d/data/postgresql.auto.conf"
	pg_run "$name"
}

# pg_sync PRIMARY STANDBY...: synchronous replication to the first of the
# STANDBYs (their application_names) that is connected; "" turns it off.
# Only once a standby is there: a listed name that no standby carries makes
# every commit wait (docs/fleet.md F9), pg_start's own included.
pg_sync() {
	local primary=$1 list
	shift
	list=$(IFS=,; echo "$*")
	pg_sql "$primary" "ALTER SYSTEM SET synchronous_standby_names = '${list:+FIRST 1 ($list)}'" \
		or_admin postgres && pg_sql "$primary" "SELECT pg_reload_conf()" or_admin postgres >/dev/null
}

# pg_promote NAME: the standby NAME becomes a primary (waits for it).
pg_promote() {
	pg_as "$PG_BINDIR/pg_ctl" -D "${PG_DIRS[$1]}/data" -w promote >/dev/null
}

# pg_stop NAME: stops the server at once and removes its directory.
pg_stop() {
	local name=$1 d=${PG_DIRS[$1]:-}
	[ -n "$d" ] || return 0
	if [ -f "$d/data/postmaster.pid" ]; then
		pg_as "$PG_BINDIR/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1 ||
			pg_kill "$name"
	fi
	rm -rf "$d"
	[ -z "${PG_WATCHERS[$name]:-}" ] || kill "${PG_WATCHERS[$name]}" 2>/dev/null
	unset "PG_DIRS[$name]" "PG_PORTS[$name]" "PG_WATCHERS[$name]"
	return 0
}

# pg_or_cleanup: the clean-up of a test that also sources lib/common.sh
# (or_trap_exit pg_or_cleanup): its processes and files first (daemons
# connected to the servers), then every server it started.
pg_or_cleanup() {
	or_cleanup
	pg_stop_all
}

# pg_stop_all: every server this shell started.
pg_stop_all() {
	local n
	for n in "${!PG_DIRS[@]}"; do
		pg_stop "$n"
	done
}

# pg_watch NAME: the watcher for a SIGKILL of the test (see the top). It
# polls the test's shell, then does what pg_stop does. Its own session, so
# the process-group kill of run-all.sh's timeout does not take it along.
pg_watch() {
	local d=${PG_DIRS[$1]}
	setsid bash -c '
		while kill -0 "$1" 2>/dev/null; do sleep 1; done
		if [ -f "$2/data/postmaster.pid" ]; then
			pid=$(head -n 1 "$2/data/postmaster.pid")
			[ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null
			sleep 1
			[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
		fi
		rm -rf "$2"' pg_watch "$$" "$d" </dev/null >/dev/null 2>&1 &
	PG_WATCHERS[$1]=$!
}

# pg_trap: pg_stop_all on every exit, for a test without lib/common.sh's
# clean-up.
pg_trap() {
	or_trap_exit pg_stop_all
}
