/* Unit tests of or_pkt_decide and or_arp_reply: exact output frames (every
 * byte compared with a frame built independently by test_pkt_util.h),
 * checksums recomputed, and a fuzz run over mutated frames in buffers of
 * exactly their length (run with SAN=1 to prove no read past len). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "or_test.h"
#include "test_pkt_util.h"

/* arp_class() hands or_pkt_classify (inline) exactly-sized heap copies, so
 * ASan catches any read past the frame. GCC 12 then warns that the OR
 * header struct would not fit in a short one, on a path the length checks
 * before it never take. */
#pragma GCC diagnostic ignored "-Warray-bounds"

#define REC_IN or_rec_make(OR_STATE_IN, T_NODE, 3, 0)
#define REC_OUT or_rec_make(OR_STATE_OUT, T_NODE, 3, 0)

#define NH_COUNT 8

static void
nh_table(struct or_nexthop *nh)
{
	memset(nh, 0, sizeof(*nh) * NH_COUNT);
	nh[T_NODE] = t_nh();
}

struct result {
	enum or_verdict verdict;
	uint16_t len;
	uint16_t port;
	enum or_drop_reason reason;
	uint8_t out[T_FRAME_MAX];
};

/* Classifies and decides a copy of f held in exactly len bytes. */
static void
run_exact(const uint8_t *f, uint16_t len, uint32_t srec, uint32_t rrec,
	  const struct or_nexthop *nh, unsigned nh_count, struct result *r)
{
	struct or_port_addr pa = t_pa();
	struct or_pkt_info info;
	uint8_t *b = malloc(len);

	CU_ASSERT_FATAL(b != NULL);
	memcpy(b, f, len);
	CU_ASSERT_EQUAL_FATAL(or_pkt_classify(b, len, &pa, &info), OR_PKT_MSG);
	r->len = len;
	r->port = 0xdead;
	r->reason = OR_DROP_MAX;
	r->verdict = or_pkt_decide(b, &r->len, &info, srec, rrec, nh, nh_count,
			       &pa, NULL, 0, &r->port, &r->reason);
	CU_ASSERT_FATAL(r->len <= len);
	memcpy(r->out, b, r->len);
	free(b);
}

static void
check_deliver(int vlan, uint16_t plen, int udp_ck, uint16_t pad)
{
	_Alignas(8) uint8_t f[T_FRAME_MAX], want[T_FRAME_MAX];
	struct or_nexthop nh[NH_COUNT];
	struct t_spec s = t_spec_msg(vlan, plen), e;
	struct result r;
	uint16_t len, wlen, l3 = t_l3(&s);

	nh_table(nh);
	s.udp_ck = udp_ck;
	s.pad = pad;
	len = t_build(f, &s);

	e = s;
	e.dmac = t_nh_dst_mac;
	e.smac = t_nh_src_mac;
	e.sip = T_NH_SRC_IP;
	e.dip = T_NH_DST_IP;
	e.ttl = 63;
	e.sport = T_APP_PORT;
	e.dport = T_NH_DST_PORT;
	e.pad = 0; /* padding trimmed */
	wlen = t_build(want, &e);

	run_exact(f, len, REC_IN, REC_IN, nh, NH_COUNT, &r);
	CU_ASSERT_EQUAL_FATAL(r.verdict, OR_VERDICT_DELIVER);
	CU_ASSERT_EQUAL(r.port, T_NH_PORT_ID);
	CU_ASSERT_EQUAL(r.reason, OR_DROP_MAX); /* untouched */
	CU_ASSERT_EQUAL_FATAL(r.len, wlen);
	CU_ASSERT(memcmp(r.out, want, wlen) == 0);
	/* The same, stated without the builder. */
	CU_ASSERT(t_sum(r.out + l3, 20, 0) == 0xffff);
	if (udp_ck) {
		CU_ASSERT_EQUAL(t_get16(r.out + l3 + 26),
				t_udp_csum(r.out, l3));
	} else {
		CU_ASSERT_EQUAL(t_get16(r.out + l3 + 26), 0);
	}
	CU_ASSERT(memcmp(r.out + l3 + 28, f + l3 + 28, OR_HDR_LEN + plen) == 0);
	if (vlan)
		CU_ASSERT(memcmp(r.out + 12, f + 12, 4) == 0);
}

