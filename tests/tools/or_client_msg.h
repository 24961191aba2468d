/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The reference client's message code (tests/tools/optroute-client/,
 * tests/tools/optroute-pcapgen.c): builds an optroute header of version 1
 * or 2 exactly as include/optroute/proto.h and docs/protocol.md say, signs
 * and checks a version-2 tag, and parses a datagram strictly. Header-only
 * (static inline) so that the CUnit suite tests/unit/test_client.c checks
 * the very code the client runs.
 *
 * Works on the UDP payload only (the kernel does IPv4/UDP). Fields are
 * written and read byte by byte in network order, independently of
 * struct or_hdr / or_hdr2, so the client is a second implementation of
 * the layout; the tag is the reference one (or_auth_sign/or_auth_check of
 * common/auth/), which is what an appliance's tag must equal.
 */
#ifndef OR_CLIENT_MSG_H
#define OR_CLIENT_MSG_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "optroute/auth.h"
#include "optroute/hex.h"
#include "optroute/proto.h"

/* Largest payload of a MSG that fits a 1500-byte IPv4 packet (section 1). */
#define OR_CLI_MAX_PAYLOAD (1500u - 20u - 8u - OR_HDR_LEN)

/* Version-2 field offsets (struct or_hdr2); version 1 has auth_tag[16]
 * at 48, payload_len at 64, reserved2 at 66. */
#define OR_CLI_V2_SEND_TIME 48u
#define OR_CLI_V2_PAYLOAD_LEN 56u
#define OR_CLI_V2_RESERVED2 58u

/* What goes into a header (host order). */
struct or_cli_msg {
	uint8_t type;
	uint8_t flags;
	uint8_t key_epoch;
	uint8_t reason;
	uint64_t msg_id;
	struct or_token sender;
	struct or_token recipient;
	/* Version 1: the 16-byte field as is. Version 2: its first
	 * OR_AUTH_TAG_LEN bytes, until or_cli_sign2() writes the real tag. */
	uint8_t auth_tag[16];
	uint64_t send_time;   /* version 2 only: ms since the Unix epoch */
	const uint8_t *payload;
	uint16_t payload_len;
};

/* A parsed datagram; hdr and payload point into the parsed buffer. */
struct or_cli_view {
	uint8_t version;
	uint8_t type;
	uint8_t flags;
	uint8_t key_epoch;
	uint8_t reason;
	uint8_t reserved;
	uint16_t reserved2;
	uint64_t msg_id;
	struct or_token sender;
	struct or_token recipient;
	uint8_t auth_tag[16]; /* version 2: the first tag_len bytes */
	uint8_t tag_len;      /* 16 (version 1) or OR_AUTH_TAG_LEN (2) */
	uint64_t send_time;   /* version 2 only, else 0 */
	const uint8_t *hdr;   /* the 68 header bytes (or_cli_check2()) */
	const uint8_t *payload;
	uint16_t payload_len;
};

/* Versions or_cli_parse() accepts, as a mask. */
#define OR_CLI_ACCEPT_V1 (1u << OR_PROTO_V1)
#define OR_CLI_ACCEPT_V2 (1u << OR_PROTO_V2)
#define OR_CLI_ACCEPT_ANY (OR_CLI_ACCEPT_V1 | OR_CLI_ACCEPT_V2)

/* Why a datagram was refused. The first four come from or_cli_parse(), the
 * others from the client's checks of a reply (docs/protocol.md section 10). */
enum or_cli_err {
	OR_CLI_OK = 0,
	OR_CLI_SHORT,           /* fewer than 68 bytes */
	OR_CLI_BAD_MAGIC,
	OR_CLI_BAD_VERSION,
	OR_CLI_BAD_PAYLOAD_LEN, /* payload_len != datagram length - 68 */
	OR_CLI_BAD_TYPE,        /* not the type expected here */
	OR_CLI_BAD_BOUNCE_LEN,  /* a BOUNCE with a payload */
	OR_CLI_UNKNOWN_MSG_ID,  /* a BOUNCE for a msg_id not sent */
	OR_CLI_TOKEN_MISMATCH,  /* a BOUNCE whose tokens are not ours */
	OR_CLI_BAD_SOURCE,      /* a reply not from the appliance's IP:port */
	OR_CLI_FORGED,          /* version 2: all well but the tag */
	OR_CLI_ERR_MAX,
};

