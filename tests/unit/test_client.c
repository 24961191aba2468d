/* The reference client's message code (tests/tools/or_client_msg.h):
 * header building against the worked example of docs/protocol.md byte for
 * byte, strict parsing of good and bad datagrams (exact-size heap buffers,
 * so ASan sees any read past the end), hex, tokens and addresses; version
 * 2: the layout of struct or_hdr2, tags made and checked by the reference
 * functions (common/auth/), forged bounces. Its key files are tested by
 * test_client_keys.c. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "or_test.h"
#include "tests/tools/or_client_msg.h"

/* docs/protocol.md section 12: the UDP payloads (from offset 0x2a) of the
 * MSG and of the bounce. */
static const char ex_msg_udp[] =
	"4f 52 01 01 00 03"
	"00 00 01 02 03 04 05 06 07 08 10 11 12 13 14 15"
	"16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25"
	"26 27 28 29 2a 2b 2c 2d 2e 2f a0 a1 a2 a3 a4 a5"
	"a6 a7 a8 a9 aa ab ac ad ae af 00 10 00 00 01 08"
	"0f 16 1d 24 2b 32 39 40 47 4e 55 5c 63 6a";
static const char ex_bounce_udp[] =
	"4f 52 01 02 00 03"
	"01 00 01 02 03 04 05 06 07 08 10 11 12 13 14 15"
	"16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25"
	"26 27 28 29 2a 2b 2c 2d 2e 2f a0 a1 a2 a3 a4 a5"
	"a6 a7 a8 a9 aa ab ac ad ae af 00 00 00 00";

/* docs/protocol.md section 11 (version 2: K_auth[3] = 00 01 .. 0f,
 * send_time 1764633600123): the MSG, its bounce and an OVER_BUDGET
 * bounce, from offset 0x2a. */
static const char ex2_msg_udp[] =
	"4f 52 02 01 00 03"
	"00 00 01 02 03 04 05 06 07 08 10 11 12 13 14 15"
	"16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25"
	"26 27 28 29 2a 2b 2c 2d 2e 2f 00 00 01 9a dc 5b"
	"e0 7b 00 10 00 00 21 c4 54 97 98 07 37 cd 01 08"
	"0f 16 1d 24 2b 32 39 40 47 4e 55 5c 63 6a";
static const char ex2_bounce_udp[] =
	"4f 52 02 02 00 03"
	"01 00 01 02 03 04 05 06 07 08 10 11 12 13 14 15"
	"16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25"
	"26 27 28 29 2a 2b 2c 2d 2e 2f 00 00 01 9a dc 5b"
	"e0 7b 00 00 00 00 13 46 74 28 36 3d 52 8e";
static const char ex2_budget_udp[] =
	"4f 52 02 02 00 03"
	"03 00 01 02 03 04 05 06 07 08 10 11 12 13 14 15"
	"16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25"
	"26 27 28 29 2a 2b 2c 2d 2e 2f 00 00 01 9a dc 5b"
	"e0 7b 00 00 00 00 80 70 8a f7 d2 70 ec fd";

/* The document's hex dump, blanks removed, into a heap buffer of exactly
 * its length. */
static uint8_t *
doc_bytes(const char *dump, size_t *len)
{
	char hex[512];
	size_t n = 0;
	uint8_t *b;

	for (const char *p = dump; *p != '\0'; p++)
		if (*p != ' ' && n < sizeof(hex) - 1)
			hex[n++] = *p;
	hex[n] = '\0';
	b = malloc(n / 2);
	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_FATAL(or_cli_hex_parse(hex, b, n / 2, len) == 0);
	CU_ASSERT_FATAL(*len == n / 2);
	return b;
}

static void
ex_fill(struct or_cli_msg *m, uint8_t *payload)
{
	memset(m, 0, sizeof(*m));
	m->type = OR_TYPE_MSG;
	m->key_epoch = 3;
	m->msg_id = 0x0102030405060708ull;
	for (int i = 0; i < OR_TOKEN_LEN; i++) {
		m->sender.b[i] = (uint8_t)(0x10 + i);
		m->recipient.b[i] = (uint8_t)(0x20 + i);
		m->auth_tag[i] = (uint8_t)(0xa0 + i);
	}
	for (int i = 0; i < 16; i++)
		payload[i] = (uint8_t)(1 + 7 * i);
	m->payload = payload;
	m->payload_len = 16;
}

static void
test_build_doc_example(void)
{
	struct or_cli_msg m;
	uint8_t payload[16], buf[OR_HDR_LEN + 16], *want;
	size_t wl;

	ex_fill(&m, payload);
	want = doc_bytes(ex_msg_udp, &wl);
	CU_ASSERT_EQUAL(wl, OR_HDR_LEN + 16);
	CU_ASSERT_EQUAL(or_cli_msg_build(buf, sizeof(buf), &m), OR_HDR_LEN + 16);
	CU_ASSERT_EQUAL(memcmp(buf, want, wl), 0);
	/* One byte short of room: refused, nothing written past cap. */
	CU_ASSERT_EQUAL(or_cli_msg_build(buf, sizeof(buf) - 1, &m), -ENOSPC);
	free(want);
}