static void
test_deliver(void)
{
	for (int v = 0; v < 2; v++)
		for (int ck = 0; ck < 2; ck++) {
			check_deliver(v, 0, ck, 0);
			check_deliver(v, 1, ck, 0);
			check_deliver(v, 333, ck, 0);
			check_deliver(v, 5, ck, 17);
		}
}

/* Incremental UDP and IPv4 checksum updates against full recomputation,
 * over many random addresses, ports, TTLs and payloads (covers the
 * 0 -> 0xffff case). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static void
test_deliver_csum_random(void)
{
	struct or_nexthop nh[NH_COUNT];
	unsigned i, bad = 0, ffff = 0;

	nh_table(nh);
	for (i = 0; i < 20000; i++) {
		_Alignas(8) uint8_t f[T_FRAME_MAX];
		struct t_spec s = t_spec_msg(i & 1, (uint16_t)(rng() % 64));
		struct result r;
		uint16_t len, l3 = t_l3(&s), ck;

		s.sip = 0x0a000000u | (rng() & 0xffffff); /* 10/8 */
		s.sport = (uint16_t)(rng() | 1);
		s.ttl = (uint8_t)(2 + rng() % 254);
		s.ip_id = (uint16_t)rng();
		s.msg_id = ((uint64_t)rng() << 32) | rng();
		nh[T_NODE].src_ip = rte_cpu_to_be_32(rng());
		nh[T_NODE].dst_ip = rte_cpu_to_be_32(rng());
		nh[T_NODE].src_udp = (uint16_t)rng();
		nh[T_NODE].dst_udp = (uint16_t)rng();
		len = t_build(f, &s);
		/* Random payload bytes, checksum fixed after. */
		for (unsigned j = 0; j < s.payload_len; j++)
			f[l3 + 28 + OR_HDR_LEN + j] = (uint8_t)rng();
		t_fix_udp_csum(f, l3);
		run_exact(f, len, REC_IN, REC_IN, nh, NH_COUNT, &r);
		CU_ASSERT_EQUAL_FATAL(r.verdict, OR_VERDICT_DELIVER);
		ck = t_get16(r.out + l3 + 26);
		if (ck != t_udp_csum(r.out, l3) ||
		    t_sum(r.out + l3, 20, 0) != 0xffff)
			bad++;
		ffff += ck == 0xffff;
	}
	CU_ASSERT_EQUAL(bad, 0);
	(void)ffff; /* reached about 1 in 65536; not asserted */
}

/* Special case: input checksum chosen so that the output sum is zero,
 * which must go out as 0xffff, never 0 (= "no checksum"). */
static void
test_deliver_csum_zero_case(void)
{
	struct or_nexthop nh[NH_COUNT];
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct t_spec s = t_spec_msg(0, 2);
	struct result r;
	uint16_t len, l3 = 14, ck;

	nh_table(nh);
	len = t_build(f, &s);
	run_exact(f, len, REC_IN, REC_IN, nh, NH_COUNT, &r);
	ck = t_get16(r.out + l3 + 26);
	/* Adjust two payload bytes so the output checksum becomes 0xffff,
	 * i.e. the rest sums to 0: add ck to the payload word (mod 0xffff). */
	{
		uint32_t w = t_get16(f + l3 + 28 + OR_HDR_LEN) + (uint32_t)ck;

		w = (w & 0xffff) + (w >> 16);
		t_put16(f + l3 + 28 + OR_HDR_LEN, (uint16_t)w);
	}
	t_fix_udp_csum(f, l3);
	run_exact(f, len, REC_IN, REC_IN, nh, NH_COUNT, &r);
	CU_ASSERT_EQUAL(t_get16(r.out + l3 + 26), 0xffff);
	CU_ASSERT_EQUAL(t_udp_csum(r.out, l3), 0xffff);
}

