# SPDX-License-Identifier: BSD-3-Clause
#
# Sourced by the control plane's benchmarks (bench-control.sh,
# bench-abuse.sh): the import load they measure, defined once.
# Sourced before the benchmark's own settings: the load's defaults below
# (each overridable from the environment); bench_import needs CTL
# (optroutectl) set by then.
CHANGES=${CHANGES:-500000}     # numbers a measured import brings
CHUNK=${CHUNK:-2048}           # lines a request
IMPORT_CLIENTS=${IMPORT_CLIENTS:-2} # optroutectl imports at once

now() { date +%s.%N; }

# bench_import PREFIX: IMPORT_CLIENTS optroutectl imports at once, of the
# files PREFIX.0 .. PREFIX.<IMPORT_CLIENTS-1> (opt-ins, one number a line);
# each keeps 4 requests of CHUNK lines in flight, so two fill one group
# commit (OR_STORE_APPLY_MAX, 16384 changes). Sets t0 and t1 around it.
# Fails (1, with a message) if an import did: a rate of a window whose
# import was cut short is no rate. With IMPORT_SOCKETS (a list), client j
# talks to socket j modulo their number (one daemon each in a fleet).
bench_import() {
	local pids="" p j bad=0 socks
	read -r -a socks <<<"${IMPORT_SOCKETS:-}"
	t0=$(now)
	for j in $(seq 0 $((IMPORT_CLIENTS - 1))); do
		"$CTL" ${IMPORT_SOCKETS:+-s "${socks[j % ${#socks[@]}]}"} \
			import "$1.$j" --optin --chunk "$CHUNK" >/dev/null &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || bad=1; done
	t1=$(now)
	[ "$bad" = 0 ] || { echo "bench: an import of $1.* failed" >&2; return 1; }
}

# import_numbers COUNT PREFIX: imports COUNT new numbers +<PREFIX><7 digits>
# (files $T/numbers.*) with bench_import; sets t0 and t1 around it.
import_numbers() { # $1 = count, $2 = prefix
	python3 - "$1" "$IMPORT_CLIENTS" "$T/numbers" "$2" <<'EOF'
import sys
n, k, base, pre = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
fs = [open("%s.%d" % (base, j), "w") for j in range(k)]
for i in range(n):
    fs[i * k // n].write("+%s%07d\n" % (pre, i))
EOF
	bench_import "$T/numbers"
}