static void
test_parse_doc_examples(void)
{
	struct or_cli_view v;
	uint8_t *b;
	size_t len;

	b = doc_bytes(ex_bounce_udp, &len);
	CU_ASSERT_EQUAL(len, OR_HDR_LEN);
	CU_ASSERT_EQUAL(or_cli_parse(b, len, OR_CLI_ACCEPT_V1, &v), OR_CLI_OK);
	CU_ASSERT_EQUAL(v.version, 1);
	CU_ASSERT_EQUAL(v.tag_len, 16);
	CU_ASSERT_EQUAL(v.send_time, 0);
	CU_ASSERT_PTR_EQUAL(v.hdr, b);
	CU_ASSERT_EQUAL(v.type, OR_TYPE_BOUNCE);
	CU_ASSERT_EQUAL(v.reason, OR_REASON_RECIPIENT_UNAVAILABLE);
	CU_ASSERT_STRING_EQUAL(or_cli_reason_name(v.reason),
			       "recipient_unavailable");
	CU_ASSERT_EQUAL(v.key_epoch, 3);
	CU_ASSERT_EQUAL(v.flags, 0);
	CU_ASSERT_EQUAL(v.msg_id, 0x0102030405060708ull);
	CU_ASSERT_EQUAL(v.sender.b[0], 0x10);
	CU_ASSERT_EQUAL(v.sender.b[15], 0x1f);
	CU_ASSERT_EQUAL(v.recipient.b[0], 0x20);
	CU_ASSERT_EQUAL(v.recipient.b[15], 0x2f);
	CU_ASSERT_EQUAL(v.auth_tag[15], 0xaf);
	CU_ASSERT_EQUAL(v.payload_len, 0);
	free(b);

	b = doc_bytes(ex_msg_udp, &len);
	CU_ASSERT_EQUAL(or_cli_parse(b, len, OR_CLI_ACCEPT_ANY, &v), OR_CLI_OK);
	CU_ASSERT_EQUAL(v.type, OR_TYPE_MSG);
	CU_ASSERT_EQUAL(v.payload_len, 16);
	CU_ASSERT_PTR_EQUAL(v.payload, b + OR_HDR_LEN);
	CU_ASSERT_EQUAL(v.payload[15], 0x6a);
	free(b);
}

/* Parses a copy of src[0..len) in a heap buffer of exactly len bytes,
 * accepting the versions of accept. */
static enum or_cli_err
parse_exact_v(const uint8_t *src, size_t len, unsigned accept)
{
	uint8_t *b = malloc(len > 0 ? len : 1);
	struct or_cli_view v;
	enum or_cli_err e;

	CU_ASSERT_FATAL(b != NULL);
	memcpy(b, src, len);
	e = or_cli_parse(b, len, accept, &v);
	free(b);
	return e;
}

/* The same, either version accepted. */
static enum or_cli_err
parse_exact(const uint8_t *src, size_t len)
{
	return parse_exact_v(src, len, OR_CLI_ACCEPT_ANY);
}