/* A bad UDP checksum is carried through delivery, still bad. */
static void
test_deliver_keeps_csum_error(void)
{
	struct or_nexthop nh[NH_COUNT];
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct t_spec s = t_spec_msg(0, 40);
	struct result r;
	uint16_t len;

	nh_table(nh);
	len = t_build(f, &s);
	f[14 + 28 + OR_HDR_LEN + 3] ^= 0x10; /* corrupt the payload */
	run_exact(f, len, REC_IN, REC_IN, nh, NH_COUNT, &r);
	CU_ASSERT_EQUAL_FATAL(r.verdict, OR_VERDICT_DELIVER);
	CU_ASSERT_NOT_EQUAL(t_get16(r.out + 14 + 26), t_udp_csum(r.out, 14));
}

static uint16_t
build_bounce_want(uint8_t *want, const struct t_spec *s)
{
	struct t_spec e = *s;

	e.dmac = t_cli_mac;
	e.smac = t_app_mac;
	e.sip = T_APP_IP;
	e.dip = s->sip;
	e.ttl = OR_BOUNCE_TTL;
	e.sport = T_APP_PORT;
	e.dport = s->sport;
	e.udp_ck = 1;
	e.type = OR_TYPE_BOUNCE;
	e.reason = OR_REASON_RECIPIENT_UNAVAILABLE;
	e.payload_len = 0;
	e.pad = 0;
	return t_build(want, &e);
}

static void
check_bounce(int vlan, uint16_t plen, int udp_ck, uint16_t pad)
{
	const uint32_t rrecs[] = {
		0, /* never registered */
		or_rec_make(OR_STATE_OUT, T_NODE, 3, 0),
		or_rec_make(OR_STATE_OUT, 0, 0, 0),
		or_rec_make(OR_STATE_OUT, 0xffff, 9, OR_CFLAG_PINNED),
	};
	_Alignas(8) uint8_t f[T_FRAME_MAX], want[T_FRAME_MAX];
	struct or_nexthop nh[NH_COUNT];
	struct t_spec s = t_spec_msg(vlan, plen);
	struct result r, first;
	uint16_t len, wlen, l3 = t_l3(&s);
	unsigned i;

	nh_table(nh);
	s.udp_ck = udp_ck;
	s.pad = pad;
	s.ttl = 9; /* the bounce resets it */
	len = t_build(f, &s);
	wlen = build_bounce_want(want, &s);

	for (i = 0; i < RTE_DIM(rrecs); i++) {
		run_exact(f, len, REC_IN, rrecs[i], nh, NH_COUNT, &r);
		CU_ASSERT_EQUAL_FATAL(r.verdict, OR_VERDICT_BOUNCE);
		CU_ASSERT_EQUAL(r.port, 0xdead); /* not set on bounce */
		CU_ASSERT_EQUAL_FATAL(r.len, l3 + 20 + 8 + OR_HDR_LEN);
		CU_ASSERT_EQUAL_FATAL(r.len, wlen);
		CU_ASSERT(memcmp(r.out, want, wlen) == 0);
		CU_ASSERT(t_sum(r.out + l3, 20, 0) == 0xffff);
		CU_ASSERT_EQUAL(t_get16(r.out + l3 + 26),
				t_udp_csum(r.out, l3));
		if (i == 0)
			first = r;
		else
			CU_ASSERT(memcmp(r.out, first.out, r.len) == 0);
	}
}

static void
test_bounce(void)
{
	for (int v = 0; v < 2; v++)
		for (int ck = 0; ck < 2; ck++) {
			check_bounce(v, 0, ck, 0);
			check_bounce(v, 1, ck, 0);
			check_bounce(v, 700, ck, 0);
			check_bounce(v, 2, ck, 9);
		}
}

/* Bounces of random frames (addresses, ports, TTL, TOS, id, flags, epoch,
 * reason byte, payload) against the expected frame built from scratch:
 * the checksums, computed without reading back what was rewritten, must
 * equal full recomputation. */
