#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# make bench-pg-ref [ROWS=N] [CHANGES=N]: pg_reference_per_s of
# docs/fleet.md section 14 on a throwaway PostgreSQL (lib/pg.sh) with the
# section's settings; bench-fleet will run the same program in its own run.
# Memory: shared_buffers is 4 GB. Disk: about 150 bytes a row in /tmp.
set -u
cd "$(dirname "$0")/../../.." || exit 1
BUILD=${BUILD:-build}
ROWS=${ROWS:-10000000}
CHANGES=${CHANGES:-200000}
# shellcheck source=../../integration/lib/pg.sh
. tests/integration/lib/pg.sh
pg_trap
[ -x "$BUILD/bin/bench_pg_ref" ] || { echo "missing $BUILD/bin/bench_pg_ref (make first)" >&2; exit 1; }

pg_start bench "shared_buffers = 4GB" "max_wal_size = 16GB" "checkpoint_timeout = 30min" \
	"wal_compression = lz4" "synchronous_commit = on" "fsync = on" "full_page_writes = on" \
	"track_wal_io_timing = on" "track_io_timing = on" ||
	exit 1
"$BUILD/bin/bench_pg_ref" --conninfo "$PG_CONNINFO" --rows "$ROWS" --changes "$CHANGES"
