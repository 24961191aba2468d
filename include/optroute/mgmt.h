/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The control plane's management protocol (optroute-control <-> optroutectl
 * and any other client), version 1. Full description: docs/control.md.
 *
 * Transport: Unix stream socket, access checked with SO_PEERCRED. JSON lines:
 * one request object per line, one reply object per line. A request carries
 * "v" (OR_MGMT_VERSION), an optional "id" (integer or string, echoed in the
 * reply: replies to one client may come out of order when "wait" is used)
 * and "cmd" (a name of the list OR_MGMT_CMDS, include/optroute/mgmt_cmds.h,
 * which also says what each command takes, does and who may run it). A
 * reply is
 *   {"v":1,"id":ID,"ok":true,...}  or
 *   {"v":1,"id":ID,"ok":false,"error":{"code":"...","message":"..."}}.
 * Error codes are the stable strings below; messages are for humans and never
 * contain a phone number.
 *
 * Sender keys (protocol version 2, include/optroute/auth.h): "optin" with
 * "pubkey" (base64 of the phone's 32-byte X25519 public key) and "rekey"
 * answer "key_epoch" and "sealed_key" = base64(crypto_box_seal(K_sender,
 * pubkey)), K_sender of the issuing epoch: the current auth epoch once the
 * dataplane has acked a key set holding it, until then the previous one.
 * K_sender itself is never in a reply, the store, the audit trail or a log.
 * "keys" shows the live epochs; "rotate" (refused with "conflict" while a
 * previous epoch is live) and "retire" change them and answer once the
 * dataplane enforces the new set ("enforced": true), or after
 * wait_timeout_ms with "enforced": false and a "warning".
 */
#ifndef OPTROUTE_MGMT_H
#define OPTROUTE_MGMT_H

#include <stddef.h>
#include <string.h>

#include "optroute/mgmt_cmds.h"

#define OR_MGMT_VERSION 1

/* Longest request line, newline excluded. A longer line is answered with
 * line_too_long and the connection is closed (its end cannot be found). */
#define OR_MGMT_MAX_LINE (64 * 1024)

/* Most lines in one import request (a client streams a file in chunks). */
#define OR_MGMT_IMPORT_MAX_LINES 2048

/* Longest "notice" and "method" strings. */
#define OR_MGMT_NOTICE_MAX 64
#define OR_MGMT_METHOD_MAX 32
/* An appliance's name ([control] appliance_name; "forget"): 1 to
 * OR_MGMT_APPLIANCE_MAX of these characters. */
#define OR_MGMT_APPLIANCE_MAX 63
#define OR_MGMT_APPLIANCE_CHARS                                              \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* Whether s (len bytes, NUL-terminated) is an appliance name. */
static inline int
or_mgmt_appliance_ok(const char *s, size_t len)
{
	return len > 0 && len <= OR_MGMT_APPLIANCE_MAX &&
	       strspn(s, OR_MGMT_APPLIANCE_CHARS) == len;
}

#define OR_MGMT_DEFAULT_SOCKET "/run/optroute/control.sock"

enum or_mgmt_cmd {
	OR_MGMT_CMD_NONE = 0,
#define OR_MGMT_X_ENUM(e, ...) OR_MGMT_CMD_##e,
	OR_MGMT_CMDS(OR_MGMT_X_ENUM)
#undef OR_MGMT_X_ENUM
	OR_MGMT_CMD_COUNT
};

/* Error codes: X(enum suffix, wire code). */
#define OR_MGMT_ERRS(X)                                                      \
	X(BAD_JSON, "bad_json")             /* not one JSON object */        \
	X(BAD_REQUEST, "bad_request")       /* missing/extra/wrong field */  \
	X(BAD_VERSION, "unsupported_version")                                \
	X(UNKNOWN_COMMAND, "unknown_command")                                \
	X(LINE_TOO_LONG, "line_too_long")                                    \
	X(INVALID_NUMBER, "invalid_number") /* not E.164 */                  \
	X(INVALID_TOKEN, "invalid_token")   /* not 32 hex digits */          \
	X(INVALID_SEALED, "invalid_sealed") /* bad base64 or cannot open */  \
	X(NOT_OPTED_IN, "not_opted_in")     /* rekey of a subject not in */  \
	X(CONFLICT, "conflict")             /* rotate/retire not possible */ \
	X(DATAPLANE_UNAVAILABLE, "dataplane_unavailable")                    \
	X(TIMEOUT, "timeout")               /* a wait timed out */           \
	/* --wait=fleet: committed, not enforced by every live appliance */ \
	X(FLEET_TIMEOUT, "fleet_timeout")                                    \
	X(STORE, "store_error")                                              \
	/* the connection to the system of record broke during the commit */ \
	X(COMMIT_UNKNOWN, "commit_unknown")                                  \
	X(AUDIT_BROKEN, "audit_chain_broken")                                \
	X(BUSY, "busy")                     /* too many pending requests */  \
	X(SHUTTING_DOWN, "shutting_down")                                    \
	X(IDLE_TIMEOUT, "idle_timeout")                                      \
	X(TOO_MANY_CLIENTS, "too_many_clients")                              \
	/* a peer not allowed; a read-only client's command not read-only */ \
	X(PERMISSION_DENIED, "permission_denied")                            \
	X(INTERNAL, "internal")

enum or_mgmt_err {
	OR_MGMT_OK = 0,
#define OR_MGMT_X_ENUM(e, c) OR_MGMT_E_##e,
	OR_MGMT_ERRS(OR_MGMT_X_ENUM)
#undef OR_MGMT_X_ENUM
	OR_MGMT_E_COUNT
};

/* The command's entry of OR_MGMT_CMDS; NULL for OR_MGMT_CMD_NONE and
 * anything that is not a command. */
static inline const struct or_mgmt_cmd_info *
or_mgmt_cmd_info(enum or_mgmt_cmd c)
{
	static const struct or_mgmt_cmd_info info[OR_MGMT_CMD_COUNT] = {
		{ "none", OR_MGMT_CH_NONE, 0, OR_MGMT_DONE_NOW, 0, 0, 0, "" },
		OR_MGMT_CMDS(OR_MGMT_CMD_INFO_)
	};
	return (unsigned)c - 1 < OR_MGMT_CMD_COUNT - 1 ? &info[c] : NULL;
}

static inline const char *
or_mgmt_cmd_name(enum or_mgmt_cmd c)
{
	const struct or_mgmt_cmd_info *i = or_mgmt_cmd_info(c);

	return i != NULL ? i->name : "none";
}

static inline const char *
or_mgmt_cmd_help(enum or_mgmt_cmd c)
{
	const struct or_mgmt_cmd_info *i = or_mgmt_cmd_info(c);

	return i != NULL ? i->help : "";
}

/* A request field's wire name (one OR_MGMT_F_* bit), "" if none. */
static inline const char *
or_mgmt_field_name(unsigned bit)
{
	static const char *const names[] = {
#define OR_MGMT_X_FNAME(f, n, acc) [OR_MGMT_FB_##f] = n,
		OR_MGMT_FIELDS(OR_MGMT_X_FNAME)
#undef OR_MGMT_X_FNAME
	};
	for (unsigned b = 0; b < OR_MGMT_FB_COUNT; b++)
		if (bit == 1u << b)
			return names[b];
	return "";
}

/* OR_MGMT_CMD_NONE if name is not a command. */
static inline enum or_mgmt_cmd
or_mgmt_cmd_parse(const char *name)
{
	for (unsigned c = OR_MGMT_CMD_NONE + 1; c < OR_MGMT_CMD_COUNT; c++)
		if (strcmp(name, or_mgmt_cmd_name((enum or_mgmt_cmd)c)) == 0)
			return (enum or_mgmt_cmd)c;
	return OR_MGMT_CMD_NONE;
}

static inline const char *
or_mgmt_err_code(enum or_mgmt_err e)
{
	static const char *const codes[] = {
		[OR_MGMT_OK] = "ok",
#define OR_MGMT_X_CODE(e, c) [OR_MGMT_E_##e] = c,
		OR_MGMT_ERRS(OR_MGMT_X_CODE)
#undef OR_MGMT_X_CODE
	};
	return (unsigned)e < OR_MGMT_E_COUNT ? codes[e] : "internal";
}

#endif
