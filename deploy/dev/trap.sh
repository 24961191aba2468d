# SPDX-License-Identifier: BSD-3-Clause
#
# Sourced by the test and benchmark scripts (tests/integration/lib/common.sh,
# tests/bench/*.sh): the one way they run their clean-up on exit.
#
# or_trap_exit FUNC: FUNC runs on every exit. A signal (run-all.sh's timeout
# sends TERM, Ctrl-C INT) exits through the EXIT trap too, so the clean-up
# always runs. Once it runs, further signals are ignored: `timeout` signals
# the whole process group and a parent forwards its own, and a second TERM
# whose trap ran `exit` inside the clean-up would cut it short (measured: 7
# of 150 runs of a script sent three TERMs at once left their clean-up
# unfinished).
or_trap_exit() {
	# shellcheck disable=SC2064 # (the function's name, expanded now)
	trap "OR_STOPPING=1; $1" EXIT
	trap '[ -n "${OR_STOPPING:-}" ] || { OR_STOPPING=1; exit 143; }' TERM
	trap '[ -n "${OR_STOPPING:-}" ] || { OR_STOPPING=1; exit 130; }' INT
}
