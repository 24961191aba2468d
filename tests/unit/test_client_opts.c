/* optroute-client send's test-only options that spoil a signed frame
 * (tests/tools/or_client_test_opts.h): --tag's hex, --flip-byte's
 * OFFSET[:MASK] (the tag's own bytes and offsets past the largest MSG
 * refused, a mask of 0 refused, no octal), and what a flip does to a
 * signed version-2 header: its tag no longer verifies, wherever the flip
 * is in bytes 0..59, while a flipped payload byte leaves it valid. */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "or_test.h"
#include "tests/tools/or_client_test_opts.h"

static void
test_tag_parse(void)
{
	uint8_t t[OR_AUTH_TAG_LEN];
	static const uint8_t want[OR_AUTH_TAG_LEN] = { 0x21, 0xc4, 0x54, 0x97,
						       0x98, 0x07, 0x37, 0xcd };

	memset(t, 0, sizeof(t));
	CU_ASSERT_EQUAL(or_cli_tag_parse("21c45497980737cd", t), 0);
	CU_ASSERT_EQUAL(memcmp(t, want, sizeof(t)), 0);
	CU_ASSERT_EQUAL(or_cli_tag_parse("21C45497980737CD", t), 0);
	CU_ASSERT_EQUAL(memcmp(t, want, sizeof(t)), 0);
	CU_ASSERT_EQUAL(or_cli_tag_parse("", t), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_tag_parse("21c45497980737c", t), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_tag_parse("21c45497980737cd00", t), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_tag_parse("21c45497980737cg", t), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_tag_parse("21c4549798 737cd", t), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_tag_parse("0x21c45497980737", t), -EINVAL);
}

