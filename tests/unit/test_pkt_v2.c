/* Protocol version 2 on the packet path: classification by version, the
 * tag verified before any lookup (auth/auth_verify.h), delivery carrying
 * the header unchanged, bounces signed under the sender's key and
 * byte-identical whatever the recipient's history, OVER_BUDGET replies
 * independent of the recipient, and the worked examples of
 * docs/protocol.md section 11, byte for byte. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "or_test.h"
#include "test_pkt_util.h"

/* docs/protocol.md section 11: K_auth[3] = 00 01 .. 0f. */
static const struct or_auth_key ex_kauth = { { 0x00, 0x01, 0x02, 0x03, 0x04,
					      0x05, 0x06, 0x07, 0x08, 0x09,
					      0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
					      0x0f } };
#define EX_EPOCH 3
#define EX_SEND_TIME 1764633600123ull /* 2025-12-02 00:00:00.123 UTC */

#include "test_pkt_v2_vectors.h"

static struct or_auth_keys ring;

static void
ring_install(void)
{
	struct or_chan_auth_keys m = { .version = OR_CHAN_AUTH_KEYS_VERSION,
				       .count = 1 };
	char err[128];

	m.keys[0].epoch = EX_EPOCH;
	memcpy(m.keys[0].key, ex_kauth.b, 16);
	CU_ASSERT_EQUAL_FATAL(or_keyring_install(&ring, &m, err, sizeof(err)), 0);
}

static struct or_port_addr
pa2(void)
{
	struct or_port_addr pa = t_pa();

	pa.version = OR_PROTO_V2;
	return pa;
}

static struct t_spec
spec2(uint16_t payload_len)
{
	struct t_spec s = t_spec_msg(0, payload_len);

	s.version = OR_PROTO_V2;
	s.epoch = EX_EPOCH;
	s.send_time = EX_SEND_TIME;
	return s;
}

/* OR_PRINT_EXAMPLES=1: print the frames as docs/protocol.md shows them. */
static void
maybe_print(const char *name, const uint8_t *f, uint16_t len)
{
	if (getenv("OR_PRINT_EXAMPLES") == NULL)
		return;
	printf("\n%s (%u bytes)\n", name, len);
	for (uint16_t i = 0; i < len; i++)
		printf("%s%02x", i % 16 == 0 ? (i ? "\n" : "") : " ", f[i]);
	printf("\n");
}

/* Decides a copy of f with the given records; returns the action. */
static enum or_verdict
decide(const uint8_t *f, uint16_t flen, uint8_t *out, uint16_t *olen,
       uint32_t srec, uint32_t rrec, int over_budget, enum or_drop_reason *why)
{
	struct or_port_addr pa = pa2();
	struct or_nexthop nh[T_NODE + 1];
	struct or_pkt_info info = { 0 };
	uint16_t port = 0;

	memset(nh, 0, sizeof(nh));
	nh[T_NODE] = t_nh();
	memcpy(out, f, flen);
	*olen = flen;
	CU_ASSERT_EQUAL_FATAL(or_pkt_classify(out, flen, &pa, &info), OR_PKT_MSG);
	return or_pkt_decide(out, olen, &info, srec, rrec, nh, T_NODE + 1, &pa,
			     ring.live, over_budget, &port, why);
}

static const struct or_hdr2 *
hdr_of(const uint8_t *f)
{
	return (const struct or_hdr2 *)(f + 14 + 28);
}

static void
test_examples(void)
{
	_Alignas(8) uint8_t f[T_FRAME_MAX], g[T_FRAME_MAX], want[T_FRAME_MAX] = { 0 };
	struct t_spec s = spec2(16);
	uint32_t in = or_rec_make(OR_STATE_IN, T_NODE, 3, 0);
	struct or_auth_key ks;
	enum or_drop_reason why;
	uint16_t len, glen;

	ring_install();
	len = t_build(f, &s);
	t_sign2(f, &s, &ex_kauth);
	maybe_print("MSG", f, len);
	CU_ASSERT_EQUAL(t_unhex(ex2_msg, want), len);
	CU_ASSERT(memcmp(f, want, len) == 0);

	/* K_sender as the document states it. */
	CU_ASSERT_EQUAL_FATAL(or_auth_sender_key(&ex_kauth, &hdr_of(f)->sender,
						 &ks), 0);
	maybe_print("K_sender", ks.b, 16);
	CU_ASSERT_EQUAL(t_unhex(ex2_ksender, want), 16);
	CU_ASSERT(memcmp(ks.b, want, 16) == 0);

	CU_ASSERT_EQUAL(decide(f, len, g, &glen, in, in, 0, &why),
			OR_VERDICT_DELIVER);
	maybe_print("delivered", g, glen);
	CU_ASSERT_EQUAL(t_unhex(ex2_deliver, want), glen);
	CU_ASSERT(memcmp(g, want, glen) == 0);

	/* Never registered (miss) and opted out: the same bytes. */
	for (int k = 0; k < 2; k++) {
		uint32_t rrec = k ? or_rec_make(OR_STATE_OUT, T_NODE, 3, 0) : 0;

		CU_ASSERT_EQUAL(decide(f, len, g, &glen, in, rrec, 0, &why),
				OR_VERDICT_BOUNCE);
		maybe_print("bounce", g, glen);
		CU_ASSERT_EQUAL(t_unhex(ex2_bounce, want), glen);
		CU_ASSERT(memcmp(g, want, glen) == 0);
		CU_ASSERT(or_auth_check(&ks, hdr_of(g)));
	}
	/* Over budget: the same reply whatever the recipient. */
	for (int k = 0; k < 3; k++) {
		uint32_t rrec = k == 0 ? in :
				k == 1 ? or_rec_make(OR_STATE_OUT, T_NODE, 3, 0) : 0;

		CU_ASSERT_EQUAL(decide(f, len, g, &glen, in, rrec, 1, &why),
				OR_VERDICT_OVER_BUDGET);
		maybe_print("over budget", g, glen);
		CU_ASSERT_EQUAL(t_unhex(ex2_over_budget, want), glen);
		CU_ASSERT(memcmp(g, want, glen) == 0);
		CU_ASSERT(or_auth_check(&ks, hdr_of(g)));
	}
	or_keyring_destroy(&ring);
}

