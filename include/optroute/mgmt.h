/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The control plane's management protocol (optroute-control <-> optroutectl
 * and any other client), version 1. Full description: docs/control.md.
 *
 * Transport: Unix stream socket, access checked with SO_PEERCRED. JSON lines:
 * one request object per line, one reply object per line. A request carries
 * "v" (OR_MGMT_VERSION), an optional "id" (integer or string, echoed in the
 * reply: replies to one client may come out of order when "wait" is used)
 * and "cmd" (one of the names below). A reply is
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

#define OR_MGMT_VERSION 1

/* Longest request line, newline excluded. A longer line is answered with
 * line_too_long and the connection is closed (its end cannot be found). */
#define OR_MGMT_MAX_LINE (64 * 1024)

/* Most lines in one import request (a client streams a file in chunks). */
#define OR_MGMT_IMPORT_MAX_LINES 2048

/* Longest "notice" and "method" strings. */
#define OR_MGMT_NOTICE_MAX 64
#define OR_MGMT_METHOD_MAX 32

#define OR_MGMT_DEFAULT_SOCKET "/run/optroute/control.sock"

/* Commands: X(enum suffix, wire name, one-line help). */
#define OR_MGMT_CMDS(X)                                                       \
	X(OPTIN, "optin", "opt a subject in (number, sealed or token)")       \
	X(OPTOUT, "optout", "opt a subject out")                             \
	X(ERASE, "erase", "delete a subject's record (right to erasure)")    \
	X(STATUS, "status", "consent state of one subject")                  \
	X(IMPORT, "import", "apply one chunk of lines (numbers or tokens)")  \
	X(AUDIT, "audit", "one subject's history, hash chain verified")      \
	X(STATS, "stats", "control plane and dataplane counters")            \
	X(TABLE, "table", "the dataplane's consent table (entries, memory)") \
	X(DATAPLANE, "dataplane", "channel state: connected, acked seq, lag")\
	X(PUBKEY, "pubkey", "public key for sealed numbers")                 \
	X(REKEY, "rekey", "issue an opted-in subject a new sealed sender key")\
	X(KEYS, "keys", "auth epochs: current, previous, issuing, enforced") \
	X(ROTATE, "rotate", "start a new auth epoch (the old one stays live)")\
	X(RETIRE, "retire", "retire the previous auth epoch")                \
	X(HELP, "help", "list the commands")                                 \
	X(VERSION, "version", "daemon and protocol versions")

enum or_mgmt_cmd {
	OR_MGMT_CMD_NONE = 0,
#define OR_MGMT_X_ENUM(e, n, h) OR_MGMT_CMD_##e,
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
	X(TIMEOUT, "timeout")               /* wait for the ack timed out */ \
	X(STORE, "store_error")                                              \
	X(AUDIT_BROKEN, "audit_chain_broken")                                \
	X(BUSY, "busy")                     /* too many pending requests */  \
	X(SHUTTING_DOWN, "shutting_down")                                    \
	X(IDLE_TIMEOUT, "idle_timeout")                                      \
	X(TOO_MANY_CLIENTS, "too_many_clients")                              \
	X(PERMISSION_DENIED, "permission_denied")                            \
	X(INTERNAL, "internal")

enum or_mgmt_err {
	OR_MGMT_OK = 0,
#define OR_MGMT_X_ENUM(e, c) OR_MGMT_E_##e,
	OR_MGMT_ERRS(OR_MGMT_X_ENUM)
#undef OR_MGMT_X_ENUM
	OR_MGMT_E_COUNT
};

static inline const char *
or_mgmt_cmd_name(enum or_mgmt_cmd c)
{
	static const char *const names[] = {
		[OR_MGMT_CMD_NONE] = "none",
#define OR_MGMT_X_NAME(e, n, h) [OR_MGMT_CMD_##e] = n,
		OR_MGMT_CMDS(OR_MGMT_X_NAME)
#undef OR_MGMT_X_NAME
	};
	return (unsigned)c < OR_MGMT_CMD_COUNT ? names[c] : "none";
}

static inline const char *
or_mgmt_cmd_help(enum or_mgmt_cmd c)
{
	static const char *const help[] = {
		[OR_MGMT_CMD_NONE] = "",
#define OR_MGMT_X_HELP(e, n, h) [OR_MGMT_CMD_##e] = h,
		OR_MGMT_CMDS(OR_MGMT_X_HELP)
#undef OR_MGMT_X_HELP
	};
	return (unsigned)c < OR_MGMT_CMD_COUNT ? help[c] : "";
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
