#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The consent table's lookup has three compare paths (dataplane/table/
# ct_internal.h): AVX-512, SSE4.1 and scalar. A build with -march=native
# (the default) compiles only the best one this CPU has, yet an appliance
# may run any of them. So the unit tests are built again for x86-64-v2
# (SSE4.2, no AVX: the SSE4.1 path) and for baseline x86-64 (no SSE4.1:
# the scalar path), in build directories of their own ($BUILD-x86-64-v2,
# $BUILD-x86-64; with SAN=1, sanitized too), and the table suites run with
# each: semantics, the mid-lookup races, the multi-threaded stress.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
for march in x86-64-v2 x86-64; do
	b="$BUILD-$march"
	echo "== MARCH=$march ($b)"
	mkdir -p "$b"
	# A make of its own (not a sub-make of `make test`'s jobserver).
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make --no-print-directory -j"$(nproc)" OR_INNER=1 SAN="${SAN:-}" \
		BUILD="$b" MARCH="$march" "$b/tests/unit_tests" >"$b/make.log" 2>&1 ||
		{ tail -n 30 "$b/make.log"; echo "build for MARCH=$march failed"; exit 1; }
	"$b/tests/unit_tests" ctable ctable_race ctable_stress
done
echo "ct_fallback: ok"