static inline const char *
or_cli_err_name(enum or_cli_err e)
{
	static const char *const names[OR_CLI_ERR_MAX] = {
		[OR_CLI_OK] = "ok",
		[OR_CLI_SHORT] = "short",
		[OR_CLI_BAD_MAGIC] = "bad_magic",
		[OR_CLI_BAD_VERSION] = "bad_version",
		[OR_CLI_BAD_PAYLOAD_LEN] = "bad_payload_len",
		[OR_CLI_BAD_TYPE] = "bad_type",
		[OR_CLI_BAD_BOUNCE_LEN] = "bad_bounce_len",
		[OR_CLI_UNKNOWN_MSG_ID] = "unknown_msg_id",
		[OR_CLI_TOKEN_MISMATCH] = "token_mismatch",
		[OR_CLI_BAD_SOURCE] = "bad_source",
		[OR_CLI_FORGED] = "forged_bounce",
	};

	if ((unsigned)e >= OR_CLI_ERR_MAX)
		return "unknown_error";
	return names[e];
}

/* BOUNCE reason names (docs/protocol.md section 3), lowercase for output;
 * NULL for a code the protocol does not define. */
static inline const char *
or_cli_reason_name(uint8_t reason)
{
	switch (reason) {
	case OR_REASON_NONE:
		return "none";
	case OR_REASON_RECIPIENT_UNAVAILABLE:
		return "recipient_unavailable";
	case OR_REASON_NO_ROUTE:
		return "no_route";
	case OR_REASON_OVER_BUDGET:
		return "over_budget";
	default:
		return NULL;
	}
}

static inline void
or_cli_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t
or_cli_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
or_cli_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline uint64_t
or_cli_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Bytes 0..47, the same in both versions. */
static inline void
or_cli_put_common(uint8_t *buf, uint8_t version, const struct or_cli_msg *m)
{
	or_cli_put16(buf + 0, OR_PROTO_MAGIC);
	buf[2] = version;
	buf[3] = m->type;
	buf[4] = m->flags;
	buf[5] = m->key_epoch;
	buf[6] = m->reason;
	buf[7] = 0;
	or_cli_put64(buf + 8, m->msg_id);
	memcpy(buf + 16, m->sender.b, OR_TOKEN_LEN);
	memcpy(buf + 32, m->recipient.b, OR_TOKEN_LEN);
}

/* Builds a version-1 header + payload into buf (the UDP payload). Returns
 * its length, or -ENOSPC if it does not fit cap. The reserved fields are
 * sent 0. */
static inline int
or_cli_msg_build(uint8_t *buf, size_t cap, const struct or_cli_msg *m)
{
	size_t len = OR_HDR_LEN + (size_t)m->payload_len;

	if (len > cap)
		return -ENOSPC;
	or_cli_put_common(buf, OR_PROTO_V1, m);
	memcpy(buf + 48, m->auth_tag, sizeof(m->auth_tag));
	or_cli_put16(buf + 64, m->payload_len);
	or_cli_put16(buf + 66, 0);
	if (m->payload_len > 0)
		memcpy(buf + OR_HDR_LEN, m->payload, m->payload_len);
	return (int)len;
}

/* The same for version 2: send_time, payload_len, reserved2 0, and the
 * first OR_AUTH_TAG_LEN bytes of m->auth_tag as the tag (unsigned: call
 * or_cli_sign2() next). */
static inline int
or_cli_msg2_build(uint8_t *buf, size_t cap, const struct or_cli_msg *m)
{
	size_t len = OR_HDR_LEN + (size_t)m->payload_len;

	if (len > cap)
		return -ENOSPC;
	or_cli_put_common(buf, OR_PROTO_V2, m);
	or_cli_put64(buf + OR_CLI_V2_SEND_TIME, m->send_time);
	or_cli_put16(buf + OR_CLI_V2_PAYLOAD_LEN, m->payload_len);
	or_cli_put16(buf + OR_CLI_V2_RESERVED2, 0);
	memcpy(buf + OR_HDR2_TAG_OFF, m->auth_tag, OR_AUTH_TAG_LEN);
	if (m->payload_len > 0)
		memcpy(buf + OR_HDR_LEN, m->payload, m->payload_len);
	return (int)len;
}

