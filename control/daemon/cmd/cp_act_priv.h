/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Internal to the management actions: what cp_act.c (consent, reads,
 * misc) and cp_act_keys.c (sender keys, auth epochs) share. Event loop
 * thread only, like the actions themselves.
 */
#ifndef CP_ACT_PRIV_H
#define CP_ACT_PRIV_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "control/lib/keys.h"
#include "control/store/store.h"

#include "cp_act.h"

/* Sets the action's error and returns CP_NEXT_REPLY. */
#define CP_ERR_RET(a, code, ...)                                      \
	do {                                                          \
		snprintf((a)->msg, sizeof((a)->msg), __VA_ARGS__);    \
		(a)->err = OR_MGMT_E_##code;                          \
		return CP_NEXT_REPLY;                                 \
	} while (0)

void cp_set_token(json_t *o, const char *key, const struct or_token *t);
void cp_set_u64(json_t *o, const char *key, uint64_t v);

/* The request's subject as a token (a number is wiped in place). */
enum or_mgmt_err cp_subject_token(struct cp_act *a, struct cp_req *r,
				  struct or_token *t);
/* Method of collection: the request's, else one that fits the subject. */
enum or_mgmt_err cp_method(struct cp_act *a, const struct cp_req *r,
			   uint8_t *m);
/* What a change request names, checked in this order: the phone's
 * "pubkey" if it has one (into pk), the subject as a token, the method. */
enum or_mgmt_err cp_change_subject(struct cp_act *a, struct cp_req *r,
				   struct or_token *t, uint8_t *method,
				   uint8_t pk[OR_SEAL_PK_LEN]);
/* A change of the request's kind, without token. */
void cp_change_init(struct cp_act *a, const struct cp_req *r, uint8_t action,
		    uint8_t method, struct or_change *c);

/* The handlers of OR_MGMT_CMDS (include/optroute/mgmt_cmds.h): those of
 * the commands in cp_act.c, then those in cp_act_keys.c. */
enum cp_act_next cp_act_change(struct cp_act *a, struct cp_req *r);
enum cp_act_next cp_act_status(struct cp_act *a, struct cp_req *r);
enum cp_act_next cp_act_import(struct cp_act *a, struct cp_req *r);
enum cp_act_next cp_act_audit(struct cp_act *a, struct cp_req *r);
enum cp_act_next cp_act_stats(struct cp_act *a, struct cp_req *r);
enum cp_act_next cp_act_table(struct cp_act *a, struct cp_req *r);
enum cp_act_next cp_act_dataplane(struct cp_act *a, struct cp_req *r);
enum cp_act_next cp_act_pubkey(struct cp_act *a, struct cp_req *r);
enum cp_act_next cp_act_help(struct cp_act *a, struct cp_req *r);
enum cp_act_next cp_act_version(struct cp_act *a, struct cp_req *r);
/* cp_fleet.c */
enum cp_act_next cp_act_fleet(struct cp_act *a, struct cp_req *r);

/* cp_act_keys.c */

/* The request's "pubkey", decoded: exactly 32 bytes of base64. */
enum or_mgmt_err cp_keys_pubkey(struct cp_act *a, const struct cp_req *r,
				uint8_t pk[OR_SEAL_PK_LEN]);
/* Issues token t a sender key of the issuing epoch sealed to pk: the
 * reply gets "key_epoch" and "sealed_key", c the OR_ACT_KEY change that
 * audits it. */
enum or_mgmt_err cp_keys_issue(struct cp_act *a, const struct cp_req *r,
			       const struct or_token *t, uint8_t method,
			       const uint8_t pk[OR_SEAL_PK_LEN],
			       struct or_change *c);
enum cp_act_next cp_act_rekey(struct cp_act *a, struct cp_req *r);
enum cp_act_next cp_act_keys(struct cp_act *a, struct cp_req *r);
/* rotate and retire. */
enum cp_act_next cp_act_epoch(struct cp_act *a, struct cp_req *r);

#endif
