/* Sender authentication: the dataplane's AES-NI, SipHash and burst
 * verification against the reference (common/auth/auth.c, which is
 * OpenSSL's AES and libsodium's SipHash), published vectors, and the
 * keyring's validation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "optroute/auth.h"
#include "dataplane/auth/auth_verify.h"
#include "or_test.h"

static void
rand_bytes(void *p, size_t n)
{
	randombytes_buf(p, n);
}

/* FIPS-197 appendix C.1. */
static void
test_aes_fips197(void)
{
	static const uint8_t key[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
					 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
					 0x0c, 0x0d, 0x0e, 0x0f };
	static const uint8_t pt[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
					0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
					0xcc, 0xdd, 0xee, 0xff };
	static const uint8_t ct[16] = { 0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b,
					0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80,
					0x70, 0xb4, 0xc5, 0x5a };
	struct or_aes128_rk rk;
	struct or_auth_key k, out;
	struct or_token t;
	uint8_t got[16];

	or_aes128_expand(key, &rk);
	_mm_storeu_si128((__m128i *)got,
			 or_aes128_enc(&rk, _mm_loadu_si128((const __m128i *)pt)));
	CU_ASSERT_EQUAL(memcmp(got, ct, 16), 0);

	memcpy(k.b, key, 16);
	memcpy(t.b, pt, 16);
	CU_ASSERT_EQUAL(or_auth_sender_key(&k, &t, &out), 0);
	CU_ASSERT_EQUAL(memcmp(out.b, ct, 16), 0);
}

/* AES-NI (one block and four per VAES instruction) equals OpenSSL. */
static void
test_aes_matches_reference(void)
{
	for (unsigned it = 0; it < 2000; it++) {
		struct or_auth_key k, ref;
		struct or_aes128_rk rk;
		struct or_token t;
		uint8_t got[16];

		rand_bytes(&k, sizeof(k));
		rand_bytes(&t, sizeof(t));
		CU_ASSERT_EQUAL_FATAL(or_auth_sender_key(&k, &t, &ref), 0);
		or_aes128_expand(k.b, &rk);
		_mm_storeu_si128((__m128i *)got,
				 or_aes128_enc(&rk, _mm_loadu_si128(
							    (const __m128i *)t.b)));
		CU_ASSERT_EQUAL(memcmp(got, ref.b, 16), 0);
	}
}

/* The 60-byte SipHash-2-4 equals libsodium's crypto_shorthash. */
static void
test_siphash_matches_reference(void)
{
	for (unsigned it = 0; it < 5000; it++) {
		uint8_t key[16], msg[OR_HDR_LEN], ref[8];
		uint64_t k0, k1, got;

		rand_bytes(key, sizeof(key));
		rand_bytes(msg, sizeof(msg));
		crypto_shorthash(ref, msg, OR_HDR2_TAG_OFF, key);
		memcpy(&k0, key, 8);
		memcpy(&k1, key + 8, 8);
		got = or_sip_hdr(k0, k1, msg);
		CU_ASSERT_EQUAL(memcmp(&got, ref, 8), 0);
	}
}

/* A keyring with epochs e0 (current) and e1 and their K_auth. */
static struct or_auth_keys ring;
static struct or_auth_key kauth[2];

static void
ring_install(unsigned n, uint8_t e0, uint8_t e1)
{
	struct or_chan_auth_keys m = { .version = OR_CHAN_AUTH_KEYS_VERSION,
				       .count = n };
	char err[128];

	m.keys[0].epoch = e0;
	m.keys[1].epoch = e1;
	memcpy(m.keys[0].key, kauth[0].b, 16);
	memcpy(m.keys[1].key, kauth[1].b, 16);
	CU_ASSERT_EQUAL_FATAL(or_keyring_install(&ring, &m, err, sizeof(err)), 0);
}

/* A signed version-2 header of a random sender under K_auth[slot]. */
static void
make_hdr(struct or_hdr2 *h, unsigned slot, uint8_t epoch)
{
	struct or_auth_key ks;

	rand_bytes(h, sizeof(*h));
	h->magic = htobe16(OR_PROTO_MAGIC);
	h->version = OR_PROTO_V2;
	h->type = OR_TYPE_MSG;
	h->key_epoch = epoch;
	CU_ASSERT_EQUAL_FATAL(or_auth_sender_key(&kauth[slot], &h->sender, &ks), 0);
	or_auth_sign(&ks, h);
	CU_ASSERT_TRUE(or_auth_check(&ks, h));
}

/* Bursts of every length up to 32 with both epochs mixed, unknown epochs
 * and bad tags: the burst verdicts (eight at a time where the CPU allows)
 * and the one-at-a-time ones agree with the reference. */