static void
test_parse_errors(void)
{
	struct or_cli_msg m;
	uint8_t payload[16], good[OR_HDR_LEN + 16], bad[OR_HDR_LEN + 16];
	size_t len;

	ex_fill(&m, payload);
	CU_ASSERT_FATAL(or_cli_msg_build(good, sizeof(good), &m) > 0);
	len = sizeof(good);
	CU_ASSERT_EQUAL(parse_exact(good, len), OR_CLI_OK);

	/* Short: every length below the header. */
	for (size_t l = 0; l < OR_HDR_LEN; l++)
		CU_ASSERT_EQUAL(parse_exact(good, l), OR_CLI_SHORT);
	/* Header only, but payload_len says 16. */
	CU_ASSERT_EQUAL(parse_exact(good, OR_HDR_LEN), OR_CLI_BAD_PAYLOAD_LEN);
	CU_ASSERT_EQUAL(parse_exact(good, len - 1), OR_CLI_BAD_PAYLOAD_LEN);

	memcpy(bad, good, len);
	bad[0] = 0x52; /* "RO": byte order swapped */
	bad[1] = 0x4f;
	CU_ASSERT_EQUAL(parse_exact(bad, len), OR_CLI_BAD_MAGIC);
	memcpy(bad, good, len);
	bad[1] ^= 1;
	CU_ASSERT_EQUAL(parse_exact(bad, len), OR_CLI_BAD_MAGIC);
	/* Magic is checked before the length. */
	CU_ASSERT_EQUAL(parse_exact(bad, OR_HDR_LEN), OR_CLI_BAD_MAGIC);

	memcpy(bad, good, len);
	bad[2] = 0;
	CU_ASSERT_EQUAL(parse_exact(bad, len), OR_CLI_BAD_VERSION);
	bad[2] = 3;
	CU_ASSERT_EQUAL(parse_exact(bad, len), OR_CLI_BAD_VERSION);
	bad[2] = 0xff;
	CU_ASSERT_EQUAL(parse_exact(bad, len), OR_CLI_BAD_VERSION);
	/* A version not accepted, before its layout is read. */
	CU_ASSERT_EQUAL(parse_exact_v(good, len, OR_CLI_ACCEPT_V2),
			OR_CLI_BAD_VERSION);
	CU_ASSERT_EQUAL(parse_exact_v(good, len, 0), OR_CLI_BAD_VERSION);
	bad[2] = 2;
	CU_ASSERT_EQUAL(parse_exact_v(bad, len, OR_CLI_ACCEPT_V1),
			OR_CLI_BAD_VERSION);
	/* Read as version 2, payload_len is bytes 56..57 (a8 a9 here). */
	CU_ASSERT_EQUAL(parse_exact(bad, len), OR_CLI_BAD_PAYLOAD_LEN);

	/* payload_len larger than what is there, in either byte. */
	memcpy(bad, good, len);
	bad[64] = 0x01;
	CU_ASSERT_EQUAL(parse_exact(bad, len), OR_CLI_BAD_PAYLOAD_LEN);
	memcpy(bad, good, len);
	bad[65] = 0xff;
	CU_ASSERT_EQUAL(parse_exact(bad, len), OR_CLI_BAD_PAYLOAD_LEN);
	bad[64] = 0xff;
	CU_ASSERT_EQUAL(parse_exact(bad, len), OR_CLI_BAD_PAYLOAD_LEN);
	/* Smaller than what is there (trailing bytes). */
	memcpy(bad, good, len);
	bad[65] = 15;
	CU_ASSERT_EQUAL(parse_exact(bad, len), OR_CLI_BAD_PAYLOAD_LEN);

	/* Fields the parser does not judge are reported as they are. */
	{
		struct or_cli_view v;

		memcpy(bad, good, len);
		bad[3] = 9;
		bad[4] = 0x80;
		bad[7] = 0x55;
		bad[66] = 0xab;
		bad[67] = 0xcd;
		CU_ASSERT_EQUAL(or_cli_parse(bad, len, OR_CLI_ACCEPT_V1, &v),
				OR_CLI_OK);
		CU_ASSERT_EQUAL(v.type, 9);
		CU_ASSERT_EQUAL(v.flags, 0x80);
		CU_ASSERT_EQUAL(v.reserved, 0x55);
		CU_ASSERT_EQUAL(v.reserved2, 0xabcd);
	}
	CU_ASSERT_STRING_EQUAL(or_cli_err_name(OR_CLI_BAD_MAGIC), "bad_magic");
	CU_ASSERT_STRING_EQUAL(or_cli_err_name(OR_CLI_ERR_MAX), "unknown_error");
	CU_ASSERT_STRING_EQUAL(or_cli_reason_name(OR_REASON_OVER_BUDGET),
			       "over_budget");
	CU_ASSERT_STRING_EQUAL(or_cli_err_name(OR_CLI_FORGED), "forged_bounce");
	CU_ASSERT_PTR_NULL(or_cli_reason_name(4));
	CU_ASSERT_STRING_EQUAL(or_cli_reason_name(OR_REASON_NO_ROUTE),
			       "no_route");
}

static void
test_roundtrip(void)
{
	static uint8_t payload[OR_CLI_MAX_PAYLOAD], buf[OR_HDR_LEN +
							 OR_CLI_MAX_PAYLOAD];
	uint64_t ids[] = { 0, 1, 0xff, 0x8000000000000000ull, UINT64_MAX };
	uint16_t lens[] = { 0, 1, 255, 256, OR_CLI_MAX_PAYLOAD };

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31 + 7);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct or_cli_msg m = {
			.type = OR_TYPE_BOUNCE,
			.flags = (uint8_t)i,
			.key_epoch = (uint8_t)(255 - i),
			.reason = OR_REASON_RECIPIENT_UNAVAILABLE,
			.msg_id = ids[i],
			.payload = payload,
			.payload_len = lens[i],
		};
		struct or_cli_view v;
		int len;

		memset(m.sender.b, (int)(0x11 * i), OR_TOKEN_LEN);
		memset(m.recipient.b, (int)(0xee - i), OR_TOKEN_LEN);
		len = or_cli_msg_build(buf, sizeof(buf), &m);
		CU_ASSERT_EQUAL(len, (int)(OR_HDR_LEN + lens[i]));
		CU_ASSERT_EQUAL(buf[7], 0);
		CU_ASSERT_EQUAL(or_cli_parse(buf, (size_t)len, OR_CLI_ACCEPT_V1,
					     &v), OR_CLI_OK);
		CU_ASSERT_EQUAL(v.msg_id, ids[i]);
		CU_ASSERT_EQUAL(v.type, OR_TYPE_BOUNCE);
		CU_ASSERT_EQUAL(v.flags, m.flags);
		CU_ASSERT_EQUAL(v.key_epoch, m.key_epoch);
		CU_ASSERT_EQUAL(v.reason, m.reason);
		CU_ASSERT(or_token_eq(&v.sender, &m.sender));
		CU_ASSERT(or_token_eq(&v.recipient, &m.recipient));
		CU_ASSERT_EQUAL(v.payload_len, lens[i]);
		CU_ASSERT_EQUAL(memcmp(v.payload, payload, lens[i]), 0);
		CU_ASSERT_EQUAL(v.reserved2, 0);
	}
}

