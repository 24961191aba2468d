#!/bin/sh
# Installs optroute; run by `make install` (see docs/operations.md).
#
#   make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage]
#   BUILD=build PREFIX=/usr DESTDIR=/tmp/stage deploy/install.sh
#
# Environment:
#   BUILD       build directory holding bin/ (default: build)
#   PREFIX      installation prefix (default: /usr/local)
#   DESTDIR     staging root prepended to every path (default: none)
#   SYSCONFDIR  configuration root (default: /etc, whatever PREFIX is: the
#               daemons' built-in defaults are /etc/optroute/...)
#   MAN_GZIP    1 (default) compresses man pages with gzip -9n, 0 does not
#
# Layout under $DESTDIR$PREFIX: sbin/optroute-dataplane, optroute-control,
# optroute-exporter, optroute-store-migrate, optroute-hugepages; bin/optroutectl, optroute-client; share/man/man1,
# man8; lib/systemd/system (units, /usr/sbin and /etc rewritten to PREFIX
# and SYSCONFDIR); lib/sysusers.d/optroute.conf; share/doc/optroute. Under
# $DESTDIR$SYSCONFDIR/optroute: optroute.ini.sample (always refreshed),
# hugepages.conf (only if missing). An existing optroute.ini or master.key
# is never touched. Works as non-root with a DESTDIR.
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
SYSCONFDIR=${SYSCONFDIR:-/etc}
MAN_GZIP=${MAN_GZIP:-1}

die() { echo "install: $*" >&2; exit 1; }

case $PREFIX in /*) ;; *) die "PREFIX must be an absolute path: '$PREFIX'" ;; esac
case $SYSCONFDIR in /*) ;; *) die "SYSCONFDIR must be an absolute path: '$SYSCONFDIR'" ;; esac
PREFIX=${PREFIX%/}
SYSCONFDIR=${SYSCONFDIR%/}
case $PREFIX$SYSCONFDIR in *'|'* | *'&'* | *\\*)
	die "PREFIX and SYSCONFDIR must not contain | & or \\" ;;
esac

ROOT=$DESTDIR$PREFIX
ETC=$DESTDIR$SYSCONFDIR/optroute
UNITDIR=$ROOT/lib/systemd/system

for b in optroute-dataplane optroute-control optroute-exporter optroutectl \
	optroute-client optroute-store-migrate; do
	[ -x "$BUILD/bin/$b" ] || die "missing $BUILD/bin/$b (run make first)"
done
[ "$MAN_GZIP" = 0 ] || command -v gzip >/dev/null 2>&1 || MAN_GZIP=0

# inst MODE SRC DST: install one file, creating directories.
inst() {
	install -D -m "$1" "$2" "$3"
	echo "install: $3"
}

# Paths inside units and the sample as they will be on the target system.
rewrite() {
	sed -e "s|/usr/sbin/|$PREFIX/sbin/|g" \
	    -e "s|/usr/share/doc/optroute/|$PREFIX/share/doc/optroute/|g" \
	    -e "s|/etc/optroute/|$SYSCONFDIR/optroute/|g" "$1"
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/optroute-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# ---- programs
inst 0755 "$BUILD/bin/optroute-dataplane" "$ROOT/sbin/optroute-dataplane"
inst 0755 "$BUILD/bin/optroute-control" "$ROOT/sbin/optroute-control"
inst 0755 "$BUILD/bin/optroute-exporter" "$ROOT/sbin/optroute-exporter"
inst 0755 "$BUILD/bin/optroute-store-migrate" "$ROOT/sbin/optroute-store-migrate"
inst 0755 deploy/hugepages/optroute-hugepages "$ROOT/sbin/optroute-hugepages"
inst 0755 "$BUILD/bin/optroutectl" "$ROOT/bin/optroutectl"
inst 0755 "$BUILD/bin/optroute-client" "$ROOT/bin/optroute-client"

# ---- man pages
for m in docs/man/*.[18]; do
	sec=${m##*.}
	name=${m##*/}
	if [ "$MAN_GZIP" = 0 ]; then
		inst 0644 "$m" "$ROOT/share/man/man$sec/$name"
	else
		gzip -9nc "$m" >"$TMP/$name.gz"
		inst 0644 "$TMP/$name.gz" "$ROOT/share/man/man$sec/$name.gz"
	fi
done

# ---- systemd: units, users
for u in deploy/systemd/*.service deploy/hugepages/*.service \
	 deploy/hugepages/*.mount; do
	rewrite "$u" >"$TMP/unit"
	inst 0644 "$TMP/unit" "$UNITDIR/${u##*/}"
done
inst 0644 deploy/systemd/optroute-sysusers.conf "$ROOT/lib/sysusers.d/optroute.conf"

# ---- documentation
inst 0644 README.md "$ROOT/share/doc/optroute/README.md"
for d in docs/*.md docs/benchmarks/*.md; do
	inst 0644 "$d" "$ROOT/share/doc/optroute/${d#docs/}"
done

# ---- configuration: samples only; a live file is never overwritten
rewrite deploy/optroute.ini >"$TMP/optroute.ini.sample"
inst 0644 "$TMP/optroute.ini.sample" "$ETC/optroute.ini.sample"
if [ -e "$ETC/hugepages.conf" ]; then
	echo "install: $ETC/hugepages.conf exists, kept"
else
	inst 0644 deploy/hugepages/hugepages.conf "$ETC/hugepages.conf"
fi
[ -e "$ETC/optroute.ini" ] && echo "install: $ETC/optroute.ini exists, kept"

# ---- a real installation on a systemd host: users and unit files now
if [ -z "$DESTDIR" ] && [ "$(id -u)" = 0 ] && [ -d /run/systemd/system ]; then
	systemd-sysusers "$ROOT/lib/sysusers.d/optroute.conf" || true
	systemctl daemon-reload || true
fi

cat <<EOF
install: done. Next (docs/operations.md): reserve hugepages
  ($SYSCONFDIR/optroute/hugepages.conf), bind the NICs to vfio-pci, create
  the master key, write $SYSCONFDIR/optroute/optroute.ini from the .sample,
  then: systemctl enable --now optroute-control optroute-dataplane
  optroute-exporter (/metrics; docs/exporter.md)
EOF