/* Each appliance takes one version; the payload length is checked at
 * version 2's offset. */
static void
test_classify_versions(void)
{
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct t_spec s2 = spec2(10), s1 = t_spec_msg(0, 10);
	struct or_port_addr p2 = pa2(), p1 = t_pa();
	struct or_pkt_info info;
	uint16_t len;

	len = t_build(f, &s2);
	CU_ASSERT_EQUAL(or_pkt_classify(f, len, &p2, &info), OR_PKT_MSG);
	CU_ASSERT_EQUAL(info.key_epoch, EX_EPOCH);
	CU_ASSERT_EQUAL(or_pkt_classify(f, len, &p1, &info), OR_PKT_DROP);
	CU_ASSERT_EQUAL(info.reason, OR_DROP_BAD_VERSION);
	/* payload_len is at 56 in version 2: 64 is the tag. */
	f[14 + 28 + 57] ^= 1;
	CU_ASSERT_EQUAL(or_pkt_classify(f, len, &p2, &info), OR_PKT_DROP);
	CU_ASSERT_EQUAL(info.reason, OR_DROP_BAD_PAYLOAD_LEN);

	len = t_build(f, &s1);
	CU_ASSERT_EQUAL(or_pkt_classify(f, len, &p1, &info), OR_PKT_MSG);
	CU_ASSERT_EQUAL(or_pkt_classify(f, len, &p2, &info), OR_PKT_DROP);
	CU_ASSERT_EQUAL(info.reason, OR_DROP_BAD_VERSION);
}

/* A bounce whose epoch was retired after its tag was verified cannot be
 * signed: dropped, never sent unsigned. A bad incoming UDP checksum is
 * not bounced either. */