static void
test_hex(void)
{
	uint8_t b[4];
	size_t n = 99;
	struct or_token t;
	char out[9];

	CU_ASSERT_EQUAL(or_cli_hex_parse("", b, sizeof(b), &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(or_cli_hex_parse("00fFa9", b, sizeof(b), &n), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT(b[0] == 0x00 && b[1] == 0xff && b[2] == 0xa9);
	CU_ASSERT_EQUAL(or_cli_hex_parse("01020304", b, sizeof(b), &n), 0);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(or_cli_hex_parse("0102030405", b, sizeof(b), &n),
			-ERANGE);
	CU_ASSERT_EQUAL(or_cli_hex_parse("abc", b, sizeof(b), &n), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_hex_parse("zz", b, sizeof(b), &n), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_hex_parse("0g", b, sizeof(b), &n), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_hex_parse("g0", b, sizeof(b), &n), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_hex_parse("00 1", b, sizeof(b), &n), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_hex_parse("0x01", b, sizeof(b), &n), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_hex_parse("01:2", b, sizeof(b), &n), -EINVAL);

	CU_ASSERT_EQUAL(or_cli_token_parse("00112233445566778899AABBCCDDEEFF",
					   &t), 0);
	CU_ASSERT(t.b[0] == 0x00 && t.b[10] == 0xaa && t.b[15] == 0xff);
	CU_ASSERT_EQUAL(or_cli_token_parse("00112233445566778899aabbccddeef",
					   &t), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_token_parse("00112233445566778899aabbccddeeff0",
					   &t), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_token_parse("00112233445566778899aabbccddeeff00",
					   &t), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_token_parse("00112233445566778899aabbccddeefg",
					   &t), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_token_parse("", &t), -EINVAL);
	/* A phone number is not a token. */
	CU_ASSERT_EQUAL(or_cli_token_parse("+15550100", &t), -EINVAL);

	b[0] = 0xde;
	b[1] = 0xad;
	b[2] = 0x0b;
	b[3] = 0xe0;
	or_cli_hex_format(b, 4, out);
	CU_ASSERT_STRING_EQUAL(out, "dead0be0");
	or_cli_hex_format(b, 0, out);
	CU_ASSERT_STRING_EQUAL(out, "");
}

static void
test_addr(void)
{
	static const struct {
		const char *s;
		int allow_zero;
		enum or_cli_addr_err want;
		const char *ip;
		uint16_t port;
	} cases[] = {
		{ "192.0.2.1", 0, OR_CLI_ADDR_OK, "192.0.2.1", 7040 },
		{ "192.0.2.1:7041", 0, OR_CLI_ADDR_OK, "192.0.2.1", 7041 },
		{ "127.0.0.1:65535", 0, OR_CLI_ADDR_OK, "127.0.0.1", 65535 },
		{ "0.0.0.0:0", 1, OR_CLI_ADDR_OK, "0.0.0.0", 0 },
		{ "127.0.0.1:0", 0, OR_CLI_ADDR_BAD_PORT, NULL, 0 },
		{ "127.0.0.1:65536", 0, OR_CLI_ADDR_BAD_PORT, NULL, 0 },
		{ "127.0.0.1:", 0, OR_CLI_ADDR_BAD_PORT, NULL, 0 },
		{ "127.0.0.1:-1", 1, OR_CLI_ADDR_BAD_PORT, NULL, 0 },
		{ "127.0.0.1:+7", 1, OR_CLI_ADDR_BAD_PORT, NULL, 0 },
		{ "127.0.0.1: 7", 1, OR_CLI_ADDR_BAD_PORT, NULL, 0 },
		{ "127.0.0.1:70x", 1, OR_CLI_ADDR_BAD_PORT, NULL, 0 },
		{ "127.0.0.1:99999999999999999999", 1, OR_CLI_ADDR_BAD_PORT,
		  NULL, 0 },
		{ "", 0, OR_CLI_ADDR_BAD_HOST, NULL, 0 },
		{ ":7040", 0, OR_CLI_ADDR_BAD_HOST, NULL, 0 },
		{ "localhost:7040", 0, OR_CLI_ADDR_BAD_HOST, NULL, 0 },
		{ "256.0.0.1", 0, OR_CLI_ADDR_BAD_HOST, NULL, 0 },
		{ "1.2.3", 0, OR_CLI_ADDR_BAD_HOST, NULL, 0 },
		{ "::1", 0, OR_CLI_ADDR_BAD_HOST, NULL, 0 },
		{ "255.255.255.255255", 0, OR_CLI_ADDR_BAD_HOST, NULL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_in sa;
		char ip[INET_ADDRSTRLEN];
		enum or_cli_addr_err e = or_cli_addr_parse(cases[i].s, 7040,
							   cases[i].allow_zero,
							   &sa);

		CU_ASSERT_EQUAL(e, cases[i].want);
		if (e != cases[i].want || e != OR_CLI_ADDR_OK)
			continue;
		CU_ASSERT_EQUAL(sa.sin_family, AF_INET);
		CU_ASSERT_EQUAL(ntohs(sa.sin_port), cases[i].port);
		inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
		CU_ASSERT_STRING_EQUAL(ip, cases[i].ip);
	}
	{
		struct sockaddr_in sa;
		char a[OR_CLI_ADDR_STRLEN];

		CU_ASSERT_FATAL(or_cli_addr_parse("255.255.255.255:65535", 1,
						  0, &sa) == OR_CLI_ADDR_OK);
		or_cli_addr_format(&sa, a, sizeof(a));
		CU_ASSERT_STRING_EQUAL(a, "255.255.255.255:65535");
	}
}

static void
test_numbers(void)
{
	uint64_t v = 7;

	CU_ASSERT(or_cli_u64_parse("0", 0, 10, &v) == 0 && v == 0);
	CU_ASSERT(or_cli_u64_parse("0x10", 0, 100, &v) == 0 && v == 16);
	CU_ASSERT(or_cli_u64_parse("18446744073709551615", 0, UINT64_MAX,
				   &v) == 0 && v == UINT64_MAX);
	CU_ASSERT_EQUAL(or_cli_u64_parse("18446744073709551616", 0,
					 UINT64_MAX, &v), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_u64_parse("256", 0, 255, &v), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_u64_parse("0", 1, 255, &v), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_u64_parse("-1", 0, UINT64_MAX, &v), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_u64_parse(" 1", 0, 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_u64_parse("1 ", 0, 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_u64_parse("", 0, 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_u64_parse("0x", 0, 10, &v), -EINVAL);

	CU_ASSERT(or_cli_printable((const uint8_t *)"", 0));
	CU_ASSERT(or_cli_printable((const uint8_t *)" ~az\"", 5));
	CU_ASSERT(!or_cli_printable((const uint8_t *)"a\nb", 3));
	CU_ASSERT(!or_cli_printable((const uint8_t *)"a\x7f", 2));
	CU_ASSERT(!or_cli_printable((const uint8_t *)"\x80", 1));
	CU_ASSERT(!or_cli_printable((const uint8_t *)"a\0b", 3));
}

/* ------------------------------------------------------- version 2 -- */

#define EX_SEND_TIME 0x0000018bcfe56800ull /* 1700000000000 ms */

/* A fixed K_auth and the K_sender of a token under it (the reference
 * derivation, as the control plane issues it). */
static void
v2_key(uint8_t fill, const struct or_token *t, struct or_auth_key *ks)
{
	struct or_auth_key ka;

	memset(ka.b, fill, sizeof(ka.b));
	CU_ASSERT_FATAL(or_auth_sender_key(&ka, t, ks) == 0);
}

static void
test_v2_build_parse(void)
{
	struct or_cli_msg m;
	struct or_hdr2 h;
	struct or_cli_view v;
	uint8_t payload[16], buf[OR_HDR_LEN + 16], b1[OR_HDR_LEN + 16];
	static const uint8_t st[8] = { 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0 };

	ex_fill(&m, payload);
	m.send_time = EX_SEND_TIME;
	CU_ASSERT_EQUAL(or_cli_msg2_build(buf, sizeof(buf), &m), OR_HDR_LEN + 16);
	CU_ASSERT_EQUAL(or_cli_msg2_build(buf, sizeof(buf) - 1, &m), -ENOSPC);
	/* The same bytes through struct or_hdr2 (include/optroute/proto.h),
	 * a layout written independently of the builder. */
	memcpy(&h, buf, sizeof(h));
	CU_ASSERT_EQUAL(be16toh(h.magic), OR_PROTO_MAGIC);
	CU_ASSERT_EQUAL(h.version, OR_PROTO_V2);
	CU_ASSERT_EQUAL(h.type, OR_TYPE_MSG);
	CU_ASSERT(h.flags == 0 && h.reason == 0 && h.reserved == 0);
	CU_ASSERT_EQUAL(h.key_epoch, 3);
	CU_ASSERT_EQUAL(be64toh(h.msg_id), 0x0102030405060708ull);
	CU_ASSERT(or_token_eq(&h.sender, &m.sender));
	CU_ASSERT(or_token_eq(&h.recipient, &m.recipient));
	CU_ASSERT_EQUAL(be64toh(h.send_time), EX_SEND_TIME);
	CU_ASSERT_EQUAL(be16toh(h.payload_len), 16);
	CU_ASSERT_EQUAL(h.reserved2, 0);
	CU_ASSERT_EQUAL(memcmp(h.auth_tag, m.auth_tag, OR_AUTH_TAG_LEN), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 48, st, 8), 0);
	CU_ASSERT(buf[56] == 0 && buf[57] == 16 && buf[58] == 0 && buf[59] == 0);
	CU_ASSERT_EQUAL(memcmp(buf + OR_HDR_LEN, payload, 16), 0);
	/* or_cli_build() picks the builder by version. */
	CU_ASSERT_EQUAL(or_cli_build(OR_PROTO_V2, b1, sizeof(b1), &m),
			OR_HDR_LEN + 16);
	CU_ASSERT_EQUAL(memcmp(b1, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(or_cli_build(OR_PROTO_V1, b1, sizeof(b1), &m),
			OR_HDR_LEN + 16);
	CU_ASSERT_EQUAL(b1[2], OR_PROTO_V1);
	CU_ASSERT_EQUAL(b1[65], 16);

	CU_ASSERT_EQUAL(or_cli_parse(buf, sizeof(buf), OR_CLI_ACCEPT_V2, &v),
			OR_CLI_OK);
	CU_ASSERT_EQUAL(v.version, OR_PROTO_V2);
	CU_ASSERT_EQUAL(v.send_time, EX_SEND_TIME);
	CU_ASSERT_EQUAL(v.payload_len, 16);
	CU_ASSERT_EQUAL(v.tag_len, OR_AUTH_TAG_LEN);
	CU_ASSERT_EQUAL(memcmp(v.auth_tag, m.auth_tag, OR_AUTH_TAG_LEN), 0);
	CU_ASSERT_EQUAL(v.msg_id, 0x0102030405060708ull);
	CU_ASSERT_PTR_EQUAL(v.hdr, buf);
	CU_ASSERT_PTR_EQUAL(v.payload, buf + OR_HDR_LEN);
	CU_ASSERT_EQUAL(parse_exact(buf, sizeof(buf)), OR_CLI_OK);
	CU_ASSERT_EQUAL(parse_exact_v(buf, sizeof(buf), OR_CLI_ACCEPT_V1),
			OR_CLI_BAD_VERSION);
	for (size_t l = 0; l < OR_HDR_LEN; l++)
		CU_ASSERT_EQUAL(parse_exact(buf, l), OR_CLI_SHORT);
	CU_ASSERT_EQUAL(parse_exact(buf, sizeof(buf) - 1),
			OR_CLI_BAD_PAYLOAD_LEN);
	memcpy(b1, buf, sizeof(buf));
	b1[56] = 1;
	CU_ASSERT_EQUAL(parse_exact(b1, sizeof(b1)), OR_CLI_BAD_PAYLOAD_LEN);
	/* Bytes 64..65 are the tag in version 2, not a length. */
	memcpy(b1, buf, sizeof(buf));
	b1[64] = 0xff;
	b1[58] = 0xab;
	CU_ASSERT_EQUAL(or_cli_parse(b1, sizeof(b1), OR_CLI_ACCEPT_ANY, &v),
			OR_CLI_OK);
	CU_ASSERT_EQUAL(v.reserved2, 0xab00);

	/* Round trip at the edges of send_time and payload_len. */
	{
		static uint8_t big[OR_HDR_LEN + OR_CLI_MAX_PAYLOAD];
		static uint8_t pl[OR_CLI_MAX_PAYLOAD];
		uint64_t times[] = { 0, 1, EX_SEND_TIME, UINT64_MAX };
		uint16_t lens[] = { 0, 1, 256, OR_CLI_MAX_PAYLOAD };

		for (size_t i = 0; i < 4; i++) {
			int len;

			m.send_time = times[i];
			m.payload = pl;
			m.payload_len = lens[i];
			len = or_cli_msg2_build(big, sizeof(big), &m);
			CU_ASSERT_EQUAL(len, (int)(OR_HDR_LEN + lens[i]));
			CU_ASSERT_EQUAL(or_cli_parse(big, (size_t)len,
						     OR_CLI_ACCEPT_V2, &v),
					OR_CLI_OK);
			CU_ASSERT_EQUAL(v.send_time, times[i]);
			CU_ASSERT_EQUAL(v.payload_len, lens[i]);
		}
	}
}

/* A signed version-2 MSG from ex_fill(), into buf (OR_HDR_LEN + 16). */
static void
v2_signed(uint8_t *buf, const struct or_auth_key *ks)
{
	struct or_cli_msg m;
	uint8_t payload[16];

	ex_fill(&m, payload);
	m.send_time = EX_SEND_TIME;
	CU_ASSERT_FATAL(or_cli_msg2_build(buf, OR_HDR_LEN + 16, &m) ==
			OR_HDR_LEN + 16);
	or_cli_sign2(buf, ks);
}

static void
test_v2_sign_check(void)
{
	struct or_auth_key ks, other, epoch2;
	struct or_hdr2 h;
	struct or_token a, b;
	uint8_t buf[OR_HDR_LEN + 16], x[OR_HDR_LEN + 16];
	uint8_t tag[crypto_shorthash_BYTES], tag2[OR_AUTH_TAG_LEN];
	unsigned missed = 0;

	for (int i = 0; i < OR_TOKEN_LEN; i++) {
		a.b[i] = (uint8_t)(0x10 + i); /* ex_fill()'s sender */
		b.b[i] = (uint8_t)(0x20 + i);
	}
	v2_key(0x5a, &a, &ks);
	v2_key(0x5a, &b, &other);
	v2_key(0x5b, &a, &epoch2);
	v2_signed(buf, &ks);
	/* SipHash-2-4 of bytes 0..59 under K_sender, stored at 60..67. */
	crypto_shorthash(tag, buf, OR_HDR2_TAG_OFF, ks.b);
	CU_ASSERT_EQUAL(memcmp(buf + OR_HDR2_TAG_OFF, tag, sizeof(tag)), 0);
	or_auth_tag(&ks, (const struct or_hdr2 *)buf, tag2);
	CU_ASSERT_EQUAL(memcmp(tag2, tag, sizeof(tag2)), 0);
	/* The reference check agrees, on an aligned copy too. */
	memcpy(&h, buf, sizeof(h));
	CU_ASSERT_EQUAL(or_auth_check(&ks, &h), 1);
	CU_ASSERT_EQUAL(or_cli_check2(buf, &ks), 1);
	/* Signing is deterministic. */
	memcpy(x, buf, sizeof(x));
	or_cli_sign2(x, &ks);
	CU_ASSERT_EQUAL(memcmp(x, buf, sizeof(x)), 0);

	/* Every bit of bytes 0..59 is covered, and of the tag itself. */
	for (unsigned i = 0; i < OR_HDR_LEN; i++)
		for (unsigned bit = 0; bit < 8; bit++) {
			memcpy(x, buf, sizeof(x));
			x[i] ^= (uint8_t)(1u << bit);
			if (or_cli_check2(x, &ks) != 0)
				missed++;
		}
	CU_ASSERT_EQUAL(missed, 0);
	/* The payload is not (end-to-end ciphertext, not the appliance's). */
	memcpy(x, buf, sizeof(x));
	x[OR_HDR_LEN + 3] ^= 0xff;
	CU_ASSERT_EQUAL(or_cli_check2(x, &ks), 1);
	/* Another sender's key, or this sender's under another K_auth. */
	CU_ASSERT_EQUAL(or_cli_check2(buf, &other), 0);
	CU_ASSERT_EQUAL(or_cli_check2(buf, &epoch2), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(ks.b, other.b, sizeof(ks.b)), 0);
}

/* The bounce an appliance makes of the MSG in msg: type 2, reason,
 * payload_len 0, signed anew under ks (NULL: the MSG's tag kept). */
static void
v2_bounce(uint8_t *bo, const uint8_t *msg, uint8_t reason,
	  const struct or_auth_key *ks)
{
	memcpy(bo, msg, OR_HDR_LEN);
	bo[3] = OR_TYPE_BOUNCE;
	bo[6] = reason;
	bo[56] = bo[57] = 0;
	if (ks != NULL)
		or_cli_sign2(bo, ks);
}

static void
test_v2_forged_bounce(void)
{
	struct or_auth_key ks, other;
	struct or_cli_view v;
	struct or_cli_sent sent = {
		.version = OR_PROTO_V2,
		.first_id = 0x0102030405060707ull, /* ex_fill()'s id - 1 */
		.n = 3,
		.k_sender = &ks,
	};
	uint8_t msg[OR_HDR_LEN + 16], bo[OR_HDR_LEN + 3];
	uint64_t idx = 99;

	for (int i = 0; i < OR_TOKEN_LEN; i++) {
		sent.sender.b[i] = (uint8_t)(0x10 + i);
		sent.recipient.b[i] = (uint8_t)(0x20 + i);
	}
	v2_key(0x77, &sent.sender, &ks);
	v2_key(0x77, &sent.recipient, &other);
	v2_signed(msg, &ks);

	v2_bounce(bo, msg, OR_REASON_RECIPIENT_UNAVAILABLE, &ks);
	CU_ASSERT_EQUAL(or_cli_bounce_check(bo, OR_HDR_LEN, &sent, &v, &idx),
			OR_CLI_OK);
	CU_ASSERT_EQUAL(idx, 1);
	CU_ASSERT_EQUAL(v.send_time, EX_SEND_TIME);
	v2_bounce(bo, msg, OR_REASON_OVER_BUDGET, &ks);
	CU_ASSERT_EQUAL(or_cli_bounce_check(bo, OR_HDR_LEN, &sent, &v, &idx),
			OR_CLI_OK);
	CU_ASSERT_STRING_EQUAL(or_cli_reason_name(v.reason), "over_budget");

	/* Forged: the MSG's tag kept, a random tag, another sender's key, a
	 * reason changed after signing. */
	v2_bounce(bo, msg, OR_REASON_RECIPIENT_UNAVAILABLE, NULL);
	CU_ASSERT_EQUAL(or_cli_bounce_check(bo, OR_HDR_LEN, &sent, &v, &idx),
			OR_CLI_FORGED);
	randombytes_buf(bo + OR_HDR2_TAG_OFF, OR_AUTH_TAG_LEN);
	CU_ASSERT_EQUAL(or_cli_bounce_check(bo, OR_HDR_LEN, &sent, &v, &idx),
			OR_CLI_FORGED);
	v2_bounce(bo, msg, OR_REASON_RECIPIENT_UNAVAILABLE, &other);
	CU_ASSERT_EQUAL(or_cli_bounce_check(bo, OR_HDR_LEN, &sent, &v, &idx),
			OR_CLI_FORGED);
	v2_bounce(bo, msg, OR_REASON_RECIPIENT_UNAVAILABLE, &ks);
	bo[6] = OR_REASON_OVER_BUDGET;
	CU_ASSERT_EQUAL(or_cli_bounce_check(bo, OR_HDR_LEN, &sent, &v, &idx),
			OR_CLI_FORGED);

	/* The other checks come first, whatever the tag. */
	v2_bounce(bo, msg, OR_REASON_RECIPIENT_UNAVAILABLE, &ks);
	sent.n = 1;
	CU_ASSERT_EQUAL(or_cli_bounce_check(bo, OR_HDR_LEN, &sent, &v, &idx),
			OR_CLI_UNKNOWN_MSG_ID);
	sent.n = 3;
	memcpy(bo + 16, msg + 32, OR_TOKEN_LEN);
	memcpy(bo + 32, msg + 16, OR_TOKEN_LEN);
	or_cli_sign2(bo, &ks);
	CU_ASSERT_EQUAL(or_cli_bounce_check(bo, OR_HDR_LEN, &sent, &v, &idx),
			OR_CLI_TOKEN_MISMATCH);
	v2_bounce(bo, msg, OR_REASON_RECIPIENT_UNAVAILABLE, &ks);
	bo[57] = 3;
	or_cli_sign2(bo, &ks);
	CU_ASSERT_EQUAL(or_cli_bounce_check(bo, OR_HDR_LEN + 3, &sent, &v,
					    &idx), OR_CLI_BAD_BOUNCE_LEN);
	CU_ASSERT_EQUAL(or_cli_bounce_check(msg, sizeof(msg), &sent, &v, &idx),
			OR_CLI_BAD_TYPE);
	v2_bounce(bo, msg, OR_REASON_RECIPIENT_UNAVAILABLE, &ks);
	bo[2] = OR_PROTO_V1;
	CU_ASSERT_EQUAL(or_cli_bounce_check(bo, OR_HDR_LEN, &sent, &v, &idx),
			OR_CLI_BAD_VERSION);

	/* A version-1 run takes a version-1 bounce without a key. */
	{
		size_t len;
		uint8_t *b1 = doc_bytes(ex_bounce_udp, &len);

		sent.version = OR_PROTO_V1;
		sent.k_sender = NULL;
		CU_ASSERT_EQUAL(or_cli_bounce_check(b1, len, &sent, &v, &idx),
				OR_CLI_OK);
		CU_ASSERT_EQUAL(idx, 1);
		free(b1);
	}
}

static int
client_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

/* docs/protocol.md section 11 byte for byte: K_sender, the signed MSG,
 * and both bounces as the appliance makes them and the client takes. */
static void
test_v2_doc_examples(void)
{
	static const uint8_t ks_doc[OR_AUTH_KEY_LEN] = {
		0x07, 0xfe, 0xef, 0x74, 0xe1, 0xd5, 0x03, 0x6e,
		0x90, 0x0e, 0xee, 0x11, 0x8e, 0x94, 0x92, 0x93,
	};
	static const char *const bounces[] = { ex2_bounce_udp, ex2_budget_udp };
	struct or_auth_key ka, ks;
	struct or_cli_msg m;
	struct or_cli_view v;
	struct or_cli_sent sent = {
		.version = OR_PROTO_V2,
		.first_id = 0x0102030405060708ull,
		.n = 1,
		.k_sender = &ks,
	};
	uint8_t payload[16], buf[OR_HDR_LEN + 16], bo[OR_HDR_LEN], *want;
	uint64_t idx;
	size_t wl;

	for (int i = 0; i < OR_AUTH_KEY_LEN; i++)
		ka.b[i] = (uint8_t)i;
	ex_fill(&m, payload);
	m.send_time = 1764633600123ull;
	sent.sender = m.sender;
	sent.recipient = m.recipient;
	CU_ASSERT_FATAL(or_auth_sender_key(&ka, &m.sender, &ks) == 0);
	CU_ASSERT_EQUAL(memcmp(ks.b, ks_doc, sizeof(ks_doc)), 0);
	CU_ASSERT_EQUAL(or_cli_msg2_build(buf, sizeof(buf), &m), sizeof(buf));
	or_cli_sign2(buf, &ks);
	want = doc_bytes(ex2_msg_udp, &wl);
	CU_ASSERT(wl == sizeof(buf) && memcmp(buf, want, wl) == 0);
	free(want);
	for (int r = 0; r < 2; r++) {
		want = doc_bytes(bounces[r], &wl);
		CU_ASSERT_FATAL(wl == OR_HDR_LEN);
		v2_bounce(bo, buf, r == 0 ? OR_REASON_RECIPIENT_UNAVAILABLE :
				   OR_REASON_OVER_BUDGET, &ks);
		CU_ASSERT_EQUAL(memcmp(bo, want, wl), 0);
		CU_ASSERT_EQUAL(or_cli_bounce_check(want, wl, &sent, &v, &idx),
				OR_CLI_OK);
		CU_ASSERT_EQUAL(v.reason, r == 0 ? 1 : 3);
		free(want);
	}
}

static CU_TestInfo client_tests[] = {
	{ "build matches docs/protocol.md example", test_build_doc_example },
	{ "parse docs/protocol.md examples", test_parse_doc_examples },
	{ "parse refuses bad datagrams", test_parse_errors },
	{ "build/parse roundtrip", test_roundtrip },
	{ "hex and tokens", test_hex },
	{ "addresses", test_addr },
	{ "numbers and printable", test_numbers },
	{ "v2 build/parse (or_hdr2 layout)", test_v2_build_parse },
	{ "v2 sign and check (reference tag)", test_v2_sign_check },
	{ "v2 forged bounces", test_v2_forged_bounce },
	{ "v2 docs/protocol.md examples", test_v2_doc_examples },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("client", client_init, NULL, client_tests)