static void
test_flip_parse(void)
{
	struct or_cli_flip f;

	CU_ASSERT_EQUAL(or_cli_flip_parse("0", &f), 0);
	CU_ASSERT(f.off == 0 && f.mask == 1);
	CU_ASSERT_EQUAL(or_cli_flip_parse("40", &f), 0);
	CU_ASSERT(f.off == 40 && f.mask == 1);
	/* Not octal: 040 is forty. */
	CU_ASSERT_EQUAL(or_cli_flip_parse("040:0x80", &f), 0);
	CU_ASSERT(f.off == 40 && f.mask == 0x80);
	CU_ASSERT_EQUAL(or_cli_flip_parse("0x3b:255", &f), 0);
	CU_ASSERT(f.off == 59 && f.mask == 0xff);
	CU_ASSERT_EQUAL(or_cli_flip_parse("0X10:0XfF", &f), 0);
	CU_ASSERT(f.off == 16 && f.mask == 0xff);
	/* Payload bytes: not covered by the tag, allowed. */
	CU_ASSERT_EQUAL(or_cli_flip_parse("68", &f), 0);
	CU_ASSERT_EQUAL(f.off, 68);
	CU_ASSERT_EQUAL(or_cli_flip_parse("1471", &f), 0);
	CU_ASSERT_EQUAL(f.off, OR_HDR_LEN + OR_CLI_MAX_PAYLOAD - 1);

	/* The tag itself, and past the largest MSG. */
	for (unsigned o = OR_HDR2_TAG_OFF; o < OR_HDR_LEN; o++) {
		char s[16];

		snprintf(s, sizeof(s), "%u", o);
		CU_ASSERT_EQUAL(or_cli_flip_parse(s, &f), -ERANGE);
	}
	CU_ASSERT_EQUAL(or_cli_flip_parse("1472", &f), -ERANGE);
	CU_ASSERT_EQUAL(or_cli_flip_parse("65535", &f), -ERANGE);
	/* Syntax, bounds, a mask that changes nothing. */
	CU_ASSERT_EQUAL(or_cli_flip_parse("65536", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse("99999999999999999999999", &f),
			-EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse("", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse(":1", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse("5:", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse("5:0", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse("5:256", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse("5:1:2", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse("-5", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse("+5", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse(" 5", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse("0x", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse("0x1g", &f), -EINVAL);
	CU_ASSERT_EQUAL(or_cli_flip_parse("5a", &f), -EINVAL);

	f.off = 70;
	CU_ASSERT(or_cli_flip_fits(&f, 71));
	CU_ASSERT(!or_cli_flip_fits(&f, 70));
}

/* A signed MSG with a 4-byte payload; *k its K_sender. */
static int
signed_msg(uint8_t *buf, size_t cap, struct or_auth_key *k)
{
	static const uint8_t pl[4] = { 1, 2, 3, 4 };
	struct or_cli_msg m = {
		.type = OR_TYPE_MSG,
		.key_epoch = 3,
		.msg_id = 0x0102030405060708ull,
		.send_time = 1764633600123ull,
		.payload = pl,
		.payload_len = sizeof(pl),
	};
	int len;

	for (unsigned i = 0; i < OR_TOKEN_LEN; i++) {
		m.sender.b[i] = (uint8_t)(0x10 + i);
		m.recipient.b[i] = (uint8_t)(0x20 + i);
	}
	randombytes_buf(k->b, sizeof(k->b));
	len = or_cli_msg2_build(buf, cap, &m);
	CU_ASSERT_FATAL(len == (int)OR_HDR_LEN + 4);
	or_cli_sign2(buf, k);
	CU_ASSERT_FATAL(or_cli_check2(buf, k));
	return len;
}

static void
test_flip_apply(void)
{
	uint8_t buf[OR_HDR_LEN + 4], orig[sizeof(buf)];
	struct or_auth_key k;
	struct or_cli_flip two[2] = { { 16, 0x80 }, { 55, 0x01 } };
	int len = signed_msg(buf, sizeof(buf), &k);

	memcpy(orig, buf, sizeof(buf));
	/* Every tagged byte, every single-bit mask: the tag fails. */
	for (unsigned o = 0; o < OR_HDR2_TAG_OFF; o++) {
		for (unsigned b = 0; b < 8; b++) {
			struct or_cli_flip f = { (uint16_t)o, (uint8_t)(1u << b) };

			or_cli_flip_apply(buf, &f, 1);
			CU_ASSERT_EQUAL(buf[o], orig[o] ^ (1u << b));
			CU_ASSERT(!or_cli_check2(buf, &k));
			or_cli_flip_apply(buf, &f, 1);
			CU_ASSERT_EQUAL(memcmp(buf, orig, sizeof(buf)), 0);
		}
	}
	/* Two at once: exactly those two bytes change. */
	or_cli_flip_apply(buf, two, 2);
	for (int i = 0; i < len; i++)
		CU_ASSERT_EQUAL(buf[i], orig[i] ^ (i == 16 ? 0x80 :
						  i == 55 ? 0x01 : 0));
	CU_ASSERT(!or_cli_check2(buf, &k));
	memcpy(buf, orig, sizeof(buf));
	/* The payload is not covered by the tag (docs/protocol.md 5). */
	two[0].off = OR_HDR_LEN + 2;
	or_cli_flip_apply(buf, two, 1);
	CU_ASSERT_NOT_EQUAL(buf[OR_HDR_LEN + 2], orig[OR_HDR_LEN + 2]);
	CU_ASSERT(or_cli_check2(buf, &k));
}

/* --tag: another sender's tag on an otherwise identical MSG fails. */
static void
test_tag_copy(void)
{
	uint8_t a[OR_HDR_LEN + 4], b[OR_HDR_LEN + 4];
	struct or_auth_key ka, kb;
	char hex[2 * OR_AUTH_TAG_LEN + 1];
	uint8_t t[OR_AUTH_TAG_LEN];

	signed_msg(a, sizeof(a), &ka);
	signed_msg(b, sizeof(b), &kb);
	b[16] ^= 0xff; /* b's sender: another token */
	or_cli_sign2(b, &kb);
	or_cli_hex_format(a + OR_HDR2_TAG_OFF, OR_AUTH_TAG_LEN, hex);
	CU_ASSERT_EQUAL_FATAL(or_cli_tag_parse(hex, t), 0);
	CU_ASSERT_EQUAL(memcmp(t, a + OR_HDR2_TAG_OFF, sizeof(t)), 0);
	memcpy(b + OR_HDR2_TAG_OFF, t, sizeof(t));
	CU_ASSERT(!or_cli_check2(b, &kb));
	CU_ASSERT(!or_cli_check2(b, &ka));
}

static CU_TestInfo tests[] = {
	{ "tag_parse", test_tag_parse },
	{ "flip_parse", test_flip_parse },
	{ "flip_apply", test_flip_apply },
	{ "tag_copy", test_tag_copy },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("client_opts", NULL, NULL, tests)