/* or_cli_msg_build() or or_cli_msg2_build() by version (1 or 2). */
static inline int
or_cli_build(uint8_t version, uint8_t *buf, size_t cap,
	     const struct or_cli_msg *m)
{
	return version == OR_PROTO_V2 ? or_cli_msg2_build(buf, cap, m) :
					or_cli_msg_build(buf, cap, m);
}

/* Writes the tag of the version-2 header at hdr (68 bytes) under
 * k_sender: the reference or_auth_sign(). struct or_hdr2 is packed, so
 * any byte address is one. */
static inline void
or_cli_sign2(uint8_t *hdr, const struct or_auth_key *k_sender)
{
	or_auth_sign(k_sender, (struct or_hdr2 *)hdr);
}

/* 1 if the tag of the version-2 header at hdr is right under k_sender. */
static inline int
or_cli_check2(const uint8_t *hdr, const struct or_auth_key *k_sender)
{
	return or_auth_check(k_sender, (const struct or_hdr2 *)hdr);
}

/* Parses one UDP payload of len bytes, in the appliance's order (the
 * header checks of docs/protocol.md section 4, less the type, which
 * depends on who receives),
 * with the layout of its version; a version not in accept (a mask of
 * OR_CLI_ACCEPT_*) is bad_version. The tag is not checked here (see
 * or_cli_check2()). Returns OR_CLI_OK with *v filled, or the first check
 * that failed (*v is then zeroed or partly filled; do not use it). */
static inline enum or_cli_err
or_cli_parse(const uint8_t *buf, size_t len, unsigned accept,
	     struct or_cli_view *v)
{
	memset(v, 0, sizeof(*v));
	if (len < OR_HDR_LEN)
		return OR_CLI_SHORT;
	if (or_cli_get16(buf) != OR_PROTO_MAGIC)
		return OR_CLI_BAD_MAGIC;
	if ((buf[2] != OR_PROTO_V1 && buf[2] != OR_PROTO_V2) ||
	    (accept & 1u << buf[2]) == 0)
		return OR_CLI_BAD_VERSION;
	v->version = buf[2];
	v->type = buf[3];
	v->flags = buf[4];
	v->key_epoch = buf[5];
	v->reason = buf[6];
	v->reserved = buf[7];
	v->msg_id = or_cli_get64(buf + 8);
	memcpy(v->sender.b, buf + 16, OR_TOKEN_LEN);
	memcpy(v->recipient.b, buf + 32, OR_TOKEN_LEN);
	if (v->version == OR_PROTO_V2) {
		v->send_time = or_cli_get64(buf + OR_CLI_V2_SEND_TIME);
		v->payload_len = or_cli_get16(buf + OR_CLI_V2_PAYLOAD_LEN);
		v->reserved2 = or_cli_get16(buf + OR_CLI_V2_RESERVED2);
		v->tag_len = OR_AUTH_TAG_LEN;
		memcpy(v->auth_tag, buf + OR_HDR2_TAG_OFF, OR_AUTH_TAG_LEN);
	} else {
		v->payload_len = or_cli_get16(buf + 64);
		v->reserved2 = or_cli_get16(buf + 66);
		v->tag_len = sizeof(v->auth_tag);
		memcpy(v->auth_tag, buf + 48, sizeof(v->auth_tag));
	}
	v->hdr = buf;
	if ((size_t)v->payload_len != len - OR_HDR_LEN)
		return OR_CLI_BAD_PAYLOAD_LEN;
	v->payload = buf + OR_HDR_LEN;
	return OR_CLI_OK;
}

/* Hex (either case, no separators, even length) into at most cap bytes.
 * 0 and *out_len, or -EINVAL (odd length, not hex) or -ERANGE (too long).
 * The codec is include/optroute/hex.h's (the project has one); these keep
 * the client's signatures. */
static inline int
or_cli_hex_parse(const char *hex, uint8_t *out, size_t cap, size_t *out_len)
{
	return or_hex_decode(hex, strlen(hex), out, cap, out_len);
}

/* A token: exactly 32 hex digits. 0 or -EINVAL. */
static inline int
or_cli_token_parse(const char *hex, struct or_token *t)
{
	return or_token_hex_parse(hex, strlen(hex), t);
}