static void
test_verify_burst(void)
{
	rand_bytes(kauth, sizeof(kauth));
	ring_install(2, 7, 6);
	for (unsigned it = 0; it < 400; it++) {
		struct or_hdr2 hs[32];
		const uint8_t *hp[32];
		uint8_t v[32], vs[32], want[32];
		unsigned n = 1 + it % 32;

		for (unsigned i = 0; i < n; i++) {
			unsigned kind = (unsigned)randombytes_uniform(4);

			make_hdr(&hs[i], kind & 1, (kind & 1) ? 6 : 7);
			want[i] = OR_AUTH_OK;
			if (randombytes_uniform(4) == 0) {
				hs[i].auth_tag[randombytes_uniform(8)] ^= 0x10;
				want[i] = OR_AUTH_BAD_TAG;
			} else if (randombytes_uniform(6) == 0) {
				hs[i].key_epoch = 9;
				want[i] = OR_AUTH_UNKNOWN_EPOCH;
			} else if (randombytes_uniform(6) == 0) {
				/* Right tokens, the other epoch's key. */
				hs[i].key_epoch = (kind & 1) ? 7 : 6;
				want[i] = OR_AUTH_BAD_TAG;
			}
			hp[i] = (const uint8_t *)&hs[i];
		}
		or_auth_verify_burst(ring.live, hp, n, v);
		or_auth_verify_scalar(ring.live, hp, n, vs);
		CU_ASSERT_EQUAL(memcmp(v, want, n), 0);
		CU_ASSERT_EQUAL(memcmp(vs, want, n), 0);
	}
	or_keyring_destroy(&ring);
}

/* Flipping any bit of any header byte invalidates the tag: the 60 tagged
 * bytes through the hash, the 8 tag bytes through the compare. */
static void
test_every_field_flip(void)
{
	struct or_hdr2 h, c;
	const uint8_t *hp = (const uint8_t *)&c;
	uint8_t v;

	rand_bytes(kauth, sizeof(kauth));
	ring_install(1, 3, 0);
	make_hdr(&h, 0, 3);
	c = h;
	or_auth_verify_burst(ring.live, &hp, 1, &v);
	CU_ASSERT_EQUAL(v, OR_AUTH_OK);
	for (unsigned byte = 0; byte < OR_HDR_LEN; byte++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			c = h;
			((uint8_t *)&c)[byte] ^= (uint8_t)(1u << bit);
			or_auth_verify_burst(ring.live, &hp, 1, &v);
			/* The epoch byte may land on no live epoch. */
			CU_ASSERT_NOT_EQUAL(v, OR_AUTH_OK);
		}
	}
	or_keyring_destroy(&ring);
}