static void
test_bounce_random(void)
{
	_Alignas(8) uint8_t f[T_FRAME_MAX], want[T_FRAME_MAX];
	struct or_nexthop nh[NH_COUNT];
	unsigned i, bad = 0;

	nh_table(nh);
	for (i = 0; i < 20000; i++) {
		struct t_spec s = t_spec_msg(i & 1, (uint16_t)(rng() % 300));
		struct result r;
		uint16_t len, wlen, l3 = t_l3(&s);

		s.sip = 0x0a000000u | (rng() & 0xffffff); /* 10/8 */
		s.sport = (uint16_t)(rng() | 1);
		s.ttl = (uint8_t)(2 + rng() % 254);
		s.tos = (uint8_t)rng();
		s.ip_id = (uint16_t)rng();
		s.flags = (uint8_t)rng();
		s.epoch = (uint8_t)rng();
		s.reason = (uint8_t)rng(); /* ignored in a MSG, replaced */
		s.msg_id = ((uint64_t)rng() << 32) | rng();
		s.udp_ck = (i >> 1) & 1;
		len = t_build(f, &s);
		for (unsigned j = 0; j < s.payload_len; j++)
			f[l3 + 28 + OR_HDR_LEN + j] = (uint8_t)rng();
		if (s.udp_ck)
			t_fix_udp_csum(f, l3);
		wlen = build_bounce_want(want, &s);
		run_exact(f, len, REC_IN, 0, nh, NH_COUNT, &r);
		CU_ASSERT_EQUAL_FATAL(r.verdict, OR_VERDICT_BOUNCE);
		CU_ASSERT_EQUAL_FATAL(r.len, wlen);
		bad += memcmp(r.out, want, wlen) != 0 ||
		       t_sum(r.out + l3, 20, 0) != 0xffff ||
		       t_get16(r.out + l3 + 26) != t_udp_csum(r.out, l3);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Decisions that drop leave the frame as it was. */
static void
check_drop(const uint8_t *f, uint16_t len, uint32_t srec, uint32_t rrec,
	   const struct or_nexthop *nh, unsigned n, enum or_drop_reason want)
{
	struct result r;

	run_exact(f, len, srec, rrec, nh, n, &r);
	CU_ASSERT_EQUAL(r.verdict, OR_VERDICT_DROP);
	CU_ASSERT_EQUAL(r.reason, want);
	CU_ASSERT_EQUAL(r.len, len);
	CU_ASSERT_EQUAL(r.port, 0xdead);
	CU_ASSERT(memcmp(r.out, f, len) == 0);
}

static void
test_sender_not_opted_in(void)
{
	struct or_nexthop nh[NH_COUNT];
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct t_spec s = t_spec_msg(1, 30);
	uint16_t len = t_build(f, &s);
	const uint32_t srecs[] = {0, REC_OUT,
				  or_rec_make(OR_STATE_OUT, 0, 0, 0)};

	nh_table(nh);
	for (unsigned i = 0; i < RTE_DIM(srecs); i++) {
		check_drop(f, len, srecs[i], REC_IN, nh, NH_COUNT,
			   OR_DROP_SENDER_NOT_OPTED_IN);
		check_drop(f, len, srecs[i], REC_OUT, nh, NH_COUNT,
			   OR_DROP_SENDER_NOT_OPTED_IN);
		check_drop(f, len, srecs[i], 0, nh, NH_COUNT,
			   OR_DROP_SENDER_NOT_OPTED_IN);
	}
}

static void
test_no_route(void)
{
	struct or_nexthop nh[NH_COUNT];
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct t_spec s = t_spec_msg(0, 30);
	uint16_t len = t_build(f, &s);

	nh_table(nh);
	/* Node beyond the table, node with an invalid entry, empty table. */
	check_drop(f, len, REC_IN, or_rec_make(OR_STATE_IN, NH_COUNT, 3, 0),
		   nh, NH_COUNT, OR_DROP_NO_ROUTE);
	check_drop(f, len, REC_IN, or_rec_make(OR_STATE_IN, 0xffff, 3, 0),
		   nh, NH_COUNT, OR_DROP_NO_ROUTE);
	check_drop(f, len, REC_IN, or_rec_make(OR_STATE_IN, 2, 3, 0), nh,
		   NH_COUNT, OR_DROP_NO_ROUTE);
	check_drop(f, len, REC_IN, REC_IN, nh, T_NODE, OR_DROP_NO_ROUTE);
	check_drop(f, len, REC_IN, REC_IN, NULL, 0, OR_DROP_NO_ROUTE);
	nh[T_NODE].valid = 0;
	check_drop(f, len, REC_IN, REC_IN, nh, NH_COUNT, OR_DROP_NO_ROUTE);
}

static void
test_bounce_bad_udp_csum(void)
{
	struct or_nexthop nh[NH_COUNT];
	_Alignas(8) uint8_t f[T_FRAME_MAX];
	struct t_spec s = t_spec_msg(0, 30);
	uint16_t len = t_build(f, &s);

	nh_table(nh);
	f[14 + 28 + 20] ^= 1; /* a sender token bit */
	check_drop(f, len, REC_IN, REC_OUT, nh, NH_COUNT,
		   OR_DROP_BAD_UDP_CSUM);
	check_drop(f, len, REC_IN, 0, nh, NH_COUNT, OR_DROP_BAD_UDP_CSUM);
}

/* ---------------------------------------------------------------- ARP */

static uint16_t
build_arp(uint8_t *f, int vlan, uint16_t op, const struct rte_ether_addr *d,
	  uint32_t tip, uint16_t pad)
{
	uint16_t l3 = vlan ? 18 : 14;
	uint8_t *a = f + l3;

	memset(f, 0, (size_t)l3 + 28 + pad);
	memcpy(f, d->addr_bytes, 6);
	memcpy(f + 6, t_cli_mac.addr_bytes, 6);
	if (vlan) {
		t_put16(f + 12, RTE_ETHER_TYPE_VLAN);
		t_put16(f + 14, 0x0064);
	}
	t_put16(f + l3 - 2, RTE_ETHER_TYPE_ARP);
	t_put16(a, 1);
	t_put16(a + 2, RTE_ETHER_TYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	t_put16(a + 6, op);
	memcpy(a + 8, t_cli_mac.addr_bytes, 6);
	t_put32(a + 14, T_CLI_IP);
	t_put32(a + 24, tip);
	memset(a + 28, 0x5a, pad); /* padding must survive */
	return (uint16_t)(l3 + 28 + pad);
}

static int
arp_class(const uint8_t *f, uint16_t len, uint8_t *reason)
{
	struct or_port_addr pa = t_pa();
	struct or_pkt_info info;
	uint8_t *b = malloc(len ? len : 1);
	int c;

	memcpy(b, f, len);
	c = or_pkt_classify(b, len, &pa, &info);
	*reason = info.reason;
	free(b);
	return c;
}

static void
test_arp(void)
{
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff,
						     0xff, 0xff}};
	struct or_port_addr pa = t_pa();

	for (int v = 0; v < 2; v++)
		for (int pad = 0; pad < 20; pad += 18) {
			_Alignas(8) uint8_t f[T_FRAME_MAX], w[T_FRAME_MAX];
			uint16_t l3 = v ? 18 : 14, len, l;
			uint8_t rs;
			uint8_t *b;

			len = build_arp(f, v, 1, &bcast, T_APP_IP, pad);
			CU_ASSERT_EQUAL(arp_class(f, len, &rs),
					OR_PKT_ARP_REQUEST);
			/* Expected reply, byte by byte. */
			memcpy(w, f, len);
			memcpy(w, t_cli_mac.addr_bytes, 6);
			memcpy(w + 6, t_app_mac.addr_bytes, 6);
			t_put16(w + l3 + 6, 2);
			memcpy(w + l3 + 8, t_app_mac.addr_bytes, 6);
			t_put32(w + l3 + 14, T_APP_IP);
			memcpy(w + l3 + 18, t_cli_mac.addr_bytes, 6);
			t_put32(w + l3 + 24, T_CLI_IP);
			b = malloc(len);
			memcpy(b, f, len);
			CU_ASSERT_EQUAL(or_arp_reply(b, len, &pa), 0);
			CU_ASSERT(memcmp(b, w, len) == 0);
			/* The reply itself is not a request for us. */
			CU_ASSERT_EQUAL(or_arp_reply(b, len, &pa), -EINVAL);
			CU_ASSERT(memcmp(b, w, len) == 0);
			free(b);

			/* Unicast to us is answered too. */
			len = build_arp(f, v, 1, &t_app_mac, T_APP_IP, pad);
			CU_ASSERT_EQUAL(arp_class(f, len, &rs),
					OR_PKT_ARP_REQUEST);

			/* Truncated at every length. */
			for (l = 0; l < l3 + 28; l++)
				if (arp_class(f, l, &rs) != OR_PKT_DROP ||
				    rs != OR_DROP_TRUNCATED) {
					CU_FAIL("ARP prefix not TRUNCATED");
					break;
				}

			/* Not for us: other target, a reply, unicast to
			 * another MAC. */
			len = build_arp(f, v, 1, &bcast, T_APP_IP + 1, pad);
			CU_ASSERT_EQUAL(arp_class(f, len, &rs), OR_PKT_DROP);
			CU_ASSERT_EQUAL(rs, OR_DROP_ARP_NOT_FOR_US);
			len = build_arp(f, v, 2, &t_app_mac, T_APP_IP, pad);
			CU_ASSERT_EQUAL(arp_class(f, len, &rs), OR_PKT_DROP);
			CU_ASSERT_EQUAL(rs, OR_DROP_ARP_NOT_FOR_US);
			len = build_arp(f, v, 1, &t_nh_dst_mac, T_APP_IP, pad);
			CU_ASSERT_EQUAL(arp_class(f, len, &rs), OR_PKT_DROP);
			CU_ASSERT_EQUAL(rs, OR_DROP_ARP_NOT_FOR_US);
			b = malloc(len);
			memcpy(b, f, len);
			CU_ASSERT_EQUAL(or_arp_reply(b, len, &pa), -EINVAL);
			CU_ASSERT(memcmp(b, f, len) == 0);
			free(b);

			/* Malformed: hardware type, protocol, lengths,
			 * group sender hardware address. */
			for (int k = 0; k < 5; k++) {
				len = build_arp(f, v, 1, &bcast, T_APP_IP, pad);
				switch (k) {
				case 0: t_put16(f + l3, 6); break;
				case 1: t_put16(f + l3 + 2, 0x86dd); break;
				case 2: f[l3 + 4] = 8; break;
				case 3: f[l3 + 5] = 16; break;
				case 4: f[l3 + 8] = 0x01; break;
				}
				CU_ASSERT_EQUAL(arp_class(f, len, &rs),
						OR_PKT_DROP);
				CU_ASSERT_EQUAL(rs, OR_DROP_BAD_ARP);
			}
		}
}

/* ---------------------------------------------------------------- fuzz */

static void
mutate(uint8_t *f, uint16_t *len, uint16_t l3)
{
	unsigned n = 1 + rng() % 4;

	while (n--) {
		uint32_t x = rng();
		/* Mostly the headers, where the checks are. */
		uint16_t at = (x & 3) ? (uint16_t)(rng() % (l3 + 28 + 70)) :
					(uint16_t)(rng() % *len);

		if (at >= *len)
			continue;
		switch ((x >> 2) % 4) {
		case 0: f[at] ^= (uint8_t)(1 << (rng() % 8)); break;
		case 1: f[at] = (uint8_t)rng(); break;
		case 2: f[at] = (x & 0x100) ? 0xff : 0; break;
		case 3: f[at] = (uint8_t)(f[at] + 1); break;
		}
	}
	switch (rng() % 8) {
	case 0: *len = (uint16_t)(rng() % (*len + 1)); break; /* truncate */
	case 1: *len = (uint16_t)(*len + rng() % 64); break;  /* grow */
	default: break;
	}
	/* Fix the checksums half the time so deeper checks are reached. */
	if ((rng() & 1) && *len >= l3 + 20 && (f[l3] & 0xf) == 5)
		t_fix_ip_csum(f, l3);
}

static void
test_fuzz(void)
{
	const uint32_t recs[] = {0, REC_IN, REC_OUT,
					or_rec_make(OR_STATE_IN, 7, 0, 0),
					or_rec_make(OR_STATE_IN, 0xffff, 0, 0)};
	struct or_port_addr pa = t_pa();
	struct or_nexthop nh[NH_COUNT];
	unsigned seen[3] = {0}, verdicts[3] = {0}, reasons[OR_DROP_MAX] = {0};
	unsigned i, nr = 0;

	nh_table(nh);
	for (i = 0; i < 6000; i++) {
		_Alignas(8) uint8_t f[T_FRAME_MAX + 64];
		struct t_spec s = t_spec_msg(rng() & 1, (uint16_t)(rng() % 200));
		struct or_pkt_info info;
		enum or_drop_reason reason = OR_DROP_NONE;
		uint16_t len, olen, port;
		enum or_pkt_class c;
		uint8_t *b;

		s.udp_ck = rng() & 1;
		s.pad = (uint16_t)(rng() % 3 == 0 ? rng() % 30 : 0);
		len = t_build(f, &s);
		memset(f + len, (int)rng(), 64);
		mutate(f, &len, t_l3(&s));

		b = malloc(len ? len : 1);
		CU_ASSERT_FATAL(b != NULL);
		memcpy(b, f, len);
		c = or_pkt_classify(b, len, &pa, &info);
		CU_ASSERT_FATAL(c <= OR_PKT_ARP_REQUEST);
		seen[c]++;
		if (c == OR_PKT_DROP) {
			CU_ASSERT_FATAL(info.reason > OR_DROP_NONE &&
					info.reason < OR_DROP_MAX);
			reasons[info.reason]++;
		} else if (c == OR_PKT_ARP_REQUEST) {
			CU_ASSERT(or_arp_reply(b, len, &pa) == 0);
		} else {
			enum or_verdict a;

			CU_ASSERT_FATAL(info.ip_end <= len);
			CU_ASSERT_FATAL((const uint8_t *)info.recipient + 16 <=
					b + len);
			olen = len;
			a = or_pkt_decide(b, &olen, &info, recs[rng() % 5],
					  recs[rng() % 5], nh, NH_COUNT, &pa, NULL, 0,
					  &port, &reason);
			CU_ASSERT_FATAL(a <= OR_VERDICT_BOUNCE && olen <= len);
			verdicts[a]++;
			if (a != OR_VERDICT_DROP) {
				CU_ASSERT(t_sum(b + info.l3_off, 20, 0) ==
					  0xffff);
			} else {
				CU_ASSERT(reason == OR_DROP_SENDER_NOT_OPTED_IN ||
					  reason == OR_DROP_NO_ROUTE ||
					  reason == OR_DROP_BAD_UDP_CSUM);
			}
			if (a == OR_VERDICT_BOUNCE)
				CU_ASSERT_EQUAL(t_get16(b + info.l3_off + 26),
						t_udp_csum(b, info.l3_off));
		}
		free(b);
	}
	for (i = 1; i < OR_DROP_MAX; i++)
		nr += reasons[i] != 0;
	/* The run reached deep: all three outcomes and many drop reasons. */
	CU_ASSERT(seen[OR_PKT_MSG] > 100);
	CU_ASSERT(verdicts[OR_VERDICT_DELIVER] > 10 &&
		  verdicts[OR_VERDICT_BOUNCE] > 10 &&
		  verdicts[OR_VERDICT_DROP] > 10);
	CU_ASSERT(nr >= 15);
}

static CU_TestInfo decide_tests[] = {
	{"deliver: exact frame", test_deliver},
	{"deliver: incremental UDP checksum, random", test_deliver_csum_random},
	{"deliver: UDP checksum 0 goes out as 0xffff",
	 test_deliver_csum_zero_case},
	{"deliver: UDP checksum error carried", test_deliver_keeps_csum_error},
	{"bounce: exact, same for absent and opted out", test_bounce},
	{"bounce: random frames, exact bytes and checksums", test_bounce_random},
	{"sender not opted in: drop", test_sender_not_opted_in},
	{"recipient node without next hop: drop", test_no_route},
	{"bounce: bad UDP checksum dropped", test_bounce_bad_udp_csum},
	{"ARP request and reply", test_arp},
	{"fuzz: mutations in exact-size buffers", test_fuzz},
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("pkt_decide", NULL, NULL, decide_tests)