/* Lowercase hex of n bytes into out, which must hold 2 * n + 1. */
static inline void
or_cli_hex_format(const uint8_t *b, size_t n, char *out)
{
	or_hex_encode(b, n, out);
}

/* Decimal or 0x-hex unsigned number in [min, max]; no sign, no blanks
 * (strtoull would take both). 0 or -EINVAL. */
static inline int
or_cli_u64_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Every byte printable ASCII (so a payload can be shown as text). */
static inline int
or_cli_printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return 1;
}

/* Why or_cli_addr_parse() refused its input. */
enum or_cli_addr_err {
	OR_CLI_ADDR_OK = 0,
	OR_CLI_ADDR_BAD_HOST,
	OR_CLI_ADDR_BAD_PORT,
};

/* "A.B.C.D" or "A.B.C.D:PORT" (numeric IPv4 only: the protocol is IPv4,
 * and a name lookup could block without bound). A missing port is
 * def_port; port 0 is only accepted with allow_zero (bind to any port). */
static inline enum or_cli_addr_err
or_cli_addr_parse(const char *s, uint16_t def_port, int allow_zero,
		  struct sockaddr_in *sa)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strchr(s, ':');
	size_t hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
	unsigned long port = def_port;

	if (hl == 0 || hl >= sizeof(host))
		return OR_CLI_ADDR_BAD_HOST;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return OR_CLI_ADDR_BAD_HOST;
	if (colon != NULL) {
		const char *p = colon + 1;
		char *end;

		/* strtoul takes signs and blanks: only digits here. */
		if (*p < '0' || *p > '9')
			return OR_CLI_ADDR_BAD_PORT;
		errno = 0;
		port = strtoul(p, &end, 10);
		if (errno != 0 || *end != '\0' || port > 65535)
			return OR_CLI_ADDR_BAD_PORT;
	}
	if (port == 0 && !allow_zero)
		return OR_CLI_ADDR_BAD_PORT;
	sa->sin_port = htons((uint16_t)port);
	return OR_CLI_ADDR_OK;
}

/* "A.B.C.D:PORT" into buf (OR_CLI_ADDR_STRLEN is enough). */
#define OR_CLI_ADDR_STRLEN (INET_ADDRSTRLEN + 6)
static inline void
or_cli_addr_format(const struct sockaddr_in *sa, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, "%s:%u", ip, ntohs(sa->sin_port));
}

/* What a send run sent, to check its replies against. */
struct or_cli_sent {
	uint8_t version;
	uint64_t first_id;        /* msg_ids first_id .. first_id + n - 1 */
	uint64_t n;
	struct or_token sender, recipient;
	const struct or_auth_key *k_sender; /* version 2: the tag's key */
};

/* Checks a reply (its source address aside) as docs/protocol.md section 10
 * says, in this order: a well-formed datagram of the version sent, a
 * BOUNCE, no payload, a msg_id sent, the tokens sent (not swapped); then,
 * in version 2, its tag under our K_sender: the appliance signs a bounce
 * anew, and its type, reason and payload_len are inside the tagged bytes,
 * so a bounce it did not make fails here (OR_CLI_FORGED). *idx gets the
 * message's index. */
static inline enum or_cli_err
or_cli_bounce_check(const uint8_t *buf, size_t len,
		    const struct or_cli_sent *sent, struct or_cli_view *v,
		    uint64_t *idx)
{
	enum or_cli_err e = or_cli_parse(buf, len, 1u << sent->version, v);

	if (e != OR_CLI_OK)
		return e;
	if (v->type != OR_TYPE_BOUNCE)
		return OR_CLI_BAD_TYPE;
	if (v->payload_len != 0)
		return OR_CLI_BAD_BOUNCE_LEN;
	*idx = v->msg_id - sent->first_id; /* wraps like the ids */
	if (*idx >= sent->n)
		return OR_CLI_UNKNOWN_MSG_ID;
	if (!or_token_eq(&v->sender, &sent->sender) ||
	    !or_token_eq(&v->recipient, &sent->recipient))
		return OR_CLI_TOKEN_MISMATCH;
	if (sent->version == OR_PROTO_V2 &&
	    !or_cli_check2(v->hdr, sent->k_sender))
		return OR_CLI_FORGED;
	return OR_CLI_OK;
}

#endif