static void
test_keyring_validation(void)
{
	struct or_chan_auth_keys m = { .version = OR_CHAN_AUTH_KEYS_VERSION };
	uint8_t e[OR_KEYRING_MAX];
	char err[128];

	memset(&ring, 0, sizeof(ring));
	m.version = 2;
	CU_ASSERT_EQUAL(or_keyring_install(&ring, &m, err, sizeof(err)),
			-EPROTONOSUPPORT);
	m.version = OR_CHAN_AUTH_KEYS_VERSION;
	m.count = 3;
	CU_ASSERT_EQUAL(or_keyring_install(&ring, &m, err, sizeof(err)), -EINVAL);
	m.count = 2;
	m.keys[0].epoch = m.keys[1].epoch = 4;
	CU_ASSERT_EQUAL(or_keyring_install(&ring, &m, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NULL(ring.live);
	CU_ASSERT_EQUAL(or_keyring_epochs(&ring, e), 0);

	m.keys[1].epoch = 3;
	CU_ASSERT_EQUAL(or_keyring_install(&ring, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(or_keyring_epochs(&ring, e), 2);
	CU_ASSERT_EQUAL(e[0], 4);
	CU_ASSERT_EQUAL(e[1], 3);
	CU_ASSERT_EQUAL(or_keyring_slot(ring.live, 3), 1);
	CU_ASSERT_EQUAL(or_keyring_slot(ring.live, 5), -1);
	/* No epoch at all: everything is unknown. */
	m.count = 0;
	CU_ASSERT_EQUAL(or_keyring_install(&ring, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(or_keyring_slot(ring.live, 4), -1);
	CU_ASSERT_EQUAL(ring.installs, 2);
	or_keyring_destroy(&ring);
}

/* ---- no key left on the stack ------------------------------------------
 * The burst verification and signing keep K_auth's round keys and every
 * K_sender in vector registers and wipe those at the end
 * (auth_verify.h): a register the compiler spilled would leave a key in
 * the worker's stack, and in a core. Each call below runs in its own
 * frame, below the test's stack pointer; once it returned, the test
 * copies what lies there (without a call, which would overwrite it) and
 * looks for the keys. The release build is what must hold: a sanitizer
 * build keeps locals in memory on purpose, so the test is skipped there. */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_UNDEFINED__)
#define STACK_SCAN 32768

static uint8_t stack_copy[STACK_SCAN];

static __attribute__((noinline)) void
stack_verify(const uint8_t *const *hp, unsigned n, uint8_t *v)
{
	or_auth_verify_burst(ring.live, hp, n, v);
}

static __attribute__((noinline)) void
stack_sign(const uint8_t *const *hp, const int8_t *slot, unsigned n,
	   uint64_t *tag)
{
	or_auth_tag_burst(ring.live, hp, slot, n, tag);
}

/* The positive control: a key copied to a local, as a spill would. */
static __attribute__((noinline)) void
stack_leak(const struct or_auth_key *k)
{
	volatile uint8_t copy[256];

	for (unsigned i = 0; i < sizeof(copy); i++)
		copy[i] = k->b[i % 16];
	(void)copy[0];
}

/* Zeroes what the previous calls left below the caller. */
static __attribute__((noinline)) void
stack_clear(void)
{
	volatile uint8_t z[STACK_SCAN];

	for (unsigned i = 0; i < sizeof(z); i++)
		z[i] = 0;
	(void)z[0];
}

/* Whether any 8-byte half of the n keys is in the STACK_SCAN bytes below
 * the caller's stack pointer: the frames of the calls it just made. */
#define stack_find(keys, n)                                                   \
	({                                                                    \
		const volatile uint8_t *sp_;                                  \
		__asm__ volatile("mov %%rsp, %0" : "=r"(sp_));                \
		for (unsigned i_ = 0; i_ < STACK_SCAN; i_++)                  \
			stack_copy[i_] = sp_[(ptrdiff_t)i_ - STACK_SCAN];     \
		stack_has(keys, n);                                           \
	})

static int
stack_has(const struct or_auth_key *keys, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		for (unsigned half = 0; half < 2; half++)
			if (memmem(stack_copy, STACK_SCAN,
				   keys[k].b + 8 * half, 8) != NULL)
				return 1;
	return 0;
}

static void
test_no_key_on_stack(void)
{
	struct or_hdr2 hs[32];
	const uint8_t *hp[32];
	const uint8_t *hp0[32]; /* those of epoch 7 alone */
	struct or_auth_key keys[2 + 32];
	int8_t slot[32];
	uint8_t v[32];
	uint64_t tag[32];
	unsigned n0 = 0;

	rand_bytes(kauth, sizeof(kauth));
	ring_install(2, 7, 6);
	keys[0] = kauth[0];
	keys[1] = kauth[1];
	for (unsigned i = 0; i < 32; i++) {
		slot[i] = (int8_t)(i % 3 == 0);
		make_hdr(&hs[i], (unsigned)slot[i], slot[i] ? 6 : 7);
		CU_ASSERT_EQUAL_FATAL(or_auth_sender_key(&kauth[slot[i]],
							 &hs[i].sender,
							 &keys[2 + i]), 0);
		hp[i] = (const uint8_t *)&hs[i];
		if (slot[i] == 0)
			hp0[n0++] = hp[i];
	}
	/* The control: the scan finds a key where one was left. */
	stack_leak(&keys[5]);
	CU_ASSERT_EQUAL(stack_find(keys, 34), 1);
	stack_clear();
	CU_ASSERT_EQUAL(stack_find(keys, 34), 0);
	/* Every burst length of the verification (both epochs mixed, and
	 * one alone) and of the signing. */
	for (unsigned n = 1; n <= 32; n++) {
		stack_verify(hp, n, v);
		CU_ASSERT_EQUAL(stack_find(keys, 34), 0);
		for (unsigned i = 0; i < n; i++)
			CU_ASSERT_EQUAL(v[i], OR_AUTH_OK);
		stack_verify(hp0, n < n0 ? n : n0, v);
		CU_ASSERT_EQUAL(stack_find(keys, 34), 0);
		stack_sign(hp, slot, n, tag);
		CU_ASSERT_EQUAL(stack_find(keys, 34), 0);
	}
	or_keyring_destroy(&ring);
}
#else
static void
test_no_key_on_stack(void)
{
	printf("(skipped in a sanitizer build) ");
}
#endif

static CU_TestInfo auth_tests[] = {
	{ "AES-128 FIPS-197 C.1", test_aes_fips197 },
	{ "AES-NI equals OpenSSL", test_aes_matches_reference },
	{ "SipHash-2-4 equals libsodium", test_siphash_matches_reference },
	{ "burst verification equals the reference", test_verify_burst },
	{ "every header bit flipped fails", test_every_field_flip },
	{ "keyring validation", test_keyring_validation },
	{ "no key left on the stack", test_no_key_on_stack },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("auth", NULL, NULL, auth_tests)
