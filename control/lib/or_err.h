/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Error text for the control-plane library.
 *
 * Every liborcp function that can fail for a reason an operator must
 * understand takes an optional `struct or_err *` (NULL = no text wanted)
 * and returns 0 or -errno. The text is one line, no trailing newline, and
 * NEVER contains a phone number or any part of one: E.164 errors name the
 * rule and the position only ("invalid character at position 5").
 */
#ifndef OR_ERR_H
#define OR_ERR_H

#define OR_ERR_LEN 192

struct or_err {
	char msg[OR_ERR_LEN];
};

/* printf-style; no-op when e == NULL. Always NUL-terminates (truncates). */
void or_err_set(struct or_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