static void
test_bounce_needs_live_epoch(void)
{
	_Alignas(8) uint8_t f[T_FRAME_MAX], g[T_FRAME_MAX];
	struct t_spec s = spec2(16);
	uint32_t in = or_rec_make(OR_STATE_IN, T_NODE, 3, 0);
	struct or_chan_auth_keys m = { .version = OR_CHAN_AUTH_KEYS_VERSION };
	enum or_drop_reason why = OR_DROP_NONE;
	char err[64];
	uint16_t len, glen;

	ring_install();
	len = t_build(f, &s);
	t_sign2(f, &s, &ex_kauth);
	f[len - 1] ^= 0x55; /* payload: UDP checksum now wrong */
	CU_ASSERT_EQUAL(decide(f, len, g, &glen, in, 0, 0, &why),
			OR_VERDICT_DROP);
	CU_ASSERT_EQUAL(why, OR_DROP_BAD_UDP_CSUM);
	f[len - 1] ^= 0x55;

	CU_ASSERT_EQUAL_FATAL(or_keyring_install(&ring, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(decide(f, len, g, &glen, in, 0, 0, &why),
			OR_VERDICT_DROP);
	CU_ASSERT_EQUAL(why, OR_DROP_UNKNOWN_EPOCH);
	CU_ASSERT(memcmp(f, g, len) == 0);
	/* A delivery needs no key. */
	CU_ASSERT_EQUAL(decide(f, len, g, &glen, in, in, 0, &why),
			OR_VERDICT_DELIVER);
	or_keyring_destroy(&ring);
}

/* A burst's bounces signed together, as the worker does
 * (or_pkt_decide_defer, or_auth_tag_burst eight at a time,
 * or_pkt_bounce2_finish), are byte for byte the bounces signed one at a
 * time by or_pkt_decide, for every group size from 1 to 20 (one-at-a-time
 * remainders, whole and partial groups of eight), with two live epochs
 * mixed in a group, VLAN tags and over-budget replies among them; each
 * verifies under its sender's key computed by the reference
 * (common/auth). */
#define SIG_MAX 20
static void
test_bounces_signed_together(void)
{
	static const struct or_auth_key k7 = { { 0x70, 0x71, 0x72, 0x73, 0x74,
						 0x75, 0x76, 0x77, 0x78, 0x79,
						 0x7a, 0x7b, 0x7c, 0x7d, 0x7e,
						 0x7f } };
	static _Alignas(8) uint8_t f[T_FRAME_MAX], one[SIG_MAX][T_FRAME_MAX],
		many[SIG_MAX][T_FRAME_MAX];
	struct or_chan_auth_keys m = { .version = OR_CHAN_AUTH_KEYS_VERSION,
				       .count = 2 };
	uint32_t in = or_rec_make(OR_STATE_IN, T_NODE, 3, 0);
	struct or_port_addr pa = pa2();
	struct or_nexthop nh[T_NODE + 1];
	uint64_t rng = 0x5eed, mixed = 0;
	char err[128];

	m.keys[0].epoch = EX_EPOCH;
	memcpy(m.keys[0].key, ex_kauth.b, 16);
	m.keys[1].epoch = 7;
	memcpy(m.keys[1].key, k7.b, 16);
	CU_ASSERT_EQUAL_FATAL(or_keyring_install(&ring, &m, err, sizeof(err)), 0);
	memset(nh, 0, sizeof(nh));
	nh[T_NODE] = t_nh();
	for (unsigned n = 1; n <= SIG_MAX; n++) {
		struct or_pkt_info info[SIG_MAX];
		const uint8_t *hdr[SIG_MAX];
		int8_t slot[SIG_MAX];
		uint64_t tag[SIG_MAX];
		uint16_t olen[SIG_MAX], mlen[SIG_MAX];
		unsigned slots_seen = 0;

		for (unsigned i = 0; i < n; i++) {
			struct t_spec s = spec2((uint16_t)(8 + i));
			enum or_verdict v1, v2;
			enum or_drop_reason why = OR_DROP_NONE;
			uint16_t len, port = 0;
			uint8_t *h;
			int over = i % 5 == 4;

			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			s.vlan = (rng >> 40) % 3 == 0;
			s.epoch = (rng >> 50) & 1 ? 7 : EX_EPOCH;
			s.msg_id = rng;
			len = t_build(f, &s);
			h = f + t_l3(&s) + 28;
			for (unsigned b = 0; b < 16; b++)
				h[16 + b] = (uint8_t)(rng >> (b * 4));
			t_fix_udp_csum(f, t_l3(&s));

			v1 = decide(f, len, one[i], &olen[i], in, 0, over, &why);
			CU_ASSERT_EQUAL_FATAL(v1, over ? OR_VERDICT_OVER_BUDGET :
							 OR_VERDICT_BOUNCE);
			memcpy(many[i], f, len);
			mlen[i] = len;
			CU_ASSERT_EQUAL_FATAL(or_pkt_classify(many[i], len, &pa,
							      &info[i]),
					      OR_PKT_MSG);
			slot[i] = -1;
			v2 = or_pkt_decide_defer(many[i], &mlen[i], &info[i], in,
						 0, nh, T_NODE + 1, &pa,
						 ring.live, over, &port, &why,
						 &slot[i]);
			CU_ASSERT_EQUAL(v2, v1);
			CU_ASSERT_EQUAL(mlen[i], olen[i]);
			CU_ASSERT_EQUAL_FATAL(slot[i],
					      or_keyring_slot(ring.live, s.epoch));
			slots_seen |= 1u << slot[i];
			hdr[i] = (const uint8_t *)hdr_of(many[i]) +
				 (s.vlan ? 4 : 0);
		}
		mixed += slots_seen == 3;
		or_auth_tag_burst(ring.live, hdr, slot, n, tag);
		for (unsigned i = 0; i < n; i++) {
			const struct or_hdr2 *h = (const struct or_hdr2 *)hdr[i];
			struct or_auth_key ks;

			CU_ASSERT_EQUAL(or_pkt_bounce2_finish(many[i], &info[i],
							      &pa, tag[i]),
					olen[i]);
			CU_ASSERT(memcmp(many[i], one[i], olen[i]) == 0);
			CU_ASSERT_EQUAL_FATAL(
				or_auth_sender_key(h->key_epoch == 7 ? &k7 :
								       &ex_kauth,
						   &h->sender, &ks),
				0);
			CU_ASSERT(or_auth_check(&ks, h));
		}
	}
	CU_ASSERT(mixed > 10); /* groups did mix the two epochs */
	or_keyring_destroy(&ring);
}

static CU_TestInfo v2_tests[] = {
	{ "bounces signed eight at a time: the same bytes",
	  test_bounces_signed_together },
	{ "docs/protocol.md version 2 worked examples", test_examples },
	{ "one version per appliance", test_classify_versions },
	{ "bounces need a live epoch and a good checksum",
	  test_bounce_needs_live_epoch },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("pkt_v2", NULL, NULL, v2_tests)
