/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Each management command described once. optroute-control dispatches
 * through OR_MGMT_CMDS (control/daemon/: cmd/cp_act.c runs the handler,
 * loop/cp_req.c checks the fields, loop/cp_srv.c orders and limits the
 * request, cmd/ completes it as the entry says), and optroutectl parses its command line with the same
 * list (control/ctl/ctl_cmd.c: the options of a command are those of its
 * fields, and its usage is generated from the entries), so the CLI refuses
 * what the daemon would. docs/control.md has the list as a table.
 *
 * An entry is X(cmd, name, handler, changes, store, done, access, fields,
 * needs, help):
 *   cmd      enum or_mgmt_cmd suffix (OR_MGMT_CMD_##cmd)
 *   name     the wire name ("cmd") and optroutectl's command word
 *   handler  the daemon's action (control/daemon/cmd/cp_act*.c), a cp_act_fn
 *   changes  consent changes it adds to the store group
 *              NONE     none
 *              ONE      one
 *              ONE_KEY  one, and one more (the sender key issued, audited)
 *                       when the request carries "pubkey"
 *              LINES    at most one per import line
 *   store    READ: it must see every change received before it (reads, and
 *            the auth epoch changes, whose seqs follow the group's): the
 *            open store group is committed first; NO_READ: it need not
 *   done     what completes it once its action succeeded
 *              NOW        nothing: answered at once
 *              COMMIT     the store commit of its group (with "wait": then
 *                         the dataplane's ack of its seq)
 *              DATAPLANE  the dataplane's answer over the channel
 *                         (counters; "stats" without a dataplane: NOW)
 *              JOB        a background job (audit verification; "audit"
 *                         of one subject: NOW)
 *              KEYS       the dataplane enforcing the auth key set it
 *                         committed (or the wait timing out)
 *              SEQ        with "after_seq": this appliance's reads
 *                         holding that seq (or the wait timing out);
 *                         without it: NOW
 *            What may wait counts against max_pending ("busy"):
 *            cp_req_may_wait(), from this column and the request's
 *            fields.
 *   access   RO: a read-only client (readonly_gid) may run it: it changes
 *            nothing and reveals nothing about a subject; RW: it may not
 *   fields   the request fields it takes beyond v, id and cmd (masks of
 *            OR_MGMT_F_*); optroutectl offers the option of each
 *   needs    the fields it must have (OR_MGMT_F_SUBJ: exactly one of
 *            number, sealed, token; a subject in fields but not in needs
 *            is optional: "audit" without one verifies the whole chain)
 *   help     one line for "help" and optroutectl's usage
 */
#ifndef OPTROUTE_MGMT_CMDS_H
#define OPTROUTE_MGMT_CMDS_H

/* Request fields: X(field, wire name, access). access RW: a read-only
 * client may not send it, whatever the command ("clear" resets the
 * counters everyone reads). */
#define OR_MGMT_FIELDS(X)                                                    \
	X(NUMBER, "number", RO)                                              \
	X(SEALED, "sealed", RO)                                              \
	X(TOKEN, "token", RO)                                                \
	X(NODE, "node", RO)                                                  \
	X(NOTICE, "notice", RO)                                              \
	X(METHOD, "method", RO)                                              \
	X(WAIT, "wait", RO)                                                  \
	X(CLEAR, "clear", RW)                                                \
	X(ACTION, "action", RO)                                              \
	X(LINES, "lines", RO)                                                \
	X(FIRST_LINE, "first_line", RO)                                      \
	X(PUBKEY, "pubkey", RO)                                              \
	X(FORGET, "forget", RW)                                             \
	X(AFTER_SEQ, "after_seq", RO)

enum or_mgmt_field_bit {
#define OR_MGMT_X_FBIT(f, n, acc) OR_MGMT_FB_##f,
	OR_MGMT_FIELDS(OR_MGMT_X_FBIT)
#undef OR_MGMT_X_FBIT
	OR_MGMT_FB_COUNT
};

#define OR_MGMT_F_NUMBER (1u << OR_MGMT_FB_NUMBER)
#define OR_MGMT_F_SEALED (1u << OR_MGMT_FB_SEALED)
#define OR_MGMT_F_TOKEN (1u << OR_MGMT_FB_TOKEN)
#define OR_MGMT_F_NODE (1u << OR_MGMT_FB_NODE)
#define OR_MGMT_F_NOTICE (1u << OR_MGMT_FB_NOTICE)
#define OR_MGMT_F_METHOD (1u << OR_MGMT_FB_METHOD)
#define OR_MGMT_F_WAIT (1u << OR_MGMT_FB_WAIT)
#define OR_MGMT_F_CLEAR (1u << OR_MGMT_FB_CLEAR)
#define OR_MGMT_F_ACTION (1u << OR_MGMT_FB_ACTION)
#define OR_MGMT_F_LINES (1u << OR_MGMT_FB_LINES)
#define OR_MGMT_F_FIRST_LINE (1u << OR_MGMT_FB_FIRST_LINE)
#define OR_MGMT_F_PUBKEY (1u << OR_MGMT_FB_PUBKEY)
#define OR_MGMT_F_FORGET (1u << OR_MGMT_FB_FORGET)
#define OR_MGMT_F_AFTER_SEQ (1u << OR_MGMT_FB_AFTER_SEQ)
/* The subject: one of number, sealed, token. */
#define OR_MGMT_F_SUBJ (OR_MGMT_F_NUMBER | OR_MGMT_F_SEALED | OR_MGMT_F_TOKEN)
/* What a change request may say about itself. */
#define OR_MGMT_F_CHANGE (OR_MGMT_F_SUBJ | OR_MGMT_F_NOTICE | OR_MGMT_F_METHOD \
			  | OR_MGMT_F_WAIT)

#define OR_MGMT_CMDS(X)                                                      \
	X(OPTIN, "optin", cp_act_change, ONE_KEY, NO_READ, COMMIT, RW,       \
	  OR_MGMT_F_CHANGE | OR_MGMT_F_NODE | OR_MGMT_F_PUBKEY,              \
	  OR_MGMT_F_SUBJ,                                                    \
	  "opt a subject in; with a pubkey, also issue a sender key")        \
	X(OPTOUT, "optout", cp_act_change, ONE, NO_READ, COMMIT, RW,         \
	  OR_MGMT_F_CHANGE, OR_MGMT_F_SUBJ, "opt a subject out")             \
	X(ERASE, "erase", cp_act_change, ONE, NO_READ, COMMIT, RW,           \
	  OR_MGMT_F_CHANGE, OR_MGMT_F_SUBJ,                                  \
	  "delete a subject's record (right to erasure)")                    \
	X(STATUS, "status", cp_act_status, NONE, READ, SEQ, RW,              \
	  OR_MGMT_F_SUBJ | OR_MGMT_F_AFTER_SEQ, OR_MGMT_F_SUBJ,              \
	  "consent state of one subject (--after-seq N: once reads hold N)") \
	X(IMPORT, "import", cp_act_import, LINES, NO_READ, COMMIT, RW,       \
	  OR_MGMT_F_ACTION | OR_MGMT_F_LINES | OR_MGMT_F_FIRST_LINE |        \
	  OR_MGMT_F_NODE | OR_MGMT_F_NOTICE | OR_MGMT_F_METHOD |             \
	  OR_MGMT_F_WAIT,                                                    \
	  OR_MGMT_F_ACTION | OR_MGMT_F_LINES,                                \
	  "apply one chunk of lines (numbers or tokens)")                    \
	X(AUDIT, "audit", cp_act_audit, NONE, READ, JOB, RW, OR_MGMT_F_SUBJ, \
	  0, "one subject's history, or the whole chain verified")           \
	X(STATS, "stats", cp_act_stats, NONE, READ, DATAPLANE, RO,           \
	  OR_MGMT_F_CLEAR, 0, "control plane and dataplane counters")        \
	X(TABLE, "table", cp_act_table, NONE, NO_READ, DATAPLANE, RO, 0, 0,  \
	  "the dataplane's consent table (entries, memory)")                 \
	X(DATAPLANE, "dataplane", cp_act_dataplane, NONE, NO_READ, NOW, RO,  \
	  0, 0, "channel state: connected, acked seq, lag")                  \
	X(PUBKEY, "pubkey", cp_act_pubkey, NONE, NO_READ, NOW, RO, 0, 0,     \
	  "public key for sealed numbers")                                   \
	X(REKEY, "rekey", cp_act_rekey, ONE, READ, COMMIT, RW,               \
	  OR_MGMT_F_SUBJ | OR_MGMT_F_METHOD | OR_MGMT_F_PUBKEY,              \
	  OR_MGMT_F_SUBJ | OR_MGMT_F_PUBKEY,                                 \
	  "issue an opted-in subject a new sealed sender key")               \
	X(KEYS, "keys", cp_act_keys, NONE, NO_READ, NOW, RO, 0, 0,           \
	  "auth epochs: current, previous, issuing, enforced")               \
	X(ROTATE, "rotate", cp_act_epoch, NONE, READ, KEYS, RW, 0, 0,        \
	  "start a new auth epoch (the old one stays live)")                 \
	X(RETIRE, "retire", cp_act_epoch, NONE, READ, KEYS, RW, 0, 0,        \
	  "retire the previous auth epoch")                                  \
	X(FLEET, "fleet", cp_act_fleet, NONE, NO_READ, NOW, RO,              \
	  OR_MGMT_F_FORGET, 0,                                               \
	  "the fleet's appliances (--forget NAME: drop a silent one)")      \
	X(HELP, "help", cp_act_help, NONE, NO_READ, NOW, RO, 0, 0,           \
	  "list the commands")                                               \
	X(VERSION, "version", cp_act_version, NONE, NO_READ, NOW, RO, 0, 0,  \
	  "daemon and protocol versions")

enum or_mgmt_changes {
	OR_MGMT_CH_NONE,
	OR_MGMT_CH_ONE,
	OR_MGMT_CH_ONE_KEY,
	OR_MGMT_CH_LINES,
};

enum or_mgmt_done {
	OR_MGMT_DONE_NOW,
	OR_MGMT_DONE_COMMIT,
	OR_MGMT_DONE_DATAPLANE,
	OR_MGMT_DONE_JOB,
	OR_MGMT_DONE_KEYS,
	OR_MGMT_DONE_SEQ,
};

#define OR_MGMT_READ 1
#define OR_MGMT_NO_READ 0
#define OR_MGMT_RO 1
#define OR_MGMT_RW 0

/* An entry as data, without its handler (which only the daemon has). */
struct or_mgmt_cmd_info {
	const char *name;
	enum or_mgmt_changes changes;
	int reads;    /* store READ */
	enum or_mgmt_done done;
	int readonly; /* access RO */
	unsigned fields, needs;
	const char *help;
};

#define OR_MGMT_CMD_INFO_(c, n, fn, ch, st, done, acc, fields, needs, help) \
	{ n, OR_MGMT_CH_##ch, OR_MGMT_##st, OR_MGMT_DONE_##done,            \
	  OR_MGMT_##acc, fields, needs, help },

/* The fields a read-only client may not send. */
#define OR_MGMT_X_FRW_(f, n, acc)                                            \
	| (OR_MGMT_##acc == OR_MGMT_RW ? 1u << OR_MGMT_FB_##f : 0u)
#define OR_MGMT_F_RW (0u OR_MGMT_FIELDS(OR_MGMT_X_FRW_))

#endif
